import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type CheckpointContents,
  CheckpointError,
  type CheckpointSaveStage,
  latestCheckpoint,
  loadCheckpoint,
  ModelMismatchError,
  pruneCheckpoints,
  saveCheckpoint,
  stepCheckpointPath,
} from './checkpoint';
import { readSafetensorsHeader } from './safetensors';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'checkpoint-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** Values chosen to catch any lossy path: NaN, -0, a subnormal, extremes. */
const awkwardValues = [Number.NaN, -0, 1e-45, 3.4028234663852886e38, -1 / 3, 0.1];

function contentsAt(step: number, options: { modelId?: string; attempt?: number } = {}): CheckpointContents {
  const values = (count: number, offset: number) =>
    Float32Array.from(
      { length: count },
      (_, index) => awkwardValues[(index + offset) % awkwardValues.length] + step,
    );
  return {
    modelId: options.modelId ?? 'mini-clip-d4',
    config: { dim: 4, heads: 2 },
    step,
    parameters: {
      'encoder.weight': { shape: [2, 3], data: values(6, 0) },
      'encoder.bias': { shape: [3], data: values(3, 1) },
    },
    optimizerState: {
      'encoder.weight.firstMoment': { shape: [2, 3], data: values(6, 2) },
      'encoder.weight.secondMoment': { shape: [2, 3], data: values(6, 3) },
    },
    optimizerConfig: { learningRate: 1e-3, betas: [0.9, 0.999] },
    extra: { attempt: options.attempt ?? 1, rngState: [1, 2, 3, 4] },
  };
}

/** Compares float data bit for bit, which toEqual does not (it equates NaNs and ignores payloads). */
function bitsOf(tensors: Record<string, { shape: number[]; data: Float32Array }> | undefined) {
  return Object.fromEntries(
    Object.entries(tensors ?? {}).map(([name, { shape, data }]) => [
      name,
      { shape, bits: [...new Uint32Array(data.buffer, data.byteOffset, data.length)] },
    ]),
  );
}

async function flipByte(path: string, position: number): Promise<void> {
  const bytes = await readFile(path);
  bytes[position] ^= 0xff;
  await writeFile(path, bytes);
}

describe('saveCheckpoint / loadCheckpoint', () => {
  it('round-trips parameters and optimizer state bit for bit, with the manifest fields', async () => {
    const checkpointDirectory = join(directory, 'run', 'step-000007');
    const saved = contentsAt(7);
    await saveCheckpoint(checkpointDirectory, saved);

    const loaded = await loadCheckpoint(checkpointDirectory, { expectedModelId: 'mini-clip-d4' });
    expect(bitsOf(loaded.parameters)).toEqual(bitsOf(saved.parameters));
    expect(bitsOf(loaded.optimizerState)).toEqual(bitsOf(saved.optimizerState));
    expect(loaded).toMatchObject({
      modelId: 'mini-clip-d4',
      step: 7,
      config: saved.config,
      optimizerConfig: saved.optimizerConfig,
      extra: saved.extra,
    });
    expect(Date.parse(loaded.createdAt)).not.toBeNaN();

    expect((await readdir(checkpointDirectory)).sort()).toEqual([
      'checkpoint.json',
      'model.safetensors',
      'optimizer.safetensors',
    ]);
    const manifest = JSON.parse(await readFile(join(checkpointDirectory, 'checkpoint.json'), 'utf8'));
    expect(manifest).toMatchObject({
      format: 'cir-checkpoint',
      formatVersion: 1,
      files: {
        'model.safetensors': { sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
        'optimizer.safetensors': { sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
      },
    });
    expect((await readSafetensorsHeader(join(checkpointDirectory, 'model.safetensors'))).metadata).toEqual({
      format: 'cir-checkpoint',
      modelId: 'mini-clip-d4',
      step: '7',
    });
  });

  it('omits the optimizer file when there is no optimizer state', async () => {
    const checkpointDirectory = join(directory, 'weights-only');
    const { optimizerState: _, ...withoutOptimizer } = contentsAt(1);
    await saveCheckpoint(checkpointDirectory, withoutOptimizer);

    expect(await readdir(checkpointDirectory)).not.toContain('optimizer.safetensors');
    expect(await loadCheckpoint(checkpointDirectory)).not.toHaveProperty('optimizerState');
  });

  it('replaces an existing checkpoint and leaves nothing beside it', async () => {
    const checkpointDirectory = join(directory, 'latest');
    await saveCheckpoint(checkpointDirectory, contentsAt(1));
    await saveCheckpoint(checkpointDirectory, contentsAt(2));

    expect((await loadCheckpoint(checkpointDirectory)).step).toBe(2);
    expect(await readdir(directory)).toEqual(['latest']);
  });

  it.each(['model.safetensors', 'optimizer.safetensors'])(
    'detects one corrupted byte in %s',
    async (fileName) => {
      const checkpointDirectory = join(directory, 'step-000001');
      await saveCheckpoint(checkpointDirectory, contentsAt(1));
      await flipByte(join(checkpointDirectory, fileName), 100);

      const error = await loadCheckpoint(checkpointDirectory).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(CheckpointError);
      expect((error as CheckpointError).file).toBe(join(checkpointDirectory, fileName));
      expect((error as Error).message).toMatch(/corrupt: sha256 is [0-9a-f]{64}, checkpoint\.json records/);
    },
  );

  it('names the missing file', async () => {
    const checkpointDirectory = join(directory, 'step-000001');
    await saveCheckpoint(checkpointDirectory, contentsAt(1));
    await rm(join(checkpointDirectory, 'optimizer.safetensors'));

    await expect(loadCheckpoint(checkpointDirectory)).rejects.toThrow(
      `${join(checkpointDirectory, 'optimizer.safetensors')}: missing`,
    );
    await expect(loadCheckpoint(join(directory, 'nowhere'))).rejects.toThrow(
      `${join(directory, 'nowhere', 'checkpoint.json')}: missing`,
    );
  });

  it('rejects a manifest it cannot trust', async () => {
    const checkpointDirectory = join(directory, 'step-000001');
    await saveCheckpoint(checkpointDirectory, contentsAt(1));
    const manifestPath = join(checkpointDirectory, 'checkpoint.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));

    await writeFile(manifestPath, JSON.stringify({ ...manifest, formatVersion: 99 }));
    await expect(loadCheckpoint(checkpointDirectory)).rejects.toThrow(
      'has format version 99; this reader supports 1',
    );
    await writeFile(manifestPath, '{"format": "cir-checkpoint",');
    await expect(loadCheckpoint(checkpointDirectory)).rejects.toThrow(`${manifestPath}: is not valid JSON`);
  });

  it('throws ModelMismatchError carrying the expected and actual model ids', async () => {
    const checkpointDirectory = join(directory, 'step-000001');
    await saveCheckpoint(checkpointDirectory, contentsAt(1, { modelId: 'mini-clip-d4' }));

    const error = await loadCheckpoint(checkpointDirectory, { expectedModelId: 'mini-clip-d8' }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ModelMismatchError);
    expect(error).toMatchObject({ expected: 'mini-clip-d8', actual: 'mini-clip-d4' });
    expect((error as Error).message).toContain(
      'saved for model "mini-clip-d4", but "mini-clip-d8" was expected',
    );
  });
});

describe('latestCheckpoint', () => {
  it('returns undefined for an empty or missing run directory', async () => {
    expect(await latestCheckpoint(directory)).toBeUndefined();
    expect(await latestCheckpoint(join(directory, 'missing'))).toBeUndefined();
  });

  it('returns the highest step, skipping one whose files are corrupt', async () => {
    for (const step of [5, 20, 100])
      await saveCheckpoint(stepCheckpointPath(directory, step), contentsAt(step));
    expect(await latestCheckpoint(directory)).toBe(join(directory, 'step-000100'));

    await flipByte(join(directory, 'step-000100', 'model.safetensors'), 200);
    expect(await latestCheckpoint(directory)).toBe(join(directory, 'step-000020'));
  });

  it('resumes from the last complete step after a crash left a partial save and an interrupted rename', async () => {
    await saveCheckpoint(stepCheckpointPath(directory, 5), contentsAt(5));
    // Killed while writing step 10: a temporary directory without its manifest.
    await saveCheckpoint(join(directory, 'scratch'), contentsAt(10));
    await rm(join(directory, 'scratch', 'checkpoint.json'));
    await rename(join(directory, 'scratch'), join(directory, 'step-000010.tmp-x'));
    // Killed while re-saving step 8, between moving the previous copy aside and renaming the new one in.
    await saveCheckpoint(stepCheckpointPath(directory, 8), contentsAt(8, { attempt: 1 }));
    await rename(join(directory, 'step-000008'), join(directory, 'step-000008.old-a'));
    await saveCheckpoint(join(directory, 'scratch'), contentsAt(8, { attempt: 2 }));
    await rename(join(directory, 'scratch'), join(directory, 'step-000008.tmp-b'));

    const latest = await latestCheckpoint(directory);
    expect(latest).toBe(join(directory, 'step-000008'));
    const loaded = await loadCheckpoint(latest!);
    expect(loaded.extra).toEqual({ attempt: 2, rngState: [1, 2, 3, 4] });
    expect(bitsOf(loaded.parameters)).toEqual(bitsOf(contentsAt(8).parameters));

    // The next save of that step clears what the crash left beside it.
    await saveCheckpoint(stepCheckpointPath(directory, 8), contentsAt(8, { attempt: 3 }));
    expect((await readdir(directory)).filter((name) => name.startsWith('step-000008'))).toEqual([
      'step-000008',
    ]);
  });

  it('restores a checkpoint left only under its old name', async () => {
    const checkpointDirectory = join(directory, 'latest');
    await saveCheckpoint(checkpointDirectory, contentsAt(3));
    await rename(checkpointDirectory, `${checkpointDirectory}.old-1234`);

    expect((await loadCheckpoint(checkpointDirectory)).step).toBe(3);
    expect(await readdir(directory)).toEqual(['latest']);
  });
});

describe('a crash at every stage of a save', () => {
  const crashAt = (crashStage: CheckpointSaveStage) => ({
    hooks: {
      afterStage: (stage: CheckpointSaveStage) => {
        if (stage === crashStage) throw new Error(`simulated kill -9 after ${stage}`);
      },
    },
  });

  async function stagesOfSave(checkpointDirectory: string): Promise<CheckpointSaveStage[]> {
    const stages: CheckpointSaveStage[] = [];
    await saveCheckpoint(checkpointDirectory, contentsAt(0), {
      hooks: { afterStage: (stage) => stages.push(stage) },
    });
    return stages;
  }

  // Before the new copy is renamed in, the previous checkpoint stands; from then on, the new one does.
  const stepAfterCrashWhileReplacing: Record<CheckpointSaveStage, number> = {
    'temporary-complete': 1,
    'previous-moved-aside': 2,
    'moved-into-place': 2,
  };

  it('covers every stage', async () => {
    const checkpointDirectory = join(directory, 'probe');
    expect(await stagesOfSave(checkpointDirectory)).toEqual(['temporary-complete', 'moved-into-place']);
    expect(await stagesOfSave(checkpointDirectory)).toEqual(Object.keys(stepAfterCrashWhileReplacing));
  });

  it.each(Object.entries(stepAfterCrashWhileReplacing) as [CheckpointSaveStage, number][])(
    'replacing a checkpoint, crash after %s still loads a complete one (step %i)',
    async (stage, expectedStep) => {
      const checkpointDirectory = join(directory, 'latest');
      await saveCheckpoint(checkpointDirectory, contentsAt(1));
      await expect(saveCheckpoint(checkpointDirectory, contentsAt(2), crashAt(stage))).rejects.toThrow(
        'simulated kill -9',
      );

      const loaded = await loadCheckpoint(checkpointDirectory, { expectedModelId: 'mini-clip-d4' });
      expect(loaded.step).toBe(expectedStep);
      expect(bitsOf(loaded.parameters)).toEqual(bitsOf(contentsAt(expectedStep).parameters));

      await saveCheckpoint(checkpointDirectory, contentsAt(3));
      expect((await loadCheckpoint(checkpointDirectory)).step).toBe(3);
      expect(await readdir(directory)).toEqual(['latest']);
    },
  );

  it.each(['temporary-complete', 'moved-into-place'] as const)(
    'saving a new step, crash after %s resumes from a complete step',
    async (stage) => {
      await saveCheckpoint(stepCheckpointPath(directory, 1), contentsAt(1));
      await expect(
        saveCheckpoint(stepCheckpointPath(directory, 2), contentsAt(2), crashAt(stage)),
      ).rejects.toThrow();

      // The new copy was complete in both cases, so resuming completes the interrupted save.
      const latest = await latestCheckpoint(directory);
      expect(latest).toBe(stepCheckpointPath(directory, 2));
      expect(bitsOf((await loadCheckpoint(latest!)).optimizerState)).toEqual(
        bitsOf(contentsAt(2).optimizerState),
      );
    },
  );

  it('cleans up after a failure while writing the files, keeping the previous checkpoint', async () => {
    const checkpointDirectory = join(directory, 'latest');
    await saveCheckpoint(checkpointDirectory, contentsAt(1));
    const broken = contentsAt(2);
    broken.parameters['encoder.bias'].shape = [4];

    await expect(saveCheckpoint(checkpointDirectory, broken)).rejects.toThrow(
      'does not describe the 3 values',
    );
    expect((await loadCheckpoint(checkpointDirectory)).step).toBe(1);
    expect(await readdir(directory)).toEqual(['latest']);
  });
});

describe('pruneCheckpoints', () => {
  it('keeps the newest complete checkpoints and deletes older ones with their debris', async () => {
    for (const step of [1, 2, 3, 4, 5])
      await saveCheckpoint(stepCheckpointPath(directory, step), contentsAt(step));
    await saveCheckpoint(join(directory, 'step-000002.tmp-debris'), contentsAt(2));
    await saveCheckpoint(join(directory, 'scratch'), contentsAt(6));
    await rm(join(directory, 'scratch', 'checkpoint.json'));
    await rename(join(directory, 'scratch'), join(directory, 'step-000006.tmp-partial'));

    const deleted = await pruneCheckpoints(directory, 2);

    expect(deleted.sort()).toEqual(
      ['step-000001', 'step-000002', 'step-000002.tmp-debris', 'step-000003'].map((name) =>
        join(directory, name),
      ),
    );
    expect((await readdir(directory)).sort()).toEqual([
      'step-000004',
      'step-000005',
      'step-000006.tmp-partial',
    ]);
    expect(await latestCheckpoint(directory)).toBe(join(directory, 'step-000005'));
  });

  it('rejects a negative count', async () => {
    await expect(pruneCheckpoints(directory, -1)).rejects.toThrow(RangeError);
  });
});
