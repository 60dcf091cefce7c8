import { tf } from '../backend';
import { batchMatMul } from '../ops/matmul';
import type { Rng } from '../rng';
import { Linear } from './linear';
import { Module, toRng } from './module';
import type { RotaryEmbedding } from './rotary';

export interface MultiHeadAttentionOptions {
  /** Model width of the queries (and of the output). */
  dim: number;
  heads: number;
  /** Key/value heads for grouped-query attention (Ainslie et al. 2023); defaults to `heads`. */
  keyValueHeads?: number;
  /** Width of the context for cross-attention; defaults to `dim`. */
  contextDim?: number;
  bias?: boolean;
  /** Rotary position embedding applied to queries and keys (self-attention only). */
  rotary?: RotaryEmbedding;
  seed?: number | Rng;
}

export interface AttentionCallOptions {
  /** Keys and values for cross-attention `[batch, contextTokens, contextDim]`; self-attention when absent. */
  context?: tf.Tensor3D;
  /** 1 for real tokens, 0 for padding, over the keys: `[batch, keyTokens]`. */
  keyMask?: tf.Tensor2D;
  /** Each query attends only to keys at or before its position. */
  causal?: boolean;
  /** Position of the first query token, for rotary embeddings. */
  positionOffset?: number;
}

/** Added to the score of a masked key: its softmax weight is exactly zero (the frozen paths add the same). */
export const MASKED_SCORE = -1e9;

/**
 * Multi-head scaled dot-product attention (Vaswani et al. 2017, eq. 1), self or cross, with key padding masks,
 * causal masking, grouped-query heads and optional rotary embeddings.
 */
export class MultiHeadAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly output: Linear;
  readonly headDim: number;
  readonly keyValueHeads: number;

  constructor(readonly options: MultiHeadAttentionOptions) {
    super();
    const { dim, heads } = options;
    if (dim % heads !== 0)
      throw new Error(`MultiHeadAttention: dim ${dim} is not divisible by ${heads} heads`);
    this.headDim = dim / heads;
    this.keyValueHeads = options.keyValueHeads ?? heads;
    if (heads % this.keyValueHeads !== 0) {
      throw new Error(
        `MultiHeadAttention: ${heads} heads are not a multiple of ${this.keyValueHeads} key/value heads`,
      );
    }
    const rng = toRng(options.seed, 'attention');
    const contextDim = options.contextDim ?? dim;
    const bias = options.bias ?? true;
    this.query = this.addModule('query', new Linear(dim, dim, { bias, seed: rng }));
    this.key = this.addModule(
      'key',
      new Linear(contextDim, this.keyValueHeads * this.headDim, { bias, seed: rng }),
    );
    this.value = this.addModule(
      'value',
      new Linear(contextDim, this.keyValueHeads * this.headDim, { bias, seed: rng }),
    );
    this.output = this.addModule('output', new Linear(dim, dim, { bias, seed: rng }));
  }

  /** `[batch, tokens, heads·headDim]` → `[batch, heads, tokens, headDim]` */
  private splitHeads(x: tf.Tensor, heads: number): tf.Tensor4D {
    const [batch, tokens] = x.shape as [number, number, number];
    return tf.transpose(tf.reshape(x, [batch, tokens, heads, this.headDim]), [0, 2, 1, 3]) as tf.Tensor4D;
  }

  /** Repeats each key/value head for the query heads that share it. */
  private repeatKeyValueHeads(x: tf.Tensor4D): tf.Tensor4D {
    const groups = this.options.heads / this.keyValueHeads;
    if (groups === 1) return x;
    const [batch, heads, tokens, headDim] = x.shape;
    // Rank-4 tile: tfjs has no tile gradient above rank 4.
    const tiled = tf.tile(tf.reshape(x, [batch, heads, 1, tokens * headDim]), [1, 1, groups, 1]);
    return tf.reshape(tiled, [batch, heads * groups, tokens, headDim]) as tf.Tensor4D;
  }

  /**
   * @param x queries `[batch, queryTokens, dim]`
   * @returns `[batch, queryTokens, dim]`
   */
  apply(x: tf.Tensor3D, call: AttentionCallOptions = {}): tf.Tensor3D {
    const { heads } = this.options;
    const [batch, queryTokens] = x.shape;
    const source = call.context ?? x;
    const keyTokens = source.shape[1];
    let queries = this.splitHeads(this.query.apply(x), heads);
    let keys = this.splitHeads(this.key.apply(source), this.keyValueHeads);
    const values = this.repeatKeyValueHeads(this.splitHeads(this.value.apply(source), this.keyValueHeads));
    if (this.options.rotary && !call.context) {
      queries = this.options.rotary.apply(queries, call.positionOffset ?? 0);
      keys = this.options.rotary.apply(keys, call.positionOffset ?? 0);
    }
    keys = this.repeatKeyValueHeads(keys);
    const flatQueries = tf.reshape(queries, [batch * heads, queryTokens, this.headDim]) as tf.Tensor3D;
    const flatKeys = tf.reshape(keys, [batch * heads, keyTokens, this.headDim]) as tf.Tensor3D;
    const flatValues = tf.reshape(values, [batch * heads, keyTokens, this.headDim]) as tf.Tensor3D;
    let scores: tf.Tensor = tf.reshape(
      tf.mul(batchMatMul(flatQueries, flatKeys, false, true), 1 / Math.sqrt(this.headDim)),
      [batch, heads, queryTokens, keyTokens],
    );
    if (call.keyMask) {
      const padding = tf.mul(tf.sub(1, tf.reshape(call.keyMask, [batch, 1, 1, keyTokens])), MASKED_SCORE);
      scores = tf.add(scores, padding);
    }
    if (call.causal) {
      const offset = call.positionOffset ?? 0;
      const allowed = tf.linalg.bandPart(tf.ones([queryTokens, keyTokens]), -1, offset);
      scores = tf.add(scores, tf.mul(tf.sub(1, allowed), MASKED_SCORE));
    }
    const weights = tf.reshape(tf.softmax(scores, -1), [
      batch * heads,
      queryTokens,
      keyTokens,
    ]) as tf.Tensor3D;
    const attended = tf.reshape(batchMatMul(weights, flatValues), [batch, heads, queryTokens, this.headDim]);
    const merged = tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [
      batch,
      queryTokens,
      heads * this.headDim,
    ]);
    return this.output.apply(merged) as tf.Tensor3D;
  }
}
