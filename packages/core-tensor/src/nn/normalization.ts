import { tf } from '../backend';
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
