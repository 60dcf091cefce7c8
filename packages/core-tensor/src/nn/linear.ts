import { tf } from '../backend';
import { hostKernelsPreferred, recordingGradients, sumRows } from '../ops/host-kernel';
import { matMulLastAxis } from '../ops/matmul';
import type { Rng } from '../rng';
import { init, Module, toRng } from './module';

export interface LinearOptions {
  bias?: boolean;
  seed?: number | Rng;
}

/** `y = x·W + b` over the last axis. Weight layout `[inFeatures, outFeatures]`. */
export class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | undefined;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    const rng = toRng(options.seed, `linear-${inFeatures}x${outFeatures}`);
    this.weight = this.addParameter('weight', init.glorotUniform(rng, [inFeatures, outFeatures]));
    this.bias = options.bias === false ? undefined : this.addParameter('bias', init.zeros([outFeatures]));
  }

  /** @param x `[..., inFeatures]` @returns `[..., outFeatures]` */
  apply(x: tf.Tensor): tf.Tensor {
    const product = matMulLastAxis(x, this.weight as tf.Tensor2D);
    if (!this.bias) return product;
    return hostKernelsPreferred() && recordingGradients()
      ? addBias(product, this.bias)
      : tf.add(product, this.bias);
  }
}

/**
 * `x + bias` broadcast over the leading axes, with the bias gradient summed on the host (`sumRows`): tfjs-wasm
 * sums over leading axes by transposing first (~3 ms for a `[128, 32, 128]` gradient, ~0.3 ms here).
 * @param x `[..., n]` @param bias `[n]` @returns `[..., n]`
 */
function addBias(x: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  const columns = bias.shape[0]!;
  const add = tf.customGrad((input, shift) => ({
    value: tf.add(input as tf.Tensor, shift as tf.Tensor),
    gradFunc: (dy) => [tf.reshape(dy as tf.Tensor, x.shape), sumRows(dy as tf.Tensor, columns)],
  }));
  return add(x, bias) as tf.Tensor;
}
