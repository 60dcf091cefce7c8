import { tf } from '../backend';
import { hostKernel, hostKernelsPreferred } from './host-kernel';

/** `out[i] = table[ids[i]]` for rows of `dim` values. */
function copyRows(table: Float32Array, ids: ArrayLike<number>, dim: number, out: Float32Array): void {
  const rows = table.length / dim;
  for (let index = 0; index < ids.length; index++) {
    const id = ids[index]!;
    if (!(id >= 0 && id < rows)) throw new RangeError(`gatherRows: id ${id} is outside [0, ${rows})`);
    out.set(table.subarray(id * dim, (id + 1) * dim), index * dim);
  }
}

/** The gradient of a lookup: `out[ids[i]] += dy[i]`, rows of `dim` values, `out` zeroed first. */
function scatterAddRows(dy: Float32Array, ids: ArrayLike<number>, dim: number, out: Float32Array): void {
  out.fill(0);
  for (let index = 0; index < ids.length; index++) {
    const target = ids[index]! * dim;
    const source = index * dim;
    for (let d = 0; d < dim; d++) out[target + d]! += dy[source + d]!;
  }
}

/**
 * Row lookup `table[ids]` with a hand-written gradient (duplicate ids add up).
 *
 * On wasm and cpu both passes are row copies on the host (tfjs-wasm's GatherV2 copies an element at a time: ~4 ms
 * for 32 rows of 3k values). Elsewhere `gather`, with a gradient from `scatterND`: tfjs differentiates `gather`
 * through `UnsortedSegmentSum`, which the wasm backend does not have and the cpu backend runs very slowly.
 *
 * @param table `[rows, dim]`
 * @param ids int32 `[...idShape]` with values in [0, rows)
 * @returns `[...idShape, dim]`
 */
export function gatherRows(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  const [rows, dim] = table.shape;
  const flatIds = tf.reshape(ids, [-1]) as tf.Tensor1D;
  const count = flatIds.shape[0];
  const host = hostKernelsPreferred();
  const lookup = tf.customGrad((source, save) => {
    // Saved, not captured: autodiff disposes the forward pass's other tensors before the backward pass runs.
    (save as tf.GradSaveFunc)([flatIds]);
    const value = host
      ? hostKernel([source as tf.Tensor, flatIds], [count, dim], (out, data, idData) =>
          copyRows(data as Float32Array, idData!, dim, out),
        )
      : tf.gather(source as tf.Tensor2D, flatIds);
    return {
      value,
      gradFunc: (dy, saved) =>
        host
          ? hostKernel([dy as tf.Tensor, saved[0]!], [rows, dim], (out, upstream, idData) =>
              scatterAddRows(upstream as Float32Array, idData!, dim, out),
            )
          : tf.scatterND(tf.reshape(saved[0]!, [-1, 1]), tf.reshape(dy as tf.Tensor, [-1, dim]), [rows, dim]),
    };
  });
  const flat = lookup(table) as tf.Tensor2D;
  return tf.reshape(flat, [...ids.shape, dim]);
}
