import { tf } from '../backend';

/**
 * Row lookup `table[ids]` with a gradient built from `scatterND`.
 *
 * tfjs differentiates `gather` through `UnsortedSegmentSum`, which the wasm backend does not have and the cpu
 * backend runs very slowly. `scatterND` adds duplicate ids together, which is exactly the gradient of a lookup.
 *
 * @param table `[rows, dim]`
 * @param ids int32 `[...idShape]` with values in [0, rows)
 * @returns `[...idShape, dim]`
 */
export function gatherRows(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  const [rows, dim] = table.shape;
  const flatIds = tf.reshape(ids, [-1]) as tf.Tensor1D;
  const lookup = tf.customGrad((source, save) => {
    // Saved, not captured: autodiff disposes the forward pass's other tensors before the backward pass runs.
    (save as tf.GradSaveFunc)([flatIds]);
    const value = tf.gather(source as tf.Tensor2D, flatIds);
    return {
      value,
      gradFunc: (dy, saved) =>
        tf.scatterND(tf.reshape(saved[0]!, [-1, 1]), tf.reshape(dy as tf.Tensor, [-1, dim]), [rows, dim]),
    };
  });
  const flat = lookup(table) as tf.Tensor2D;
  return tf.reshape(flat, [...ids.shape, dim]);
}
