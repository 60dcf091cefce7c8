/**
 * Inner products of every row of `a` [aRows, dim] with every row of `b` [bRows, dim], written to `out`
 * [aRows, bRows] (allocated when omitted) and returned.
 *
 * The portable fallback for the onnxruntime scorer: `b` rows are the outer loop so one row stays in L1 while all
 * of `a` (a query batch, typically ≤ 64 KB) streams from L2, and four accumulators break the add dependency chain.
 */
export function innerProductMatrix(
  a: Float32Array,
  aRows: number,
  b: Float32Array,
  bRows: number,
  dim: number,
  out: Float32Array = new Float32Array(aRows * bRows),
): Float32Array {
  if (a.length < aRows * dim || b.length < bRows * dim || out.length < aRows * bRows) {
    throw new RangeError(
      `innerProductMatrix: arrays are shorter than [${aRows}, ${dim}] · [${bRows}, ${dim}]ᵀ`,
    );
  }
  const unrolledEnd = dim - (dim % 4);
  for (let bRow = 0; bRow < bRows; bRow++) {
    const bOffset = bRow * dim;
    for (let aRow = 0; aRow < aRows; aRow++) {
      const aOffset = aRow * dim;
      let sum0 = 0;
      let sum1 = 0;
      let sum2 = 0;
      let sum3 = 0;
      let column = 0;
      for (; column < unrolledEnd; column += 4) {
        sum0 += a[aOffset + column] * b[bOffset + column];
        sum1 += a[aOffset + column + 1] * b[bOffset + column + 1];
        sum2 += a[aOffset + column + 2] * b[bOffset + column + 2];
        sum3 += a[aOffset + column + 3] * b[bOffset + column + 3];
      }
      for (; column < dim; column++) sum0 += a[aOffset + column] * b[bOffset + column];
      out[aRow * bRows + bRow] = sum0 + sum1 + sum2 + sum3;
    }
  }
  return out;
}
