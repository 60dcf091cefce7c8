import { tf } from '../backend';
import { innerProductMatrix } from './inner-product';
import { l2Normalize, l2NormalizeTensor } from './normalize';

/**
 * Cosine similarity of every row of `a` [aRows, dim] with every row of `b` [bRows, dim] → Float32Array
 * [aRows, bRows]. A zero row has similarity 0 with everything.
 */
export function cosineMatrix(
  a: Float32Array,
  aRows: number,
  b: Float32Array,
  bRows: number,
  dim: number,
): Float32Array {
  return innerProductMatrix(l2Normalize(a, aRows, dim), aRows, l2Normalize(b, bRows, dim), bRows, dim);
}

/**
 * Differentiable cosine similarity of `a` [aRows, dim] with `b` [bRows, dim] → [aRows, bRows].
 * The explicit transpose keeps the matMul on tfjs-wasm's XNNPACK path: with a transpose flag it runs a scalar loop.
 */
export function cosineSimilarityMatrix(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.matMul(l2NormalizeTensor(a), tf.transpose(l2NormalizeTensor(b))));
}
