import { Module, type Rng, type tf } from '@cir/core-tensor';
import { createMemoryPolicy, type MemoryPolicy } from '@cir/mio';
import type { MaiConfig } from './config';

/**
 * How the memory tokens evolve from turn to turn (MAI §4.2, "Multi-turn Iterative Optimization"), one of
 * @cir/mio's policies:
 * - mio: concatenate the previous memory with this turn's BSA tokens and keep `queries` of them by DPC-kNN
 *   (eqs. 1–3); no gradient through the choice, gradients through the kept tokens. Constant size.
 * - concat: keep every turn's tokens (grows by `queries` per turn).
 * - recurrent: a GRU over the token sets (FashionNTM-style recurrent memory). Constant size, learned.
 * - none: only the current turn's tokens (the "multiple single-turn" paradigm).
 */
export class MemoryUpdate extends Module {
  private readonly policy: MemoryPolicy;

  constructor(
    readonly config: Pick<MaiConfig, 'memory' | 'queries' | 'dim' | 'mioNeighbours'>,
    rng: Rng,
  ) {
    super();
    this.policy = createMemoryPolicy(config.memory, { k: config.mioNeighbours, dim: config.dim, seed: rng });
    if ('cell' in this.policy) this.addModule('recurrent', this.policy.cell as Module);
  }

  /**
   * @param memory previous memory `[batch, memoryTokens, dim]`, undefined at the first turn
   * @param current this turn's tokens `[batch, queries, dim]`
   * @returns the new memory
   */
  update(memory: tf.Tensor3D | undefined, current: tf.Tensor3D): tf.Tensor3D {
    return this.policy.update(memory, current);
  }

  /** Memory tokens a session holds after `turns` turns. */
  tokensAfterTurns(turns: number): number {
    return this.policy.tokensAfterTurns(turns, this.config.queries);
  }

  /** Bytes of memory a session holds after `turns` turns (float32 tokens, plus the policy's parameters). */
  bytesAfterTurns(turns: number): number {
    return this.policy.bytesAfterTurns(turns, this.config.queries, this.config.dim);
  }
}
