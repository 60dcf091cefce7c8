import { tf } from '../backend';
import { hostKernel, hostKernelsPreferred } from '../ops/host-kernel';
import { layerNormBackward, layerNormForward } from '../ops/layer-norm-kernels';
import { init, Module } from './module';

/** Layer normalisation over the last axis with learned gain and bias (Ba et al. 2016). */
export class LayerNorm extends Module {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;

  constructor(
    readonly dim: number,
    readonly epsilon = 1e-5,
  ) {
    super();
    this.gamma = this.addParameter('weight', init.ones([dim]));
    this.beta = this.addParameter('bias', init.zeros([dim]));
  }

  /** @param x `[..., dim]` @returns `[..., dim]` */
  apply(x: tf.Tensor): tf.Tensor {
    if (hostKernelsPreferred()) return layerNormHost(x, this.gamma, this.beta, this.epsilon);
    const mean = tf.mean(x, -1, true);
    const centered = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centered), -1, true);
    const normalized = tf.mul(centered, tf.rsqrt(tf.add(variance, this.epsilon)));
    return tf.add(tf.mul(normalized, this.gamma), this.beta);
  }
}

/** Root-mean-square normalisation over the last axis with a learned gain (Zhang & Sennrich 2019; Llama). */
export class RMSNorm extends Module {
  readonly weight: tf.Variable;

  constructor(
    readonly dim: number,
    readonly epsilon = 1e-6,
  ) {
    super();
    this.weight = this.addParameter('weight', init.ones([dim]));
  }

  /** @param x `[..., dim]` @returns `[..., dim]` */
  apply(x: tf.Tensor): tf.Tensor {
    const meanSquare = tf.mean(tf.square(x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(meanSquare, this.epsilon))), this.weight);
  }
}

/**
 * Layer normalisation as one host kernel forward and one backward (wasm and cpu; ops/layer-norm-kernels.ts),
 * instead of ~10 tfjs kernels forward and ~20 backward (the gain and bias gradients sum over every leading axis,
 * which tfjs-wasm does by transposing first).
 *
 * @param x `[..., dim]` @param gamma `[dim]` @param beta `[dim]` @returns `[..., dim]`
 */
function layerNormHost(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  const dim = gamma.shape[0]!;
  const normalize = tf.customGrad((input, gain, shift, save) => {
    const value = input as tf.Tensor;
    (save as tf.GradSaveFunc)([value, gain as tf.Tensor]);
    // Each row's mean and 1/σ, for the backward pass (plain memory, not a tensor: 2 floats a row).
    const statistics = new Float32Array((2 * value.size) / dim);
    const output = hostKernel(
      [value, gain as tf.Tensor, shift as tf.Tensor],
      value.shape,
      (out, data, g, b) => {
        layerNormForward(
          data as Float32Array,
          g as Float32Array,
          b as Float32Array,
          dim,
          epsilon,
          out,
          statistics,
        );
      },
    );
    return {
      value: output,
      gradFunc: (dy, saved) => {
        const [kept, keptGain] = saved as [tf.Tensor, tf.Tensor];
        const gainGradient = new Float64Array(dim);
        const shiftGradient = new Float64Array(dim);
        const inputGradient = hostKernel(
          [kept, keptGain, dy as tf.Tensor],
          kept.shape,
          (out, data, g, upstream) => {
            const [xs, gs, dys] = [data, g, upstream] as Float32Array[];
            layerNormBackward(xs!, gs!, dys!, statistics, dim, out, gainGradient, shiftGradient);
          },
        );
        return [
          inputGradient,
          tf.tensor1d(Float32Array.from(gainGradient)),
          tf.tensor1d(Float32Array.from(shiftGradient)),
        ];
      },
    };
  });
  return normalize(x, gamma, beta) as tf.Tensor;
}
