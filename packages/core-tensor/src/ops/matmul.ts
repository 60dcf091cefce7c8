import { tf } from '../backend';

/**
 * 2-D matrix product with a hand-written gradient.
 *
 * tfjs-wasm sends `matMul` to XNNPACK's fast path only when neither operand is transposed and the batch is 1;
 * its autodiff gradient uses the transpose flags (dA = dY·Bᵀ, dB = Aᵀ·dY) and falls into a scalar loop that is
 * ~15× slower. Materialising the transposes keeps forward and backward on the fast path.
 *
 * @param a `[m, k]` (or `[k, m]` when `transposeA`)
 * @param b `[k, n]` (or `[n, k]` when `transposeB`)
 * @returns `[m, n]`
 */
export function matMul2d(
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  transposeA = false,
  transposeB = false,
): tf.Tensor2D {
  const product = tf.customGrad((left, right, save) => {
    const leftTensor = left as tf.Tensor2D;
    const rightTensor = right as tf.Tensor2D;
    const saveTensors = save as tf.GradSaveFunc;
    const leftPlain = transposeA ? tf.transpose(leftTensor) : leftTensor;
    const rightPlain = transposeB ? tf.transpose(rightTensor) : rightTensor;
    saveTensors([leftPlain, rightPlain]);
    const value = tf.matMul(leftPlain, rightPlain);
    return {
      value,
      gradFunc: (dy, saved) => {
        const [leftSaved, rightSaved] = saved as [tf.Tensor2D, tf.Tensor2D];
        const dyTensor = dy as tf.Tensor2D;
        // d(left·right): dLeft = dy·rightᵀ, dRight = leftᵀ·dy, then undo the input transposes.
        const dLeftPlain = tf.matMul(dyTensor, tf.transpose(rightSaved));
        const dRightPlain = tf.matMul(tf.transpose(leftSaved), dyTensor);
        return [
          transposeA ? tf.transpose(dLeftPlain) : dLeftPlain,
          transposeB ? tf.transpose(dRightPlain) : dRightPlain,
        ];
      },
    };
  });
  return product(a, b) as tf.Tensor2D;
}

/**
 * `x · w` for `x` of any rank: the leading axes are flattened so the product runs as one 2-D matMul.
 *
 * @param x `[..., inFeatures]`
 * @param weight `[inFeatures, outFeatures]`
 * @returns `[..., outFeatures]`
 */
export function matMulLastAxis(x: tf.Tensor, weight: tf.Tensor2D): tf.Tensor {
  const inFeatures = x.shape[x.shape.length - 1]!;
  const outFeatures = weight.shape[1];
  const flat = x.rank === 2 ? (x as tf.Tensor2D) : (tf.reshape(x, [-1, inFeatures]) as tf.Tensor2D);
  const product = matMul2d(flat, weight);
  return x.rank === 2 ? product : tf.reshape(product, [...x.shape.slice(0, -1), outFeatures]);
}

/**
 * Batched matrix product `[batch, m, k] · [batch, k, n]` with a gradient that transposes explicitly instead of
 * using the transpose flags (which are slower on wasm and cpu), so forward and backward run the same kernel.
 *
 * @param a `[batch, m, k]` (or `[batch, k, m]` when `transposeA`)
 * @param b `[batch, k, n]` (or `[batch, n, k]` when `transposeB`)
 * @returns `[batch, m, n]`
 */
export function batchMatMul(
  a: tf.Tensor3D,
  b: tf.Tensor3D,
  transposeA = false,
  transposeB = false,
): tf.Tensor3D {
  const swapLast = (x: tf.Tensor3D): tf.Tensor3D => tf.transpose(x, [0, 2, 1]);
  const product = tf.customGrad((left, right, save) => {
    const leftPlain = transposeA ? swapLast(left as tf.Tensor3D) : (left as tf.Tensor3D);
    const rightPlain = transposeB ? swapLast(right as tf.Tensor3D) : (right as tf.Tensor3D);
    (save as tf.GradSaveFunc)([leftPlain, rightPlain]);
    return {
      value: tf.matMul(leftPlain, rightPlain),
      gradFunc: (dy, saved) => {
        const [leftSaved, rightSaved] = saved as [tf.Tensor3D, tf.Tensor3D];
        const dyTensor = dy as tf.Tensor3D;
        const dLeftPlain = tf.matMul(dyTensor, swapLast(rightSaved)) as tf.Tensor3D;
        const dRightPlain = tf.matMul(swapLast(leftSaved), dyTensor) as tf.Tensor3D;
        return [
          transposeA ? swapLast(dLeftPlain) : dLeftPlain,
          transposeB ? swapLast(dRightPlain) : dRightPlain,
        ];
      },
    };
  });
  return product(a, b) as tf.Tensor3D;
}
