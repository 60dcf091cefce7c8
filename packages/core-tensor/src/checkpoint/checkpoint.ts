import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { syncDirectory, writeFileAtomic, writeJsonAtomic } from './atomic-write';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from './safetensors';

/*
 * A checkpoint is a directory: model.safetensors, optimizer.safetensors (optional) and checkpoint.json, the
 * manifest, written last, that records the sha256 of the other files. A save builds `<directory>.tmp-<random>`,
 * moves an existing `<directory>` aside to `<directory>.old-<random>`, renames the new one in and removes the old
 * one, so that the final name only ever holds a complete checkpoint. A crash between the two renames leaves no
 * directory under the final name; the next load, `latestCheckpoint` or save completes that save.
 * One process writes a given checkpoint directory at a time.
 */

export type CheckpointTensor = { shape: number[]; data: Float32Array };

export type CheckpointContents = {
  /** Identity of the architecture and configuration; loading for another model fails loudly. */
  modelId: string;
  config: unknown;
  step: number;
  parameters: Record<string, CheckpointTensor>;
  /** Optimizer slots (moments…), keyed like the parameters they belong to or however the optimizer names them. */
  optimizerState?: Record<string, CheckpointTensor>;
  optimizerConfig?: unknown;
  extra?: unknown;
};

export type LoadedCheckpoint = CheckpointContents & { createdAt: string };

/** Points after which a save can be interrupted; a crash after any of them still leaves a loadable checkpoint. */
export type CheckpointSaveStage = 'temporary-complete' | 'previous-moved-aside' | 'moved-into-place';

export type SaveCheckpointOptions = {
  /** For crash tests: throwing from `afterStage` abandons the save at that point, as `kill -9` would. */
  hooks?: { afterStage?: (stage: CheckpointSaveStage) => void };
};

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';

  constructor(
    detail: string,
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${detail}`, options);
  }
}

export class ModelMismatchError extends Error {
  override readonly name = 'ModelMismatchError';

  constructor(
    readonly expected: string,
    readonly actual: string,
    readonly file: string,
  ) {
    super(`${file}: saved for model "${actual}", but "${expected}" was expected`);
  }
}

const manifestFormat = 'cir-checkpoint';
const manifestFormatVersion = 1;
const manifestFileName = 'checkpoint.json';
const modelFileName = 'model.safetensors';
const optimizerFileName = 'optimizer.safetensors';
const temporaryMarker = 'tmp-';
const previousMarker = 'old-';

type CheckpointManifest = {
  format: typeof manifestFormat;
  formatVersion: typeof manifestFormatVersion;
  modelId: string;
  step: number;
  createdAt: string;
  config: unknown;
  optimizerConfig?: unknown;
  extra?: unknown;
  /** Keyed by file name; the optimizer file is absent when no optimizer state was saved. */
  files: Record<string, { sha256: string }>;
};

/** `<runDirectory>/step-000123`: zero-padded so that names sort by step. */
export function stepCheckpointPath(runDirectory: string, step: number): string {
  return join(runDirectory, `step-${String(step).padStart(6, '0')}`);
}

export async function saveCheckpoint(
  directory: string,
  contents: CheckpointContents,
  options: SaveCheckpointOptions = {},
): Promise<void> {
  if (!Number.isSafeInteger(contents.step) || contents.step < 0) {
    throw new RangeError(`checkpoint step must be a non-negative integer, got ${contents.step}`);
  }
  const afterStage = options.hooks?.afterStage ?? (() => {});
  await recoverInterruptedSave(directory);
  // Whatever still lies beside `directory` is debris of a crashed save (we are the only writer).
  await Promise.all(
    (await listLeftovers(directory)).map((path) => rm(path, { recursive: true, force: true })),
  );

  const temporaryDirectory = `${directory}.${temporaryMarker}${randomToken()}`;
  try {
    await mkdir(temporaryDirectory, { recursive: true });
    await writeCheckpointFiles(temporaryDirectory, contents);
  } catch (error) {
    await rm(temporaryDirectory, { recursive: true, force: true });
    throw error;
  }
  afterStage('temporary-complete');

  let previousDirectory: string | undefined;
  if (await pathExists(directory)) {
    previousDirectory = `${directory}.${previousMarker}${randomToken()}`;
    await rename(directory, previousDirectory);
    afterStage('previous-moved-aside');
  }
  await rename(temporaryDirectory, directory);
  await syncDirectory(dirname(directory));
  afterStage('moved-into-place');
  if (previousDirectory !== undefined) await rm(previousDirectory, { recursive: true, force: true });
}

/**
 * Loads and verifies a checkpoint (sha256 of every file), first completing a save a crash interrupted. Throws `ModelMismatchError` when it was saved for another
 * model than `expectedModelId`, `CheckpointError` naming the file when one is missing or corrupt.
 */
export async function loadCheckpoint(
  directory: string,
  options: { expectedModelId?: string } = {},
): Promise<LoadedCheckpoint> {
  await recoverInterruptedSave(directory);
  const manifest = await readManifest(directory);
  if (options.expectedModelId !== undefined && manifest.modelId !== options.expectedModelId) {
    throw new ModelMismatchError(
      options.expectedModelId,
      manifest.modelId,
      join(directory, manifestFileName),
    );
  }
  const optimizerFile = manifest.files[optimizerFileName];
  return {
    modelId: manifest.modelId,
    config: manifest.config,
    step: manifest.step,
    createdAt: manifest.createdAt,
    parameters: await readTensors(directory, modelFileName, manifest),
    ...(optimizerFile === undefined
      ? {}
      : { optimizerState: await readTensors(directory, optimizerFileName, manifest) }),
    ...('optimizerConfig' in manifest ? { optimizerConfig: manifest.optimizerConfig } : {}),
    ...('extra' in manifest ? { extra: manifest.extra } : {}),
  };
}

/**
 * The newest verified `<runDirectory>/step-N` checkpoint, or undefined: how training resumes after `kill -9`. Saves that a
 * crash interrupted between their renames are completed first; partial and corrupt checkpoints are skipped.
 */
export async function latestCheckpoint(runDirectory: string): Promise<string | undefined> {
  for (const { path } of await listStepCheckpoints(runDirectory)) {
    await recoverInterruptedSave(path);
    if (await isVerifiedCheckpoint(path)) return path;
  }
  return undefined;
}

/**
 * Keeps the newest `keep` complete step checkpoints of `runDirectory` and deletes every older one, with the debris of
 * crashed saves of those steps. Returns the deleted paths.
 */
export async function pruneCheckpoints(runDirectory: string, keep: number): Promise<string[]> {
  if (!Number.isSafeInteger(keep) || keep < 0) {
    throw new RangeError(`keep must be a non-negative integer, got ${keep}`);
  }
  const deleted: string[] = [];
  let kept = 0;
  for (const { path, leftovers } of await listStepCheckpoints(runDirectory)) {
    if (kept < keep) {
      // The manifest suffices here: a directory under its final name is complete by construction, and hashing
      // every kept checkpoint on each prune would reread them all.
      if (await readManifest(path).then(() => true, ignoreCheckpointError)) kept++;
      continue;
    }
    for (const target of [path, ...leftovers]) {
      if (await pathExists(target)) {
        await rm(target, { recursive: true, force: true });
        deleted.push(target);
      }
    }
  }
  return deleted;
}

async function writeCheckpointFiles(directory: string, contents: CheckpointContents): Promise<void> {
  const metadata = { format: manifestFormat, modelId: contents.modelId, step: String(contents.step) };
  const files: CheckpointManifest['files'] = {};
  const write = async (fileName: string, tensors: Record<string, CheckpointTensor>) => {
    const bytes = encodeSafetensors(asNamedTensors(tensors), metadata);
    files[fileName] = { sha256: sha256(bytes) };
    await writeFileAtomic(join(directory, fileName), bytes);
  };
  await write(modelFileName, contents.parameters);
  if (contents.optimizerState !== undefined) await write(optimizerFileName, contents.optimizerState);

  const manifest: CheckpointManifest = {
    format: manifestFormat,
    formatVersion: manifestFormatVersion,
    modelId: contents.modelId,
    step: contents.step,
    createdAt: new Date().toISOString(),
    config: contents.config,
    optimizerConfig: contents.optimizerConfig,
    extra: contents.extra,
    files,
  };
  // Last, so that a manifest in a directory proves the files it lists were fully written.
  await writeJsonAtomic(join(directory, manifestFileName), manifest);
}

/**
 * If `directory` is missing but a crashed save left a verified copy beside it, renames that copy into place. A finished
 * `tmp` is preferred over an `old`: the old one is only moved aside once the new one is complete.
 */
async function recoverInterruptedSave(directory: string): Promise<void> {
  if (await pathExists(directory)) return;
  for (const candidate of await listLeftovers(directory)) {
    if (await isVerifiedCheckpoint(candidate)) {
      await rename(candidate, directory);
      await syncDirectory(dirname(directory));
      return;
    }
  }
}

async function isVerifiedCheckpoint(directory: string): Promise<boolean> {
  try {
    const manifest = await readManifest(directory);
    for (const fileName of Object.keys(manifest.files)) await readVerifiedFile(directory, fileName, manifest);
    return true;
  } catch (error) {
    return ignoreCheckpointError(error);
  }
}

function ignoreCheckpointError(error: unknown): false {
  if (error instanceof CheckpointError) return false;
  throw error;
}

async function readManifest(directory: string): Promise<CheckpointManifest> {
  const path = join(directory, manifestFileName);
  let manifest: unknown;
  try {
    manifest = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new CheckpointError('missing: not a complete checkpoint', path, { cause: error });
    if (error instanceof SyntaxError) throw new CheckpointError('is not valid JSON', path, { cause: error });
    throw error;
  }
  if (!isRecord(manifest) || manifest.format !== manifestFormat) {
    throw new CheckpointError(`is not a ${manifestFormat} manifest`, path);
  }
  if (manifest.formatVersion !== manifestFormatVersion) {
    throw new CheckpointError(
      `has format version ${JSON.stringify(manifest.formatVersion)}; this reader supports ${manifestFormatVersion}`,
      path,
    );
  }
  const { modelId, step, createdAt, files } = manifest;
  const validFiles =
    isRecord(files) &&
    isRecord(files[modelFileName]) &&
    Object.values(files).every((file) => isRecord(file) && typeof file.sha256 === 'string');
  if (
    typeof modelId !== 'string' ||
    !Number.isSafeInteger(step) ||
    typeof createdAt !== 'string' ||
    !validFiles
  ) {
    throw new CheckpointError('is missing modelId, step, createdAt or the files with their sha256', path);
  }
  return manifest as CheckpointManifest;
}

async function readVerifiedFile(
  directory: string,
  fileName: string,
  manifest: CheckpointManifest,
): Promise<Uint8Array> {
  const path = join(directory, fileName);
  const expected = manifest.files[fileName]?.sha256;
  if (expected === undefined) throw new CheckpointError(`is not listed in ${manifestFileName}`, path);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CheckpointError('missing', path, { cause: error });
    }
    throw error;
  }
  const actual = sha256(bytes);
  if (actual !== expected) {
    throw new CheckpointError(`corrupt: sha256 is ${actual}, ${manifestFileName} records ${expected}`, path);
  }
  return bytes;
}

async function readTensors(
  directory: string,
  fileName: string,
  manifest: CheckpointManifest,
): Promise<Record<string, CheckpointTensor>> {
  const path = join(directory, fileName);
  const { tensors } = decodeSafetensors(await readVerifiedFile(directory, fileName, manifest), {
    file: path,
  });
  return Object.fromEntries(
    Object.entries(tensors).map(([name, tensor]) => {
      if (tensor.dtype !== 'F32') {
        throw new CheckpointError(`tensor "${name}" is ${tensor.dtype}; checkpoints hold F32`, path);
      }
      return [name, { shape: tensor.shape, data: tensor.data as Float32Array }];
    }),
  );
}

function asNamedTensors(tensors: Record<string, CheckpointTensor>): Record<string, NamedTensor> {
  return Object.fromEntries(
    Object.entries(tensors).map(([name, { shape, data }]) => [name, { dtype: 'F32', shape, data }]),
  );
}

/** Step directories of `runDirectory`, newest first, with the debris crashed saves left beside each. */
async function listStepCheckpoints(runDirectory: string): Promise<{ path: string; leftovers: string[] }[]> {
  const steps = new Map<string, { step: number; path: string; leftovers: string[] }>();
  for (const entry of await listEntries(runDirectory)) {
    const match = /^(step-(\d+))(\.(?:tmp|old)-.+)?$/.exec(entry);
    if (match === null) continue;
    const [, name, digits, leftoverSuffix] = match;
    const step = steps.get(name) ?? { step: Number(digits), path: join(runDirectory, name), leftovers: [] };
    if (leftoverSuffix !== undefined) step.leftovers.push(join(runDirectory, entry));
    steps.set(name, step);
  }
  return [...steps.values()].sort((left, right) => right.step - left.step);
}

/** Leftovers of crashed saves of `directory`: `tmp` ones first. */
async function listLeftovers(directory: string): Promise<string[]> {
  const parent = dirname(directory);
  const entries = await listEntries(parent);
  const name = basename(directory);
  return [temporaryMarker, previousMarker].flatMap((marker) =>
    entries.filter((entry) => entry.startsWith(`${name}.${marker}`)).map((entry) => join(parent, entry)),
  );
}

async function listEntries(directory: string): Promise<string[]> {
  try {
    return await readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function randomToken(): string {
  return randomBytes(6).toString('hex');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
