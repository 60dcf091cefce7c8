import { tf } from '../backend';
import type { Rng } from '../rng';
import { init, Module, toRng } from './module';

/**
 * A set of learned query tokens (as in BLIP-2's Q-Former, MAI's BSA and CIR-LVLM's connector), shared by every
 * item of a batch.
 */
export class LearnedQueries extends Module {
  readonly queries: tf.Variable;

  constructor(
    readonly count: number,
    readonly dim: number,
    options: { seed?: number | Rng; std?: number } = {},
  ) {
    super();
    const rng = toRng(options.seed, 'learned-queries');
    this.queries = this.addParameter('queries', init.normal(rng, [count, dim], options.std ?? 0.02));
  }

  /** @returns `[batch, count, dim]` */
  apply(batch: number): tf.Tensor3D {
    // A broadcasting add: the wasm backend's Tile kernel is ~10× slower for this copy.
    return tf.add(tf.zeros([batch, this.count, this.dim]), this.queries) as tf.Tensor3D;
  }
}
