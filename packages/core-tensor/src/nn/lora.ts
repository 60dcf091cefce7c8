import { tf } from '../backend';
import { matMulLastAxis } from '../ops/matmul';
import type { Rng } from '../rng';
import type { Linear } from './linear';
import { init, Module, toRng } from './module';

export interface LoraOptions {
  /** Rank r of the update. */
  rank: number;
  /** Scale numerator: the update is multiplied by alpha / rank (LoRA paper, Hu et al. 2021, §4.1). */
  alpha?: number;
  seed?: number | Rng;
}

/**
 * LoRA on a Linear layer: `y = base(x) + (alpha / r) · x·A·B`, with the base weights frozen,
 * A `[in, r]` random and B `[r, out]` zero so that training starts from the base model exactly.
 */
export class LoraLinear extends Module {
  readonly loraA: tf.Variable;
  readonly loraB: tf.Variable;
  readonly scale: number;

  constructor(
    readonly base: Linear,
    options: LoraOptions,
  ) {
    super();
    this.addModule('base', base);
    base.setTrainable(false);
    const rng = toRng(options.seed, 'lora');
    this.scale = (options.alpha ?? options.rank) / options.rank;
    const std = 1 / Math.sqrt(base.inFeatures);
    this.loraA = this.addParameter('lora_A', init.normal(rng, [base.inFeatures, options.rank], std));
    this.loraB = this.addParameter('lora_B', init.zeros([options.rank, base.outFeatures]));
  }

  /** @param x `[..., inFeatures]` @returns `[..., outFeatures]` */
  apply(x: tf.Tensor): tf.Tensor {
    const update = matMulLastAxis(matMulLastAxis(x, this.loraA as tf.Tensor2D), this.loraB as tf.Tensor2D);
    return tf.add(this.base.apply(x), tf.mul(update, this.scale));
  }

  /** Folds the update into the base weight (for inference) and resets B to zero. */
  merge(): void {
    tf.tidy(() => {
      const delta = tf.mul(tf.matMul(this.loraA, this.loraB), this.scale);
      this.base.weight.assign(tf.add(this.base.weight, delta));
      this.loraB.assign(tf.zerosLike(this.loraB));
    });
  }
}
