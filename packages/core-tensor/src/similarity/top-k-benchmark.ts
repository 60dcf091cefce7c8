import { performance } from 'node:perf_hooks';
import { Rng } from '../rng';
import { l2NormalizeInPlace } from './normalize';
import { type BlockScorer, defaultScorer } from './score-block';
import { topK } from './top-k';

export interface TopKBenchmarkOptions {
  galleryCount?: number;
  queryCount?: number;
  dim?: number;
  k?: number;
  repeats?: number;
  seed?: number;
  /** Default: `defaultScorer()`. */
  scorer?: BlockScorer;
}

export interface TopKBenchmarkResult {
  name: 'topk';
  galleryCount: number;
  queryCount: number;
  dim: number;
  k: number;
  scorer: string;
  threads: number;
  /** queryCount / median seconds per topK call. */
  qps: number;
  medianMs: number;
  /** 2 · queryCount · galleryCount · dim / median time: the scoring work only, selection excluded. */
  gflops: number;
}

/**
 * The `topk` figure: exact top-k of `queryCount` normalised random queries [queryCount, dim] over `galleryCount`
 * normalised random vectors [galleryCount, dim], one warm-up call (session creation, JIT), then the median of
 * `repeats` timed calls.
 */
export async function benchmarkTopK(options: TopKBenchmarkOptions = {}): Promise<TopKBenchmarkResult> {
  const { galleryCount = 100_000, queryCount = 64, dim = 256, k = 10, repeats = 5, seed = 1 } = options;
  const scorer = options.scorer ?? defaultScorer();
  const rng = new Rng(seed);
  const gallery = l2NormalizeInPlace(rng.normalArray(galleryCount * dim), galleryCount, dim);
  const queries = l2NormalizeInPlace(rng.normalArray(queryCount * dim), queryCount, dim);
  const run = () => topK(queries, queryCount, gallery, galleryCount, dim, k, { scorer });

  await run();
  const timesMs: number[] = [];
  for (let repeat = 0; repeat < repeats; repeat++) {
    const start = performance.now();
    await run();
    timesMs.push(performance.now() - start);
  }
  timesMs.sort((x, y) => x - y);
  const middle = timesMs.length >> 1;
  const medianMs = timesMs.length % 2 ? timesMs[middle] : (timesMs[middle - 1] + timesMs[middle]) / 2;
  return {
    name: 'topk',
    galleryCount,
    queryCount,
    dim,
    k,
    scorer: scorer.name,
    threads: scorer.threads,
    qps: (queryCount / medianMs) * 1000,
    medianMs,
    gflops: (2 * queryCount * galleryCount * dim) / (medianMs * 1e6),
  };
}
