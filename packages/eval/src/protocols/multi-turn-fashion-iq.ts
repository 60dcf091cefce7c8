import type { MultiTurnFashionIqSession } from '@cir/datasets';
import { checkMatrix, galleryIndex, lookupRow } from '../gallery-index';
import { recallAtK } from '../metrics';
import { targetRanks } from '../ranking';
import type { EmbeddingProtocolInput } from './fashion-iq';

export interface MultiTurnFashionIqResult {
  sessions: number;
  recallAt5: number;
  recallAt8: number;
  recallAt10: number;
  recallAt50: number;
}

/**
 * Multi-turn FashionIQ (Yuan & Lam 2021; MAI's `compute_blip_MTFiq` reports R@5 and R@8): one query per session,
 * after its last turn; target = the session's target ASIN; gallery = the category's split images; cosine ranking,
 * reference kept.
 */
export async function evaluateMultiTurnFashionIq(
  sessions: readonly MultiTurnFashionIqSession[],
  input: EmbeddingProtocolInput,
): Promise<MultiTurnFashionIqResult> {
  const { queries, gallery, dim, galleryNames } = input;
  checkMatrix('queries', queries, sessions.length, dim);
  checkMatrix('gallery', gallery, galleryNames.length, dim);
  const index = galleryIndex(galleryNames);
  const targets = Int32Array.from(sessions, (session, query) =>
    lookupRow(index, session.target.asin, 'target', query),
  );
  const { ranks } = await targetRanks(queries, sessions.length, gallery, galleryNames.length, dim, targets);
  return {
    sessions: sessions.length,
    recallAt5: recallAtK(ranks, 5),
    recallAt8: recallAtK(ranks, 8),
    recallAt10: recallAtK(ranks, 10),
    recallAt50: recallAtK(ranks, 50),
  };
}
