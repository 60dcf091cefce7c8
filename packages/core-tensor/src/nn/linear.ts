import { tf } from '../backend';
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
    return this.bias ? tf.add(product, this.bias) : product;
  }
}
