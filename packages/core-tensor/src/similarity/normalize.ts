import { tf } from '../backend';

/** Smallest norm divided by; keeps zero rows at zero and their gradient finite (as torch.nn.functional.normalize). */
const NORM_EPSILON = 1e-12;

function checkShape(data: Float32Array, rows: number, dim: number, name: string): void {
  if (data.length !== rows * dim) {
    throw new RangeError(`${name}: expected ${rows} × ${dim} = ${rows * dim} values, got ${data.length}`);
  }
}

/**
 * Scales every row of `data` [rows, dim] to unit L2 norm, in place, and returns `data`. All-zero rows stay zero.
 * Norms are accumulated in float64 so that long rows keep float32 precision.
 */
export function l2NormalizeInPlace(data: Float32Array, rows: number, dim: number): Float32Array {
  checkShape(data, rows, dim, 'l2NormalizeInPlace');
  for (let row = 0; row < rows; row++) {
    const offset = row * dim;
    let squaredNorm = 0;
    for (let column = 0; column < dim; column++) squaredNorm += data[offset + column] * data[offset + column];
    if (squaredNorm === 0) continue;
    const inverseNorm = 1 / Math.sqrt(squaredNorm);
    for (let column = 0; column < dim; column++) data[offset + column] *= inverseNorm;
  }
  return data;
}

/** Returns a copy of `data` [rows, dim] with every row scaled to unit L2 norm. All-zero rows stay zero. */
export function l2Normalize(data: Float32Array, rows: number, dim: number): Float32Array {
  checkShape(data, rows, dim, 'l2Normalize');
  return l2NormalizeInPlace(data.slice(), rows, dim);
}

/**
 * Differentiable row-wise L2 normalisation of `x` [rows, dim] → [rows, dim]: x / max(‖x‖, ε). The clamp keeps
 * zero rows at zero and their gradient finite instead of NaN.
 */
export function l2NormalizeTensor(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const squaredNorm = tf.sum(tf.square(x), 1, true);
    return tf.mul(x, tf.rsqrt(tf.maximum(squaredNorm, NORM_EPSILON * NORM_EPSILON)));
  });
}
