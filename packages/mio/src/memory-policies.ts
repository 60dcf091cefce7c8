import { concatTokens, type Rng, tf } from '@cir/core-tensor';
import { gatherTokens } from './gather-tokens';
import { GruCell } from './gru-cell';
import { type SelectTokensOptions, selectTokens } from './select-tokens';

export type MemoryPolicyName = 'none' | 'concat' | 'mio' | 'recurrent';

/** Bytes of one float32 value: tokens and parameters are stored as float32. */
const FLOAT32_BYTES = 4;

/**
 * How the reference-side tokens of earlier turns are carried into the next turn (the ablation of MAI Table 5).
 */
export interface MemoryPolicy {
  readonly name: MemoryPolicyName;
  /**
   * The memory after this turn. Neither input is disposed; the result is a new tensor owned by the caller.
   * @param memory `[batch, m, dim]`, or undefined on the first turn
   * @param current this turn's tokens `[batch, q, dim]`
   * @returns `[batch, tokensAfterTurns(turn, q), dim]`
   */
  update(memory: tf.Tensor3D | undefined, current: tf.Tensor3D): tf.Tensor3D;
  /** Tokens held after `turns` turns of `tokensPerTurn` tokens each. */
  tokensAfterTurns(turns: number, tokensPerTurn: number): number;
  /** Bytes held after `turns` turns: float32 tokens for `batch` sessions, plus the policy's parameters if any. */
  bytesAfterTurns(turns: number, tokensPerTurn: number, dim: number, batch?: number): number;
}

/** A recurrent policy also exposes the GRU cell whose parameters train with the model. */
export interface RecurrentMemoryPolicy extends MemoryPolicy {
  readonly name: 'recurrent';
  readonly cell: GruCell;
}

/** Keeps only the current turn's tokens: no history. */
export function noMemoryPolicy(): MemoryPolicy {
  return tokenMemoryPolicy('none', (_, current) => tf.clone(current), constantSize);
}

/** Concatenates every turn's tokens: lossless, but memory grows linearly with the turns. */
export function concatMemoryPolicy(): MemoryPolicy {
  return tokenMemoryPolicy(
    'concat',
    (memory, current) => (memory ? (concatTokens([memory, current]) as tf.Tensor3D) : tf.clone(current)),
    (turns, tokensPerTurn) => turns * tokensPerTurn,
  );
}

/**
 * MAI's Multi-turn Iterative Optimization: concatenate the previous memory with the current tokens and keep the
 * tokensPerTurn DPC-kNN density peaks (constant size, no parameters). No gradient flows through the selection;
 * the kept tokens carry their gradient back to where they came from.
 */
export function mioMemoryPolicy(options: SelectTokensOptions = {}): MemoryPolicy {
  return tokenMemoryPolicy(
    'mio',
    (memory, current) => {
      if (!memory) return tf.clone(current);
      return tf.tidy(() => {
        const combined = concatTokens([memory, current]) as tf.Tensor3D;
        // The typed-array selection: exact (float64 distances) and much faster than the tfjs version on CPU.
        const [batch, count, dim] = combined.shape as [number, number, number];
        const keep = current.shape[1];
        const indices = tf.tensor2d(
          selectTokens(combined.dataSync() as Float32Array, [batch, count, dim], keep, options),
          [batch, keep],
          'int32',
        );
        return gatherTokens(combined, indices);
      });
    },
    constantSize,
  );
}

/**
 * A learned recurrent memory: each token position carries a hidden state, h_t = GRU(current_t, h_{t−1}), with
 * weights shared across positions (h_0 = 0). Constant size, plus the cell's parameters.
 */
export function recurrentMemoryPolicy(options: { dim: number; seed?: number | Rng }): RecurrentMemoryPolicy {
  const cell = new GruCell(options.dim, { seed: options.seed });
  const base = tokenMemoryPolicy(
    'recurrent',
    (memory, current) => {
      if (memory && memory.shape.join() !== current.shape.join()) {
        throw new RangeError(
          `recurrent memory: memory [${memory.shape.join(', ')}] and current [${current.shape.join(', ')}] must have the same shape`,
        );
      }
      return tf.tidy(() => cell.apply(current, memory ?? tf.zerosLike(current)) as tf.Tensor3D);
    },
    constantSize,
  );
  return {
    ...base,
    name: 'recurrent',
    cell,
    bytesAfterTurns: (turns, tokensPerTurn, dim, batch = 1) => {
      if (dim !== cell.dim)
        throw new RangeError(`recurrent memory: its cell has dim ${cell.dim}, not ${dim}`);
      return base.bytesAfterTurns(turns, tokensPerTurn, dim, batch) + cell.parameterCount() * FLOAT32_BYTES;
    },
  };
}

/** A policy by name, for ablation switches. `dim` is required by the recurrent policy. */
export function createMemoryPolicy(
  name: MemoryPolicyName,
  options: SelectTokensOptions & { dim?: number; seed?: number | Rng } = {},
): MemoryPolicy {
  switch (name) {
    case 'none':
      return noMemoryPolicy();
    case 'concat':
      return concatMemoryPolicy();
    case 'mio':
      return mioMemoryPolicy({ k: options.k });
    case 'recurrent':
      if (options.dim === undefined) throw new Error('createMemoryPolicy: the recurrent policy needs dim');
      return recurrentMemoryPolicy({ dim: options.dim, seed: options.seed });
  }
}

function constantSize(turns: number, tokensPerTurn: number): number {
  return turns === 0 ? 0 : tokensPerTurn;
}

function tokenMemoryPolicy(
  name: MemoryPolicyName,
  combine: (memory: tf.Tensor3D | undefined, current: tf.Tensor3D) => tf.Tensor3D,
  tokens: (turns: number, tokensPerTurn: number) => number,
): MemoryPolicy {
  const tokensAfterTurns = (turns: number, tokensPerTurn: number): number => {
    if (![turns, tokensPerTurn].every((value) => Number.isInteger(value) && value >= 0)) {
      throw new RangeError(`${name} memory: turns and tokensPerTurn must be non-negative integers`);
    }
    return tokens(turns, tokensPerTurn);
  };
  return {
    name,
    update(memory, current) {
      if (memory && (memory.shape[0] !== current.shape[0] || memory.shape[2] !== current.shape[2])) {
        throw new RangeError(
          `${name} memory: memory [${memory.shape.join(', ')}] and current [${current.shape.join(', ')}] differ in batch or dim`,
        );
      }
      return combine(memory, current);
    },
    tokensAfterTurns,
    bytesAfterTurns: (turns, tokensPerTurn, dim, batch = 1) =>
      tokensAfterTurns(turns, tokensPerTurn) * dim * batch * FLOAT32_BYTES,
  };
}
