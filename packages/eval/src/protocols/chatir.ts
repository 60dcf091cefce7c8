import type { ChatIrDialog } from '@cir/datasets';
import { checkMatrix, galleryIndex, lookupRow } from '../gallery-index';
import { cumulativeHitsPerRound, recallAtK } from '../metrics';
import { targetRanks } from '../ranking';

export interface ChatIrInput {
  /** One `[dialogCount, dim]` matrix per round (round 0 = the caption alone): row i is dialog i. */
  queriesPerRound: Float32Array[];
  /** `[galleryCount, dim]`: row j is entry j of the search-space file. */
  gallery: Float32Array;
  dim: number;
  galleryNames: readonly string[];
  k?: number;
}

export interface ChatIrResult {
  dialogs: number;
  k: number;
  /** Cumulative Hits@K in percent after each round (ChatIR `cumulative_hits_per_round`). */
  hitsPerRound: number[];
  /** Non-cumulative Recall@K of each round on its own (PlugIR's per-round recall). */
  recallPerRound: number[];
  /** 0-based target rank per round and dialog, for further analysis. */
  ranksPerRound: Int32Array[];
}

/**
 * ChatIR (levymsn/ChatIR `eval.py`): each round's query is ranked against the search space by cosine similarity;
 * a dialog counts as a hit at round R once its target entered the top K at any round ≤ R.
 */
export async function evaluateChatIr(
  dialogs: readonly ChatIrDialog[],
  input: ChatIrInput,
): Promise<ChatIrResult> {
  const { queriesPerRound, gallery, dim, galleryNames } = input;
  const k = input.k ?? 10;
  checkMatrix('gallery', gallery, galleryNames.length, dim);
  const index = galleryIndex(galleryNames, 'search space');
  const targets = Int32Array.from(dialogs, (dialog, query) => lookupRow(index, dialog.image, 'image', query));
  const ranksPerRound: Int32Array[] = [];
  for (const [round, queries] of queriesPerRound.entries()) {
    checkMatrix(`queries of round ${round}`, queries, dialogs.length, dim);
    const { ranks } = await targetRanks(queries, dialogs.length, gallery, galleryNames.length, dim, targets);
    ranksPerRound.push(ranks);
  }
  return {
    dialogs: dialogs.length,
    k,
    hitsPerRound: cumulativeHitsPerRound(ranksPerRound, k),
    recallPerRound: ranksPerRound.map((ranks) => recallAtK(ranks, k)),
    ranksPerRound,
  };
}
