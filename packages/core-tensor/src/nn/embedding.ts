import type { tf } from '../backend';
import { gatherRows } from '../ops/gather';
import type { Rng } from '../rng';
import { init, Module, toRng } from './module';

/** Token embedding table `[vocabulary, dim]` with a lookup whose gradient works on the wasm backend. */
export class Embedding extends Module {
  readonly table: tf.Variable;

  constructor(
    readonly vocabularySize: number,
    readonly dim: number,
    options: { seed?: number | Rng; std?: number } = {},
  ) {
    super();
    const rng = toRng(options.seed, 'embedding');
    this.table = this.addParameter('weight', init.normal(rng, [vocabularySize, dim], options.std ?? 0.02));
  }

  /** @param ids int32 `[...shape]` @returns `[...shape, dim]` */
  apply(ids: tf.Tensor): tf.Tensor {
    return gatherRows(this.table as tf.Tensor2D, ids);
  }
}
