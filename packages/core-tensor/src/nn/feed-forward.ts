import { tf } from '../backend';
import { geluGradientInto, geluInto } from '../ops/gelu-table';
import { hostKernel, hostKernelsPreferred } from '../ops/host-kernel';
import type { Rng } from '../rng';
import { Linear } from './linear';
import { Module, toRng } from './module';

export type FeedForwardActivation = 'gelu' | 'swiglu';

export interface FeedForwardOptions {
  dim: number;
  /** Hidden width; defaults to 4 × dim. */
  hiddenDim?: number;
  activation?: FeedForwardActivation;
  bias?: boolean;
  seed?: number | Rng;
}

/**
 * Exact GELU, x·Φ(x) = x/2·(1 + erf(x/√2)) (Hendrycks & Gimpel 2016), with a hand-written gradient
 * Φ(x) + x·φ(x): autodiff would keep four intermediate tensors of the FFN's hidden size for the backward pass,
 * this keeps only x (FFN activations dominate a transformer's training memory). On wasm and cpu both passes are one
 * host loop over tables of exact values (ops/gelu-table.ts; tfjs-wasm's Erf and Exp kernels took 40 % of a MAI
 * training step); elsewhere tfjs's erf and exp.
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  const host = hostKernelsPreferred();
  const activation = tf.customGrad((input, save) => {
    const value = input as tf.Tensor;
    (save as tf.GradSaveFunc)([value]);
    return {
      value: host
        ? hostKernel([value], value.shape, (out, data) => geluInto(data!, out))
        : tf.mul(tf.mul(value, 0.5), tf.add(1, tf.erf(tf.mul(value, Math.SQRT1_2)))),
      gradFunc: (dy, saved) => {
        const [kept] = saved as [tf.Tensor];
        const upstream = dy as tf.Tensor;
        if (host) {
          return hostKernel([kept, upstream], kept.shape, (out, data, gradient) =>
            geluGradientInto(data!, gradient!, out),
          );
        }
        const cumulative = tf.mul(tf.add(1, tf.erf(tf.mul(kept, Math.SQRT1_2))), 0.5);
        const density = tf.mul(tf.exp(tf.mul(tf.square(kept), -0.5)), 1 / Math.sqrt(2 * Math.PI));
        return tf.mul(upstream, tf.add(cumulative, tf.mul(kept, density)));
      },
    };
  });
  return activation(x);
}

/** SiLU / swish, x·σ(x). */
export function silu(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(x));
}

/**
 * Position-wise feed-forward network: `W2·GELU(W1·x)` (Vaswani et al. 2017), or the gated
 * `W2·(SiLU(W1·x) ⊙ W3·x)` of SwiGLU (Shazeer 2020) used by Llama-style decoders.
 */
export class FeedForward extends Module {
  readonly up: Linear;
  readonly gate: Linear | undefined;
  readonly down: Linear;
  readonly activation: FeedForwardActivation;

  constructor(options: FeedForwardOptions) {
    super();
    const hiddenDim = options.hiddenDim ?? 4 * options.dim;
    const bias = options.bias ?? true;
    const rng = toRng(options.seed, 'feed-forward');
    this.activation = options.activation ?? 'gelu';
    this.up = this.addModule('up', new Linear(options.dim, hiddenDim, { bias, seed: rng }));
    this.gate =
      this.activation === 'swiglu'
        ? this.addModule('gate', new Linear(options.dim, hiddenDim, { bias, seed: rng }))
        : undefined;
    this.down = this.addModule('down', new Linear(hiddenDim, options.dim, { bias, seed: rng }));
  }

  /** @param x `[..., dim]` @returns `[..., dim]` */
  apply(x: tf.Tensor): tf.Tensor {
    const hidden = this.gate ? tf.mul(silu(this.gate.apply(x)), this.up.apply(x)) : gelu(this.up.apply(x));
    return this.down.apply(hidden);
  }
}
