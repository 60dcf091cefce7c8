import { rm } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import {
  AdamW,
  cosineWithWarmup,
  initBackend,
  Rng,
  runTrainingLoop,
  type TrainingProgress,
  tf,
} from '@cir/core-tensor';
import { loadImageCaptionPairs } from '@cir/datasets';
import { longestText, MiniClipEncoder } from './mini-clip-encoder';
import { saveMiniClip } from './mini-clip-files';
import {
  DEFAULT_MINI_CLIP_CONFIG,
  imagesToPatches,
  MiniClip,
  type MiniClipConfig,
  patchGrid,
} from './mini-clip-model';
import { readPixels } from './read-pixels';
import {
  BatchTokenizer,
  buildWordLevelTokenizerJson,
  wordLevelTokenizerConfig,
} from './word-level-tokenizer';

export interface TrainMiniClipOptions {
  /** Image-caption pairs file (JSONL, CSV or TSV); image paths are relative to its folder. */
  pairsFile: string;
  /** The encoder folder to write. */
  outDirectory: string;
  /** Checkpoints for resuming (default `<outDirectory>.run`). */
  runDirectory?: string;
  config?: Partial<Omit<MiniClipConfig, 'vocabularySize'>>;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  weightDecay?: number;
  /** Pairs kept out of training to measure zero-shot retrieval (default: 10 %, at most 1,000). */
  heldOut?: number;
  seed?: number;
  /** Extra texts whose words join the vocabulary (e.g. modification texts the encoder will also read). */
  extraVocabularyTexts?: readonly string[];
  checkpointEvery?: number;
  onProgress?: (progress: TrainingProgress) => void;
  onStage?: (stage: string) => void;
}

export interface RetrievalRecall {
  recallAt1: number;
  recallAt5: number;
  recallAt10: number;
}

export interface TrainMiniClipResult {
  id: string;
  outDirectory: string;
  trainPairs: number;
  heldOutPairs: number;
  steps: number;
  seconds: number;
  finalLoss: number;
  /** Zero-shot retrieval on the held-out pairs: each caption against all held-out images, and the reverse. */
  heldOutTextToImage: RetrievalRecall;
  heldOutImageToText: RetrievalRecall;
}

/**
 * Trains the mini CLIP on image-caption pairs with the symmetric contrastive loss, AdamW and warm-up + cosine,
 * checkpointing so that a killed run resumes, then saves the encoder folder and measures zero-shot retrieval on
 * held-out pairs.
 */
export async function trainMiniClip(options: TrainMiniClipOptions): Promise<TrainMiniClipResult> {
  const started = performance.now();
  await initBackend();
  const seed = options.seed ?? 1;
  options.onStage?.('reading pairs');
  const { records } = await loadImageCaptionPairs(options.pairsFile);
  if (records.length < 2) {
    throw new Error(
      `${options.pairsFile}: ${records.length} image-caption pair${records.length === 1 ? '' : 's'}; training needs at least 2`,
    );
  }
  const folder = dirname(options.pairsFile);
  const order = new Rng(seed).shuffle(records.map((_record, index) => index));
  const heldOutCount = Math.min(
    options.heldOut ?? Math.min(1000, Math.floor(records.length / 10)),
    records.length - 1,
  );
  const heldOut = order.slice(0, heldOutCount).map((index) => records[index]!);
  const train = order.slice(heldOutCount).map((index) => records[index]!);
  const baseConfig = { ...DEFAULT_MINI_CLIP_CONFIG, ...options.config };
  options.onStage?.(`decoding ${records.length} images`);
  const resolve = (image: string) => (isAbsolute(image) ? image : join(folder, image));
  const trainPixels = await readPixels(
    train.map((pair) => resolve(pair.image)),
    baseConfig.imageSize,
  );
  const trainCaptions = train.map((pair) => pair.caption);

  const tokenizerJson = buildWordLevelTokenizerJson([
    ...trainCaptions,
    ...(options.extraVocabularyTexts ?? []),
  ]);
  const tokenizerConfig = wordLevelTokenizerConfig(baseConfig.maxTextLength);
  const tokenizer = new BatchTokenizer(tokenizerJson, tokenizerConfig, baseConfig.maxTextLength);
  const config: MiniClipConfig = { ...baseConfig, vocabularySize: tokenizer.vocabularySize };
  const model = new MiniClip(config, seed);

  const batchSize = Math.min(options.batchSize ?? 128, train.length);
  const stepsPerEpoch = Math.floor(train.length / batchSize);
  const totalSteps = stepsPerEpoch * (options.epochs ?? 3);
  const learningRate = options.learningRate ?? 1e-3;
  const optimizer = new AdamW({ learningRate, weightDecay: options.weightDecay ?? 0.05 });
  const schedule = cosineWithWarmup({
    peakLearningRate: learningRate,
    warmupSteps: Math.max(1, Math.round(totalSteps * 0.05)),
    totalSteps,
    minLearningRate: learningRate / 50,
  });
  const { count: patches } = patchGrid(config);
  const patchLength = config.patchSize * config.patchSize * 3;
  const imageLength = config.imageSize * config.imageSize * 3;
  const tokens = tokenizer.encode(trainCaptions);
  const permutations = new Map<number, number[]>();
  const batchRows = (step: number) => {
    const epoch = Math.floor(step / stepsPerEpoch);
    let permutation = permutations.get(epoch);
    if (!permutation) {
      permutations.clear();
      permutation = new Rng(seed * 1000 + epoch).shuffle(train.map((_pair, index) => index));
      permutations.set(epoch, permutation);
    }
    const offset = (step % stepsPerEpoch) * batchSize;
    return permutation.slice(offset, offset + batchSize);
  };
  const { maxTextLength } = config;
  const batchLoss = (step: number) => {
    const rows = batchRows(step);
    // Captions cut to the batch's longest: trailing padding is masked out of attention and never pooled (the
    // [CLS] state is), so the loss and gradients are the same, for half the text tower's work here.
    let length = 1;
    for (const row of rows) {
      length = Math.max(length, longestText(tokens.mask.subarray(row * maxTextLength), 1, maxTextLength));
    }
    const pixels = new Uint8Array(rows.length * imageLength);
    const ids = new Int32Array(rows.length * length);
    const mask = new Float32Array(rows.length * length);
    rows.forEach((row, position) => {
      pixels.set(trainPixels.subarray(row * imageLength, (row + 1) * imageLength), position * imageLength);
      const range = [row * maxTextLength, row * maxTextLength + length] as const;
      ids.set(tokens.ids.subarray(...range), position * length);
      mask.set(tokens.mask.subarray(...range), position * length);
    });
    return model.loss(
      tf.tensor3d(imagesToPatches(pixels, rows.length, config), [rows.length, patches, patchLength]),
      tf.tensor2d(ids, [rows.length, length], 'int32'),
      tf.tensor2d(mask, [rows.length, length]),
    );
  };
  options.onStage?.(`training ${totalSteps} steps`);
  const runDirectory = options.runDirectory ?? `${options.outDirectory}.run`;
  const result = await runTrainingLoop({
    model,
    optimizer,
    schedule,
    totalSteps,
    batchSize,
    batchLoss,
    clipNorm: 1,
    checkpoints: {
      runDirectory,
      every: options.checkpointEvery ?? 50,
      modelId: `mini-clip-train:${JSON.stringify(config)}:${seed}:${train.length}`,
      config,
    },
    onProgress: options.onProgress,
  });
  options.onStage?.('saving');
  const id = await saveMiniClip(options.outDirectory, model, tokenizerJson, tokenizerConfig, {
    trainedOn: options.pairsFile,
    trainPairs: train.length,
    steps: result.finalStep,
  });
  model.dispose();
  // The run's checkpoints only serve to resume an interrupted training; a finished one must not be resumed.
  await rm(runDirectory, { recursive: true, force: true });

  options.onStage?.('measuring held-out retrieval');
  const encoder = await MiniClipEncoder.load(options.outDirectory);
  const images = await encoder.encodeImages(heldOut.map((pair) => resolve(pair.image)));
  const texts = await encoder.encodeTexts(heldOut.map((pair) => pair.caption));
  await encoder.dispose();
  return {
    id,
    outDirectory: options.outDirectory,
    trainPairs: train.length,
    heldOutPairs: heldOut.length,
    steps: result.finalStep,
    seconds: (performance.now() - started) / 1000,
    finalLoss: result.finalLoss,
    heldOutTextToImage: pairedRecall(texts.pooled, images.pooled, heldOut.length, config.embedDim),
    heldOutImageToText: pairedRecall(images.pooled, texts.pooled, heldOut.length, config.embedDim),
  };
}

/**
 * Recall@1/5/10 (percent) when query i's match is candidate i, by cosine of normalised rows.
 * @param queries `[count, dim]` @param candidates `[count, dim]`
 */
export function pairedRecall(
  queries: Float32Array,
  candidates: Float32Array,
  count: number,
  dim: number,
): RetrievalRecall {
  const hits = { recallAt1: 0, recallAt5: 0, recallAt10: 0 };
  for (let query = 0; query < count; query++) {
    const score = (candidate: number) => {
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += queries[query * dim + d]! * candidates[candidate * dim + d]!;
      return dot;
    };
    const own = score(query);
    let above = 0;
    for (let candidate = 0; candidate < count; candidate++)
      if (candidate !== query && score(candidate) > own) above++;
    if (above < 1) hits.recallAt1++;
    if (above < 5) hits.recallAt5++;
    if (above < 10) hits.recallAt10++;
  }
  const percent = (value: number) => (100 * value) / Math.max(1, count);
  return {
    recallAt1: percent(hits.recallAt1),
    recallAt5: percent(hits.recallAt5),
    recallAt10: percent(hits.recallAt10),
  };
}
