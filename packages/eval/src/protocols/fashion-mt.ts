import type { FashionMtKind, FashionMtTransaction } from '@cir/datasets';
import { checkMatrix, galleryIndex, lookupRow } from '../gallery-index';
import { recallAtK } from '../metrics';
import { targetRanks } from '../ranking';
import type { EmbeddingProtocolInput } from './fashion-iq';

export interface FashionMtRecalls {
  queries: number;
  recallAt1: number;
  recallAt5: number;
  recallAt10: number;
  recallAt20: number;
  /** Average of the four recalls (MAI `test.py`). */
  mean: number;
}

export interface FashionMtResult {
  combination?: FashionMtRecalls;
  rollback?: FashionMtRecalls;
  /** Transactions whose last text is neither (scored in `all` only). */
  plain?: FashionMtRecalls;
  all: FashionMtRecalls;
  /** The paper's Mean column: the average of the combination and rollback means (of those present). */
  mean: number;
}

function recalls(ranks: Int32Array): FashionMtRecalls {
  const values = [1, 5, 10, 20].map((k) => recallAtK(ranks, k));
  return {
    queries: ranks.length,
    recallAt1: values[0]!,
    recallAt5: values[1]!,
    recallAt10: values[2]!,
    recallAt20: values[3]!,
    mean: values.reduce((a, b) => a + b, 0) / 4,
  };
}

/**
 * FashionMT (MAI `validate.py`): only the final turn is scored, target = tar3; gallery = every image of the
 * sub-dataset's `*_index_names.txt`; cosine ranking with the reference NOT removed; R@1/5/10/20 and their mean,
 * separately for combination and rollback transactions (`kinds[i]` is transaction i's kind, from fashionMtKind).
 */
export async function evaluateFashionMt(
  transactions: readonly FashionMtTransaction[],
  kinds: readonly FashionMtKind[],
  input: EmbeddingProtocolInput,
): Promise<FashionMtResult> {
  const { queries, gallery, dim, galleryNames } = input;
  checkMatrix('queries', queries, transactions.length, dim);
  checkMatrix('gallery', gallery, galleryNames.length, dim);
  if (kinds.length !== transactions.length)
    throw new Error(`kinds: ${kinds.length} for ${transactions.length} transactions`);
  const index = galleryIndex(galleryNames);
  const targets = Int32Array.from(transactions, (transaction, query) =>
    lookupRow(index, transaction.tar3, 'tar3', query),
  );
  const { ranks } = await targetRanks(
    queries,
    transactions.length,
    gallery,
    galleryNames.length,
    dim,
    targets,
  );
  const byKind = (kind: FashionMtKind) => {
    const selected = ranks.filter((_rank, query) => kinds[query] === kind);
    return selected.length > 0 ? recalls(selected) : undefined;
  };
  const combination = byKind('combination');
  const rollback = byKind('rollback');
  const plain = byKind('plain');
  const means = [combination?.mean, rollback?.mean].filter((value): value is number => value !== undefined);
  const all = recalls(ranks);
  return {
    ...(combination && { combination }),
    ...(rollback && { rollback }),
    ...(plain && { plain }),
    all,
    mean: means.length > 0 ? means.reduce((a, b) => a + b, 0) / means.length : all.mean,
  };
}
