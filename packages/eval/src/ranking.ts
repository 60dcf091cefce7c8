import { defaultScorer, l2Normalize, type ScoreBlockFn } from '@cir/core-tensor';

export interface TargetRankOptions {
  /** Gallery index removed from each query's ranking (CIRR's reference image), or -1: `[queryCount]`. */
  exclude?: Int32Array;
  /** L2-normalise queries and gallery first, so scores are cosine similarities (default true). */
  normalize?: boolean;
  /** Gallery rows per score block (bounds memory: queryCount × blockRows floats). */
  blockRows?: number;
  scorer?: ScoreBlockFn;
}

/**
 * The 0-based rank of each query's target: the number of gallery items (other than an excluded one) that score
 * strictly higher than the target. Ties count in the target's favour; with float embeddings exact ties are
 * negligible. Scores are computed block by block, so memory stays at queryCount × blockRows floats.
 *
 * @param queries `[queryCount, dim]`
 * @param gallery `[galleryCount, dim]`
 * @param targets gallery index of each query's target `[queryCount]`; -1 gives rank -1 (no target)
 * @returns ranks `[queryCount]` (galleryCount when the target itself is excluded), and each target's score
 */
export async function targetRanks(
  queries: Float32Array,
  queryCount: number,
  gallery: Float32Array,
  galleryCount: number,
  dim: number,
  targets: Int32Array,
  options: TargetRankOptions = {},
): Promise<{ ranks: Int32Array; targetScores: Float64Array }> {
  const normalize = options.normalize ?? true;
  const queryMatrix = normalize ? l2Normalize(queries, queryCount, dim) : queries;
  const galleryMatrix = normalize ? l2Normalize(gallery, galleryCount, dim) : gallery;
  const scoreBlock = options.scorer ?? defaultScorer().scoreBlock;
  const blockRows = Math.max(
    1,
    Math.min(galleryCount, options.blockRows ?? Math.floor(4_194_304 / Math.max(1, queryCount))),
  );
  // Target scores in float64 from the same float32 vectors; the target's own column is skipped when counting, so
  // block-to-block float32 rounding differences can only matter for near-exact ties with other items.
  const targetScores = new Float64Array(queryCount);
  for (let query = 0; query < queryCount; query++) {
    const target = targets[query]!;
    if (target < 0) {
      targetScores[query] = Number.NaN;
      continue;
    }
    if (target >= galleryCount) {
      throw new RangeError(
        `targetRanks: target ${target} of query ${query} is outside the gallery of ${galleryCount}`,
      );
    }
    targetScores[query] = dotProduct(queryMatrix, query, galleryMatrix, target, dim);
  }
  const ranks = new Int32Array(queryCount);
  const scores = new Float32Array(queryCount * blockRows);
  for (let start = 0; start < galleryCount; start += blockRows) {
    const rows = Math.min(blockRows, galleryCount - start);
    await scoreBlock(
      queryMatrix,
      queryCount,
      galleryMatrix.subarray(start * dim, (start + rows) * dim),
      rows,
      dim,
      scores,
    );
    for (let query = 0; query < queryCount; query++) {
      const target = targets[query]!;
      if (target < 0) continue;
      const threshold = targetScores[query]!;
      const excluded = options.exclude ? options.exclude[query]! : -1;
      let above = 0;
      const offset = query * rows;
      for (let column = 0; column < rows; column++) {
        if (scores[offset + column]! > threshold) above++;
      }
      if (target >= start && target < start + rows && scores[offset + target - start]! > threshold) above--;
      if (excluded !== target && excluded >= start && excluded < start + rows) {
        if (scores[offset + excluded - start]! > threshold) above--;
      }
      ranks[query]! += above;
    }
  }
  for (let query = 0; query < queryCount; query++) {
    if (targets[query]! < 0) ranks[query] = -1;
    // An excluded target can never be retrieved (ARTEMIS: the reference scores −∞ even when it is the target).
    else if (options.exclude && options.exclude[query] === targets[query]) ranks[query] = galleryCount;
  }
  return { ranks, targetScores };
}

/** Float64 dot product of row `aRow` of `a` and row `bRow` of `b` (both `[rows, dim]`). */
export function dotProduct(
  a: Float32Array,
  aRow: number,
  b: Float32Array,
  bRow: number,
  dim: number,
): number {
  let dot = 0;
  for (let d = 0; d < dim; d++) dot += a[aRow * dim + d]! * b[bRow * dim + d]!;
  return dot;
}
