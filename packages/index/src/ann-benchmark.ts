import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { l2NormalizeInPlace, median, Rng } from '@cir/core-tensor';
import { ExactStore } from './exact-store';
import {
  buildLanceStore,
  defaultLanceIndex,
  type LanceIndexOptions,
  type LanceSearchParameters,
} from './lance-store';
import type { SearchHit, VectorItem } from './vector-store';

export interface AnnBenchmarkOptions {
  count?: number;
  dim?: number;
  queries?: number;
  k?: number;
  seed?: number;
  /** Timed searches per store; the median counts. */
  repeats?: number;
  /** Default: `defaultLanceIndex(count)`. */
  index?: LanceIndexOptions | null;
  /** Default: the build's defaults for the index (`defaultSearchParameters`). */
  search?: LanceSearchParameters;
}

export interface AnnBenchmarkResult {
  name: 'ann';
  count: number;
  dim: number;
  queries: number;
  k: number;
  /** Recall@k of the LanceDB store against the exact store (k = 10 by default): shared ids / k, averaged. */
  recallAt10: number;
  /** Queries per second of the exact store, all queries in one search call (median of `repeats`). */
  exactQps: number;
  annQps: number;
  /** Table write, index training and the directory swap of `buildLanceStore`. */
  buildSeconds: number;
  indexType: string;
  parameters: { index: LanceIndexOptions | null; search: LanceSearchParameters };
}

/**
 * The `ann` figure: `count` random normalised vectors [count, dim] go into the exact store and into a LanceDB
 * store built in a temporary directory; `queries` random normalised queries [queries, dim] are searched in
 * both, once to warm up (ORT session, index files) and then `repeats` times. Random vectors have no clusters, the hard
 * case for IVF.
 */
export async function benchmarkAnnRecall(options: AnnBenchmarkOptions = {}): Promise<AnnBenchmarkResult> {
  const { count = 100_000, dim = 256, queries: queryCount = 200, k = 10, seed = 1, repeats = 3 } = options;
  const rng = new Rng(seed);
  const vectors = l2NormalizeInPlace(rng.normalArray(count * dim), count, dim);
  const queries = l2NormalizeInPlace(rng.normalArray(queryCount * dim), queryCount, dim);
  const items: VectorItem[] = Array.from({ length: count }, (_, row) => ({
    id: String(row),
    vector: vectors.subarray(row * dim, (row + 1) * dim),
  }));
  const encoderId = 'benchmark-random';

  const exactStore = new ExactStore({ encoderId, dim });
  await exactStore.add(items);
  const exact = await timedSearch(() => exactStore.search(queries, queryCount, k), queryCount, repeats);

  const directory = await mkdtemp(join(tmpdir(), 'ann-benchmark-'));
  try {
    const index = options.index === undefined ? defaultLanceIndex(count) : options.index;
    const buildStart = performance.now();
    const lanceStore = await buildLanceStore(join(directory, 'store'), items, {
      encoderId,
      dim,
      index,
      search: options.search,
    });
    const buildSeconds = (performance.now() - buildStart) / 1000;
    try {
      const ann = await timedSearch(() => lanceStore.search(queries, queryCount, k), queryCount, repeats);
      let shared = 0;
      ann.results.forEach((hits, query) => {
        const exactIds = new Set(exact.results[query].map((hit) => hit.id));
        shared += hits.filter((hit) => exactIds.has(hit.id)).length;
      });
      return {
        name: 'ann',
        count,
        dim,
        queries: queryCount,
        k,
        recallAt10: shared / (queryCount * k),
        exactQps: exact.queriesPerSecond,
        annQps: ann.queriesPerSecond,
        buildSeconds,
        indexType: index?.type ?? 'none',
        parameters: { index, search: lanceStore.searchParameters },
      };
    } finally {
      await lanceStore.close();
    }
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** One warm-up run, then `repeats` timed runs; the median time counts. */
async function timedSearch(
  search: () => Promise<SearchHit[][]>,
  queryCount: number,
  repeats: number,
): Promise<{ results: SearchHit[][]; queriesPerSecond: number }> {
  const results = await search();
  const seconds: number[] = [];
  for (let repeat = 0; repeat < repeats; repeat++) {
    const start = performance.now();
    await search();
    seconds.push((performance.now() - start) / 1000);
  }
  return { results, queriesPerSecond: queryCount / median(seconds) };
}
