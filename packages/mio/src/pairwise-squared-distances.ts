/** Rows and columns of one register tile of the Gram kernel. */
const TILE_ROWS = 4;
const TILE_COLUMNS = 2;

/**
 * Squared Euclidean distances ‖x_i − x_j‖² between every pair of the `count` rows of `tokens` [count, dim] that start
 * at `offset`, written to `out` [count, count] (float64) and returned.
 *
 * Uses the Gram identity ‖a‖² + ‖b‖² − 2a·b with the dot products accumulated in float64 (a product of two float32
 * values is exact in float64; float64 input is used as is), in a 4 × 2 register-tiled loop over the upper triangle: under half the time of one
 * plain dot product per pair. Every dot product sums its dim terms in the same order wherever its pair sits in the
 * tiles, and the norms are the Gram diagonal itself, so identical rows get a distance of exactly 0 and bitwise
 * identical distance rows: exact ties stay exact ties.
 *
 * @param scratch reusable buffer of at least `paddedCount(count) · dim` values; rows are copied there and padded
 *   with zeros so that every tile is full.
 */
export function pairwiseSquaredDistances(
  tokens: Float32Array | Float64Array,
  offset: number,
  count: number,
  dim: number,
  out: Float64Array,
  scratch: Float64Array = new Float64Array(paddedCount(count) * dim),
): Float64Array {
  const padded = paddedCount(count);
  if (scratch.length < padded * dim || out.length < count * count || tokens.length < offset + count * dim) {
    throw new RangeError(`pairwiseSquaredDistances: buffers are too short for [${count}, ${dim}]`);
  }
  scratch.set(tokens.subarray(offset, offset + count * dim));
  scratch.fill(0, count * dim, padded * dim);
  const gram = new Float64Array(padded * padded);
  for (let row = 0; row < padded; row += TILE_ROWS) {
    const row0 = row * dim;
    const row1 = row0 + dim;
    const row2 = row1 + dim;
    const row3 = row2 + dim;
    for (let column = row; column < padded; column += TILE_COLUMNS) {
      const column0 = column * dim;
      const column1 = column0 + dim;
      let sum00 = 0;
      let sum01 = 0;
      let sum10 = 0;
      let sum11 = 0;
      let sum20 = 0;
      let sum21 = 0;
      let sum30 = 0;
      let sum31 = 0;
      for (let d = 0; d < dim; d++) {
        const b0 = scratch[column0 + d];
        const b1 = scratch[column1 + d];
        let a = scratch[row0 + d];
        sum00 += a * b0;
        sum01 += a * b1;
        a = scratch[row1 + d];
        sum10 += a * b0;
        sum11 += a * b1;
        a = scratch[row2 + d];
        sum20 += a * b0;
        sum21 += a * b1;
        a = scratch[row3 + d];
        sum30 += a * b0;
        sum31 += a * b1;
      }
      const at = row * padded + column;
      gram[at] = sum00;
      gram[at + 1] = sum01;
      gram[at + padded] = sum10;
      gram[at + padded + 1] = sum11;
      gram[at + 2 * padded] = sum20;
      gram[at + 2 * padded + 1] = sum21;
      gram[at + 3 * padded] = sum30;
      gram[at + 3 * padded + 1] = sum31;
    }
  }
  // A tile starting on the diagonal also fills a few entries below it; the rest of the lower triangle is mirrored.
  for (let i = 0; i < count; i++) {
    const normI = gram[i * padded + i];
    for (let j = i; j < count; j++) {
      const squared = Math.max(0, normI + gram[j * padded + j] - 2 * gram[i * padded + j]);
      out[i * count + j] = squared;
      out[j * count + i] = squared;
    }
  }
  return out;
}

/** `count` rounded up to a whole number of 4-row tiles. */
export function paddedCount(count: number): number {
  return Math.ceil(count / TILE_ROWS) * TILE_ROWS;
}
