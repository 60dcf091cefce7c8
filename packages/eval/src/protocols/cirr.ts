import { l2Normalize } from '@cir/core-tensor';
import type { CirrPair } from '@cir/datasets';
import { checkMatrix, galleryIndex, lookupRow } from '../gallery-index';
import { recallAtK } from '../metrics';
import { dotProduct, targetRanks } from '../ranking';
import type { EmbeddingProtocolInput } from './fashion-iq';

export interface CirrResult {
  queries: number;
  recallAt1: number;
  recallAt5: number;
  recallAt10: number;
  recallAt50: number;
  recallSubsetAt1: number;
  recallSubsetAt2: number;
  recallSubsetAt3: number;
  /** (R@5 + R_subset@1) / 2, the usual headline. */
  average: number;
}

/**
 * CIRR (CLIP4Cir `compute_cirr_val_metrics`): rank the whole split gallery by cosine similarity, remove the
 * reference image, Recall@1/5/10/50 on `target_hard`; Recall_subset@1/2/3 ranks only the other 5 members of the
 * query's `img_set` (reference removed) in the same global order.
 */
export async function evaluateCirr(
  pairs: readonly CirrPair[],
  input: EmbeddingProtocolInput,
): Promise<CirrResult> {
  const { queries, gallery, dim, galleryNames } = input;
  checkMatrix('queries', queries, pairs.length, dim);
  checkMatrix('gallery', gallery, galleryNames.length, dim);
  const index = galleryIndex(galleryNames);
  const targets = new Int32Array(pairs.length);
  const references = new Int32Array(pairs.length);
  pairs.forEach((pair, query) => {
    if (pair.targetHard === undefined)
      throw new Error(`query ${query}: CIRR pair ${pair.pairId} has no target_hard (test split?)`);
    targets[query] = lookupRow(index, pair.targetHard, 'target', query);
    references[query] = lookupRow(index, pair.reference, 'reference', query);
  });
  const normalizedQueries = l2Normalize(queries, pairs.length, dim);
  const normalizedGallery = l2Normalize(gallery, galleryNames.length, dim);
  const { ranks, targetScores } = await targetRanks(
    normalizedQueries,
    pairs.length,
    normalizedGallery,
    galleryNames.length,
    dim,
    targets,
    { exclude: references, normalize: false },
  );
  // Subset ranks compare the same float64 dot products of normalised rows that targetRanks used for the target.
  const subsetRanks = Int32Array.from(pairs, (pair, query) => {
    let above = 0;
    for (const member of pair.imageSet.members) {
      if (member === pair.reference || member === pair.targetHard) continue;
      const row = lookupRow(index, member, 'img_set member', query);
      if (dotProduct(normalizedQueries, query, normalizedGallery, row, dim) > targetScores[query]!) above++;
    }
    return above;
  });
  const result = {
    queries: pairs.length,
    recallAt1: recallAtK(ranks, 1),
    recallAt5: recallAtK(ranks, 5),
    recallAt10: recallAtK(ranks, 10),
    recallAt50: recallAtK(ranks, 50),
    recallSubsetAt1: recallAtK(subsetRanks, 1),
    recallSubsetAt2: recallAtK(subsetRanks, 2),
    recallSubsetAt3: recallAtK(subsetRanks, 3),
  };
  return { ...result, average: (result.recallAt5 + result.recallSubsetAt1) / 2 };
}
