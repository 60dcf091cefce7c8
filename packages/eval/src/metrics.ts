/**
 * Metrics over 0-based target ranks (see targetRanks). A rank of -1 means "no target" and is left out of the
 * denominator; every other query counts, as in the published protocols (the denominator is the number of queries).
 */

/** Recall@K in percent: the share of queries whose target ranks in the top K. @param ranks `[queryCount]` */
export function recallAtK(ranks: Int32Array, k: number): number {
  let hits = 0;
  let counted = 0;
  for (const rank of ranks) {
    if (rank < 0) continue;
    counted++;
    if (rank < k) hits++;
  }
  return counted === 0 ? 0 : (100 * hits) / counted;
}

/**
 * mAP@K in percent for queries with one relevant item: AP@K = 1/(rank+1) when the target is in the top K, else 0.
 * @param ranks `[queryCount]`
 */
export function meanAveragePrecisionAtK(ranks: Int32Array, k: number): number {
  let total = 0;
  let counted = 0;
  for (const rank of ranks) {
    if (rank < 0) continue;
    counted++;
    if (rank < k) total += 1 / (rank + 1);
  }
  return counted === 0 ? 0 : (100 * total) / counted;
}

/**
 * mAP@K in percent for queries with several relevant items (e.g. CIRCO-style ground truth): for each query,
 * AP@K = (1 / min(K, relevant)) Σ_{i ≤ K} precision@i · rel(i).
 * @param relevantRanks per query, the 0-based ranks of its relevant items
 */
export function meanAveragePrecisionAtKMulti(relevantRanks: number[][], k: number): number {
  if (relevantRanks.length === 0) return 0;
  let total = 0;
  for (const ranks of relevantRanks) {
    if (ranks.length === 0) continue;
    const sorted = [...ranks].sort((a, b) => a - b);
    let precisionSum = 0;
    sorted.forEach((rank, index) => {
      if (rank < k) precisionSum += (index + 1) / (rank + 1);
    });
    total += precisionSum / Math.min(k, ranks.length);
  }
  return (100 * total) / relevantRanks.length;
}

/**
 * ChatIR cumulative Hits@K per round, in percent: a query counts at round R once its target ranked in the top K at
 * any round ≤ R (its first hitting time), so the curve never decreases.
 * @param ranksPerRound `[rounds][queryCount]`
 */
export function cumulativeHitsPerRound(ranksPerRound: Int32Array[], k: number): number[] {
  if (ranksPerRound.length === 0) return [];
  const queryCount = ranksPerRound[0]!.length;
  const hit = new Uint8Array(queryCount);
  return ranksPerRound.map((ranks) => {
    let hits = 0;
    for (let query = 0; query < queryCount; query++) {
      if (ranks[query]! >= 0 && ranks[query]! < k) hit[query] = 1;
      hits += hit[query]!;
    }
    return (100 * hits) / queryCount;
  });
}
