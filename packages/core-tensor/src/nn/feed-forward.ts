import { tf } from '../backend';
import { geluInto, geluWithSlopeInto } from '../ops/gelu-table';
import { hostKernel, hostKernelOutputs, hostKernelsPreferred, recordingGradients } from '../ops/host-kernel';
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
 * this keeps one. On wasm and cpu the forward pass is one host loop over tables of exact values
 * (ops/gelu-table.ts; tfjs-wasm's Erf and Exp kernels took 40 % of a MAI training step) that, when gradients are
 * recorded, also writes the slope GELU'(x) for the backward pass (dx = dy · slope). Elsewhere tfjs's erf and exp,
 * keeping x.
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (hostKernelsPreferred())
    return recordingGradients()
      ? geluHostTraining(x)
      : hostKernel([x], x.shape, (out, data) => geluInto(data!, out));
  const activation = tf.customGrad((input, save) => {
    const value = input as tf.Tensor;
    (save as tf.GradSaveFunc)([value]);
    return {
      value: tf.mul(tf.mul(value, 0.5), tf.add(1, tf.erf(tf.mul(value, Math.SQRT1_2)))),
      gradFunc: (dy, saved) => {
        const [kept] = saved as [tf.Tensor];
        const cumulative = tf.mul(tf.add(1, tf.erf(tf.mul(kept, Math.SQRT1_2))), 0.5);
        const density = tf.mul(tf.exp(tf.mul(tf.square(kept), -0.5)), 1 / Math.sqrt(2 * Math.PI));
        return tf.mul(dy as tf.Tensor, tf.add(cumulative, tf.mul(kept, density)));
      },
    };
  });
  return activation(x);
}

/** GELU on the host for training: the forward pass also writes GELU'(x), and the backward pass is dy · GELU'(x). */
function geluHostTraining(x: tf.Tensor): tf.Tensor {
  const activation = tf.customGrad((input, save) => {
    const [value, slope] = hostKernelOutputs(
      [input as tf.Tensor],
      [x.shape, x.shape],
      ([out, slopes], data) => geluWithSlopeInto(data!, out!, slopes!),
    );
    (save as tf.GradSaveFunc)([slope!]);
    return { value: value!, gradFunc: (dy, saved) => tf.mul(dy as tf.Tensor, saved[0]!) };
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
