import { gatherRows, tf } from '@cir/core-tensor';

/**
 * The tokens at `indices` of each batch element, differentiable with respect to the token values: the gradient
 * of a kept token flows back to its position, dropped tokens get zero, and nothing flows through the indices.
 *
 * Runs as one row lookup on the flattened `[batch · n, dim]` view with per-element offsets, because `gatherRows`
 * has a scatterND gradient where tfjs's batched `gather` gradient needs a kernel the wasm backend lacks.
 *
 * @param tokens `[batch, n, dim]`
 * @param indices int32 `[batch, keep]` with values in [0, n)
 * @returns `[batch, keep, dim]`
 */
export function gatherTokens(tokens: tf.Tensor3D, indices: tf.Tensor2D): tf.Tensor3D {
  const [batch, count, dim] = tokens.shape;
  if (indices.dtype !== 'int32' || indices.shape[0] !== batch) {
    throw new RangeError(
      `gatherTokens: indices must be int32 [batch = ${batch}, keep], got ${indices.dtype} [${indices.shape.join(', ')}]`,
    );
  }
  return tf.tidy(() => {
    const offsets = tf.reshape(tf.range(0, batch * count, count, 'int32'), [batch, 1]);
    const rows = gatherRows(tf.reshape(tokens, [batch * count, dim]), tf.add(indices, offsets));
    return rows as tf.Tensor3D;
  });
}
