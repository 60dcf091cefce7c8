import { paddedCount, pairwiseSquaredDistances } from './pairwise-squared-distances';

export interface SelectTokensOptions {
  /** Neighbours in the density estimate, the token itself included; clamped to the token count. Default 5. */
  k?: number;
}

/** Default number of neighbours of the density estimate (TCFormer / Chat-UniVi `cluster_dpc_knn`). */
export const DEFAULT_NEIGHBOURS = 5;

/**
 * DPC-kNN token selection (MAI §4.2, MIO): the `keep` density peaks of each batch element.
 *
 * Per batch element with tokens x_1..x_n, D_ij = ‖x_i − x_j‖ / √dim;
 * density ρ_i = exp(−mean of D_ij² over the k nearest tokens, i itself included) (eq. 2);
 * δ_i = min D_ij over the tokens j of strictly higher density, or the largest D of the element for the densest
 * token(s); score s_i = ρ_i · δ_i (eq. 3). Returns the indices of the `keep` highest scores, highest first, equal
 * scores by lower index. Unlike Chat-UniVi no random noise breaks density ties: tied tokens are not "higher" than
 * each other.
 *
 * Everything is computed in float64, float32 input widened exactly (distances through the Gram identity, see
 * `pairwiseSquaredDistances`), so the result is the rule's up to float64 rounding; ties that are exact in real
 * arithmetic stay exact for identical tokens and for integer-valued tokens (see `densityPeakScores`).
 *
 * @param tokens `[batch, n, dim]` row-major, float32 (or float64, used without rounding)
 * @returns `[batch, keep]` row-major token indices in [0, n)
 */
export function selectTokens(
  tokens: Float32Array | Float64Array,
  shape: readonly [batch: number, n: number, dim: number],
  keep: number,
  options: SelectTokensOptions = {},
): Int32Array {
  const [batch, count, dim] = shape;
  const neighbours = validateSelection('selectTokens', shape, keep, options);
  if (tokens.length !== batch * count * dim) {
    throw new RangeError(
      `selectTokens: shape [${shape.join(', ')}] needs ${batch * count * dim} values, got ${tokens.length}`,
    );
  }
  const selected = new Int32Array(batch * keep);
  const squaredDistances = new Float64Array(count * count);
  const scratch = new Float64Array(paddedCount(count) * dim);
  const scores = new Float64Array(count);
  const order = new Int32Array(count);
  for (let element = 0; element < batch; element++) {
    pairwiseSquaredDistances(tokens, element * count * dim, count, dim, squaredDistances, scratch);
    densityPeakScores(squaredDistances, count, dim, neighbours, scores);
    for (let i = 0; i < count; i++) order[i] = i;
    order.sort((a, b) => scores[b] - scores[a] || a - b);
    selected.set(order.subarray(0, keep), element * keep);
  }
  return selected;
}

/**
 * Checks the shape, `keep` and `k` shared by both implementations and returns the clamped neighbour count.
 * @internal
 */
export function validateSelection(
  caller: string,
  shape: readonly number[],
  keep: number,
  options: SelectTokensOptions,
): number {
  const [, count, dim] = shape;
  if (shape.length !== 3 || !shape.every((size) => Number.isInteger(size) && size >= 0) || dim === 0) {
    throw new RangeError(`${caller}: shape must be [batch, n, dim] with dim ≥ 1, got [${shape.join(', ')}]`);
  }
  if (!Number.isInteger(keep) || keep < 0 || keep > count) {
    throw new RangeError(`${caller}: keep must be an integer in [0, n = ${count}], got ${keep}`);
  }
  const k = options.k ?? DEFAULT_NEIGHBOURS;
  if (!Number.isInteger(k) || k < 1)
    throw new RangeError(`${caller}: k must be a positive integer, got ${k}`);
  return Math.min(k, count);
}

/**
 * Fills `scores` [count] with ρ_i · δ_i from the raw squared distances ‖x_i − x_j‖² [count, count].
 *
 * The 1/dim of D² is applied once, after the neighbour sum (exp(−Σ‖·‖² / (k·dim)) is eq. 2's exp(−mean D²)), and δ
 * is taken as √(min ‖·‖² / dim): for integer-valued tokens the raw squared distances and their sums are exact, so
 * two densities that are equal in exact arithmetic stay equal here and tie as the rule says.
 */
function densityPeakScores(
  squaredDistances: Float64Array,
  count: number,
  dim: number,
  neighbours: number,
  scores: Float64Array,
): void {
  const densities = new Float64Array(count);
  const nearest = new Float64Array(neighbours);
  let largestSquared = 0;
  for (let i = 0; i < count; i++) {
    // The k smallest squared distances of row i, kept sorted ascending by insertion. Summing them in that order
    // makes the density a function of the multiset, so identical rows give identical densities.
    let filled = 0;
    for (let j = 0; j < count; j++) {
      const value = squaredDistances[i * count + j];
      if (!Number.isFinite(value)) throw new RangeError('selectTokens: tokens must be finite');
      if (value > largestSquared) largestSquared = value;
      if (filled === neighbours && value >= nearest[neighbours - 1]) continue;
      let at = filled === neighbours ? neighbours - 1 : filled++;
      while (at > 0 && nearest[at - 1] > value) {
        nearest[at] = nearest[at - 1];
        at--;
      }
      nearest[at] = value;
    }
    let sum = 0;
    for (let rank = 0; rank < neighbours; rank++) sum += nearest[rank];
    densities[i] = Math.exp(-sum / (neighbours * dim)); // eq. 2
  }
  for (let i = 0; i < count; i++) {
    let closestHigherSquared = Number.POSITIVE_INFINITY;
    for (let j = 0; j < count; j++) {
      if (densities[j] > densities[i] && squaredDistances[i * count + j] < closestHigherSquared) {
        closestHigherSquared = squaredDistances[i * count + j];
      }
    }
    const deltaSquared =
      closestHigherSquared === Number.POSITIVE_INFINITY ? largestSquared : closestHigherSquared;
    scores[i] = densities[i] * Math.sqrt(deltaSquared / dim); // eq. 3
  }
}
