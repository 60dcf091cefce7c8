import type { ShoesTriplet } from '@cir/datasets';
import { checkMatrix, galleryIndex, lookupRow } from '../gallery-index';
import { recallAtK } from '../metrics';
import { targetRanks } from '../ranking';
import type { EmbeddingProtocolInput } from './fashion-iq';

export interface ShoesResult {
  queries: number;
  recallAt1: number;
  recallAt10: number;
  recallAt50: number;
  /** Queries whose reference is their target: never a hit, since the reference is removed (ARTEMIS). */
  referenceIsTarget: number;
}

/**
 * Shoes (ARTEMIS `evaluate.py`): gallery = the 4,658 eval images, queries = the eval triplets (both images in the
 * eval list) in file order, cosine ranking with the reference image removed, Recall@1/10/50.
 */
export async function evaluateShoes(
  triplets: readonly ShoesTriplet[],
  input: EmbeddingProtocolInput,
): Promise<ShoesResult> {
  const { queries, gallery, dim, galleryNames } = input;
  checkMatrix('queries', queries, triplets.length, dim);
  checkMatrix('gallery', gallery, galleryNames.length, dim);
  const index = galleryIndex(galleryNames);
  const targets = Int32Array.from(triplets, (triplet, query) =>
    lookupRow(index, triplet.target, 'target', query),
  );
  const references = Int32Array.from(triplets, (triplet, query) =>
    lookupRow(index, triplet.reference, 'reference', query),
  );
  const { ranks } = await targetRanks(queries, triplets.length, gallery, galleryNames.length, dim, targets, {
    exclude: references,
  });
  return {
    queries: triplets.length,
    recallAt1: recallAtK(ranks, 1),
    recallAt10: recallAtK(ranks, 10),
    recallAt50: recallAtK(ranks, 50),
    referenceIsTarget: triplets.filter((triplet) => triplet.reference === triplet.target).length,
  };
}
