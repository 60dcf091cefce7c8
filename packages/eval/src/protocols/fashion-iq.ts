import type { FashionIqTriplet } from '@cir/datasets';
import { checkMatrix, galleryIndex, lookupRow } from '../gallery-index';
import { recallAtK } from '../metrics';
import { targetRanks } from '../ranking';

export interface EmbeddingProtocolInput {
  /** `[queryCount, dim]`: row i is the query of record i, in file order. */
  queries: Float32Array;
  /** `[galleryCount, dim]`: row j is image j of the split file, in file order. */
  gallery: Float32Array;
  dim: number;
  galleryNames: readonly string[];
}

export interface FashionIqResult {
  queries: number;
  recallAt10: number;
  recallAt50: number;
}

/**
 * FashionIQ, one category (CLIP4Cir/SPRC protocol): gallery = every image of `split.<category>.val.json`, cosine
 * ranking, the reference image is NOT removed, Recall@10/50 over all triplets.
 */
export async function evaluateFashionIq(
  triplets: readonly FashionIqTriplet[],
  input: EmbeddingProtocolInput,
): Promise<FashionIqResult> {
  const { queries, gallery, dim, galleryNames } = input;
  checkMatrix('queries', queries, triplets.length, dim);
  checkMatrix('gallery', gallery, galleryNames.length, dim);
  const index = galleryIndex(galleryNames);
  const targets = Int32Array.from(triplets, (triplet, query) => {
    if (triplet.target === undefined)
      throw new Error(`query ${query}: FashionIQ triplet has no target (test split?)`);
    return lookupRow(index, triplet.target, 'target', query);
  });
  const { ranks } = await targetRanks(queries, triplets.length, gallery, galleryNames.length, dim, targets);
  return { queries: triplets.length, recallAt10: recallAtK(ranks, 10), recallAt50: recallAtK(ranks, 50) };
}

/** The FashionIQ headline: per-metric mean over categories, and SPRC's (R@10 + R@50)/2. */
export function averageFashionIq(results: readonly FashionIqResult[]): {
  recallAt10: number;
  recallAt50: number;
  average: number;
} {
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  const recallAt10 = mean(results.map((result) => result.recallAt10));
  const recallAt50 = mean(results.map((result) => result.recallAt50));
  return { recallAt10, recallAt50, average: (recallAt10 + recallAt50) / 2 };
}
