import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { initBackend, type TrainingProgress, writeJsonAtomic } from '@cir/core-tensor';
import { MiniClipEncoder } from '@cir/encoders';
import type { FashionMtResult } from '@cir/eval';
import type { MaiConfig } from './config';
import { evaluateMaiModel, evaluateZeroShotBaselines } from './evaluate-mai';
import { type FashionMtData, loadFashionMtData } from './fashion-mt-data';
import { MaiFeatures } from './features';
import { loadMaiModel, saveMaiModel } from './mai-files';
import type { MaiModel } from './mai-model';
import type { MaiVariant } from './methods';
import { readTurnIntent } from './retrospective-text';
import { trainMai } from './train-mai';

export interface MaiContext {
  data: FashionMtData;
  features: MaiFeatures;
  encoderId: string;
  /** Where trained variants are kept, keyed by configuration, steps, seed and encoder. */
  modelsDirectory: string;
}

/** Default training length: enough for the tiny model to learn the synthetic world in a few minutes on 2 cores. */
export const DEFAULT_MAI_STEPS = 150;

/**
 * Loads FashionMT-format data and the frozen encoder, and encodes (or reads from the feature cache) the image and
 * caption tokens of the gallery and the token features of every modification text.
 * @param dataDirectory a world from `cir data generate` (or a FashionMT folder plus `captionsFile`)
 * @param encoderDirectory a mini encoder folder (default `<data>/encoder`, as `cir demo` writes it)
 */
export async function prepareMaiContext(options: {
  dataDirectory: string;
  encoderDirectory?: string;
  captionsFile?: string;
  cacheDirectory?: string;
  modelsDirectory?: string;
  onProgress?: (stage: string, done: number, total: number) => void;
}): Promise<MaiContext> {
  await initBackend();
  const root = resolve(options.dataDirectory);
  const encoderDirectory = resolve(options.encoderDirectory ?? join(root, 'encoder'));
  if (!existsSync(encoderDirectory)) {
    throw new Error(
      `${encoderDirectory} does not exist: train one with \`cir train encoder --data ${root} --out ${encoderDirectory}\``,
    );
  }
  const data = await loadFashionMtData(root, { captionsFile: options.captionsFile });
  const encoder = await MiniClipEncoder.load(encoderDirectory);
  // Raw texts (read by the baselines) and texts without a rollback prefix (read by MAI).
  const sessions = [...data.train, ...data.test];
  const raw = sessions.flatMap((session) => session.texts);
  const texts = [
    ...raw,
    ...sessions.flatMap((session) => session.texts.map((text, turn) => readTurnIntent(text, turn + 1).text)),
  ];
  const features = await MaiFeatures.build({
    encoder,
    cacheDirectory: options.cacheDirectory ?? join(root, '.cache', 'features'),
    galleryPaths: data.galleryPaths,
    galleryCaptions: data.galleryCaptions,
    texts,
    onProgress: options.onProgress,
  });
  return {
    data,
    features,
    encoderId: encoder.id,
    modelsDirectory: resolve(options.modelsDirectory ?? join(root, 'models')),
  };
}

/** Folder of a trained variant: same configuration, steps, seed and encoder → same folder, reused. */
export function variantDirectory(
  context: MaiContext,
  config: MaiConfig,
  steps: number,
  seed: number,
): string {
  const key = createHash('sha256')
    .update(JSON.stringify({ config, steps, seed, encoder: context.encoderId }))
    .digest('hex')
    .slice(0, 12);
  return join(context.modelsDirectory, `mai-${key}`);
}

export interface TrainedVariant {
  name: string;
  model: MaiModel;
  directory: string;
  /** Seconds spent training now (0 when the model was already trained). */
  trainingSeconds: number;
}

/** Trains a variant (resuming an interrupted run) unless its trained folder exists, then loads it. */
export async function trainedVariant(
  context: MaiContext,
  variant: MaiVariant,
  options: {
    steps?: number;
    seed?: number;
    batchSize?: number;
    learningRate?: number;
    onProgress?: (progress: TrainingProgress) => void;
  } = {},
): Promise<TrainedVariant> {
  const steps = options.steps ?? DEFAULT_MAI_STEPS;
  const seed = options.seed ?? 1;
  const directory = variantDirectory(context, variant.config, steps, seed);
  if (existsSync(join(directory, 'mai.json'))) {
    const { model } = await loadMaiModel(directory, { expectedEncoderId: context.encoderId });
    return { name: variant.name, model, directory, trainingSeconds: 0 };
  }
  const started = performance.now();
  const { model } = await trainMai({
    config: variant.config,
    features: context.features,
    sessions: context.data.train,
    steps,
    seed,
    batchSize: options.batchSize,
    learningRate: options.learningRate,
    runDirectory: `${directory}.run`,
    onProgress: options.onProgress,
  });
  await saveMaiModel(directory, model, {
    name: variant.name,
    encoderId: context.encoderId,
    steps,
    trainedOn: context.data.files.train,
  });
  // The checkpoints only serve to resume an interrupted run; a finished model must not be resumed.
  await rm(`${directory}.run`, { recursive: true, force: true });
  return { name: variant.name, model, directory, trainingSeconds: (performance.now() - started) / 1000 };
}

export interface MethodResult {
  method: string;
  description: string;
  /** The paper's Mean: average of the combination and rollback means. */
  mean: number;
  combination?: FashionMtResult['combination'];
  rollback?: FashionMtResult['rollback'];
  all: FashionMtResult['all'];
  trainingSeconds?: number;
  /** Memory tokens a session holds after 3 and 10 turns (trained methods). */
  memoryTokens?: { turns3: number; turns10: number };
}

/** Identity of an evaluation: the test sessions, the gallery and the encoder. */
function evaluationKey(context: MaiContext): string {
  const { data } = context;
  return createHash('sha256')
    .update(
      JSON.stringify({
        encoder: context.encoderId,
        gallery: data.galleryPaths,
        test: data.test.map((session) => [session.kind, session.images, session.texts]),
      }),
    )
    .digest('hex');
}

const EVALUATION_FILE = 'evaluation.json';

/**
 * Scores a trained variant on the test sessions. The scores are kept in the variant's folder with the identity of
 * the test data, so a second run (or an ablation table sharing the variant) does not evaluate it again.
 */
export async function evaluateVariant(
  context: MaiContext,
  trained: TrainedVariant,
  description: string,
): Promise<MethodResult> {
  const key = evaluationKey(context);
  const cacheFile = join(trained.directory, EVALUATION_FILE);
  let result: FashionMtResult | undefined;
  if (existsSync(cacheFile)) {
    const cached = JSON.parse(await readFile(cacheFile, 'utf8')) as { key: string; result: FashionMtResult };
    if (cached.key === key) result = cached.result;
  }
  if (!result) {
    result = await evaluateMaiModel(trained.model, context.features, context.data);
    if (existsSync(trained.directory)) await writeJsonAtomic(cacheFile, { key, result });
  }
  return {
    method: trained.name,
    description,
    mean: result.mean,
    combination: result.combination,
    rollback: result.rollback,
    all: result.all,
    trainingSeconds: trained.trainingSeconds,
    memoryTokens: {
      turns3: trained.model.memory.tokensAfterTurns(3),
      turns10: trained.model.memory.tokensAfterTurns(10),
    },
  };
}

/** The zero-shot baselines as method results. */
export async function zeroShotResults(context: MaiContext): Promise<MethodResult[]> {
  const results = await evaluateZeroShotBaselines(context.features, context.data);
  const descriptions = {
    'text-only': 'frozen encoder: last modification text vs images',
    'image-only': 'frozen encoder: last reference image vs images',
    sum: 'frozen encoder: normalize(image + text) of the last turn',
  } as const;
  return (Object.keys(results) as (keyof typeof results)[]).map((method) => ({
    method,
    description: descriptions[method],
    mean: results[method].mean,
    combination: results[method].combination,
    rollback: results[method].rollback,
    all: results[method].all,
  }));
}
