import { MASKED_SCORE, type MultiHeadAttention } from '../nn/attention';
import type { FeedForward } from '../nn/feed-forward';
import type { Linear } from '../nn/linear';
import type { LayerNorm } from '../nn/normalization';
import { geluInPlace } from '../ops/gelu-table';
import { layerNormForward } from '../ops/layer-norm-kernels';
import { nativeMatMul } from '../ops/native-matmul';
import { NativePreNormBlock, type PreNormBlockParts } from './native-block';

/**
 * Frozen inference: the forward pass of trained modules on plain Float32Arrays, for serving.
 *
 * Why: a tfjs kernel costs 20–80 µs of fixed overhead here (engine bookkeeping, wasm heap allocation), and a
 * transformer layer is ~40 kernels, so a single retrieval turn spent ~15 ms in overhead for ~1 ms of arithmetic.
 * Here products go to onnxruntime's MLAS sgemm (synchronous, `nativeMatMul`; a JavaScript loop when it is
 * unavailable) and everything else is a plain loop over the rows; a whole pre-norm block runs as one onnxruntime
 * graph when onnxruntime loads (`native-block.ts`). Weights are copied once when freezing: a frozen module does not
 * follow later training of its source (freeze again).
 *
 * Activations are row-major `[rows, features]`; a sequence batch `[batch, tokens, features]` is
 * `rows = batch · tokens`.
 */

/** `x [rows, k] · w [k, n]` (+ bias `[n]`). */
export function linearRows(
  x: Float32Array,
  rows: number,
  weight: Float32Array,
  k: number,
  n: number,
  bias?: Float32Array,
): Float32Array {
  const native = nativeMatMul();
  let out: Float32Array;
  if (native && rows > 0) {
    out = native.gemm(x, weight, rows, k, n, false, false);
  } else {
    out = new Float32Array(rows * n);
    for (let row = 0; row < rows; row++) {
      const target = row * n;
      for (let inner = 0; inner < k; inner++) {
        const value = x[row * k + inner]!;
        if (value === 0) continue;
        const source = inner * n;
        for (let column = 0; column < n; column++) out[target + column]! += value * weight[source + column]!;
      }
    }
  }
  if (bias) {
    for (let row = 0; row < rows; row++) {
      const offset = row * n;
      for (let column = 0; column < n; column++) out[offset + column]! += bias[column]!;
    }
  }
  return out;
}

/** `a += b`, element-wise, in place. */
export function addInPlace(a: Float32Array, b: Float32Array): Float32Array {
  for (let index = 0; index < a.length; index++) a[index]! += b[index]!;
  return a;
}

/** Each row scaled to unit L2 norm, in place (zero rows stay zero). */
export function l2NormalizeRowsInPlace(x: Float32Array, rows: number, dim: number): Float32Array {
  for (let row = 0; row < rows; row++) {
    let sum = 0;
    for (let d = 0; d < dim; d++) sum += x[row * dim + d]! ** 2;
    const scale = sum > 0 ? 1 / Math.sqrt(sum) : 0;
    for (let d = 0; d < dim; d++) x[row * dim + d]! *= scale;
  }
  return x;
}

export class FrozenLinear {
  readonly weight: Float32Array;
  readonly bias: Float32Array | undefined;
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(linear: Pick<Linear, 'weight' | 'bias' | 'inFeatures' | 'outFeatures'>) {
    this.weight = linear.weight.dataSync() as Float32Array;
    this.bias = linear.bias?.dataSync() as Float32Array | undefined;
    this.inFeatures = linear.inFeatures;
    this.outFeatures = linear.outFeatures;
  }

  /** @param x `[rows, inFeatures]` @returns `[rows, outFeatures]` */
  apply(x: Float32Array, rows: number): Float32Array {
    return linearRows(x, rows, this.weight, this.inFeatures, this.outFeatures, this.bias);
  }
}

export class FrozenLayerNorm {
  readonly gamma: Float32Array;
  readonly beta: Float32Array;
  readonly dim: number;
  readonly epsilon: number;

  constructor(norm: LayerNorm) {
    this.gamma = norm.gamma.dataSync() as Float32Array;
    this.beta = norm.beta.dataSync() as Float32Array;
    this.dim = norm.dim;
    this.epsilon = norm.epsilon;
  }

  /** @param x `[rows, dim]` @returns a new `[rows, dim]` */
  apply(x: Float32Array, rows: number): Float32Array {
    const { dim, gamma, beta, epsilon } = this;
    return layerNormForward(
      x.subarray(0, rows * dim),
      gamma,
      beta,
      dim,
      epsilon,
      new Float32Array(rows * dim),
    );
  }
}

/** Multi-head self-attention (no rotary, as many key/value heads as query heads), query/key/value in one product. */
export class FrozenSelfAttention {
  /** `[dim, 3·dim]`: the query, key and value weights side by side. */
  readonly projection: Float32Array;
  /** `[3·dim]` */
  readonly projectionBias: Float32Array | undefined;
  readonly output: FrozenLinear;
  readonly dim: number;
  readonly heads: number;

  constructor(attention: MultiHeadAttention) {
    if (attention.options.rotary || attention.keyValueHeads !== attention.options.heads) {
      throw new Error('FrozenSelfAttention: rotary embeddings and grouped key/value heads are not supported');
    }
    this.dim = attention.options.dim;
    this.heads = attention.options.heads;
    const parts = [attention.query, attention.key, attention.value].map((linear) => new FrozenLinear(linear));
    const { dim } = this;
    // [dim, 3·dim]: the query, key and value weights side by side, one product for all three.
    this.projection = new Float32Array(dim * 3 * dim);
    for (let row = 0; row < dim; row++) {
      parts.forEach((part, index) => {
        this.projection.set(part.weight.subarray(row * dim, (row + 1) * dim), row * 3 * dim + index * dim);
      });
    }
    this.projectionBias = parts.every((part) => part.bias)
      ? Float32Array.from(parts.flatMap((part) => Array.from(part.bias!)))
      : undefined;
    if (!this.projectionBias && parts.some((part) => part.bias)) {
      throw new Error('FrozenSelfAttention: query, key and value must all have a bias or none');
    }
    this.output = new FrozenLinear(attention.output);
  }

  /**
   * @param x `[batch, tokens, dim]` @param keyMask `[batch, tokens]`, 1 = real token (all real when absent)
   * @param queries the token positions `[start, end)` whose outputs are wanted (all by default): every token is
   *   a key, but only these are queries (a last layer whose other outputs are not read)
   * @returns `[batch, end − start, dim]`
   */
  apply(
    x: Float32Array,
    batch: number,
    tokens: number,
    keyMask?: ArrayLike<number>,
    queries: readonly [number, number] = [0, tokens],
  ): Float32Array {
    const { dim, heads } = this;
    const headDim = dim / heads;
    const [first, end] = queries;
    const queryCount = end - first;
    const groups = batch * heads;
    const qkv = linearRows(x, batch * tokens, this.projection, dim, 3 * dim, this.projectionBias);
    // Per (batch row, head): queries `[queryCount, headDim]`, keys and values `[tokens, headDim]`, contiguous.
    const q = new Float32Array(groups * queryCount * headDim);
    const k = new Float32Array(groups * tokens * headDim);
    const v = new Float32Array(groups * tokens * headDim);
    for (let b = 0; b < batch; b++) {
      for (let head = 0; head < heads; head++) {
        const group = b * heads + head;
        for (let token = 0; token < tokens; token++) {
          const source = (b * tokens + token) * 3 * dim + head * headDim;
          k.set(qkv.subarray(source + dim, source + dim + headDim), (group * tokens + token) * headDim);
          v.set(
            qkv.subarray(source + 2 * dim, source + 2 * dim + headDim),
            (group * tokens + token) * headDim,
          );
          if (token >= first && token < end) {
            q.set(qkv.subarray(source, source + headDim), (group * queryCount + token - first) * headDim);
          }
        }
      }
    }
    const scores = batchedProduct(q, k, groups, queryCount, headDim, tokens, true);
    const scale = 1 / Math.sqrt(headDim);
    for (let b = 0; b < batch; b++) {
      for (let head = 0; head < heads; head++) {
        for (let query = 0; query < queryCount; query++) {
          const offset = ((b * heads + head) * queryCount + query) * tokens;
          let best = Number.NEGATIVE_INFINITY;
          for (let key = 0; key < tokens; key++) {
            const score =
              scores[offset + key]! * scale + (keyMask && !keyMask[b * tokens + key] ? MASKED_SCORE : 0);
            scores[offset + key] = score;
            // The stored (float32) value, so that the maximum's weight is exactly e^0.
            if (scores[offset + key]! > best) best = scores[offset + key]!;
          }
          let total = 0;
          for (let key = 0; key < tokens; key++) {
            const weight = expNonPositive(scores[offset + key]! - best);
            scores[offset + key] = weight;
            total += weight;
          }
          for (let key = 0; key < tokens; key++) scores[offset + key]! /= total;
        }
      }
    }
    const mixedByHead = batchedProduct(scores, v, groups, queryCount, tokens, headDim, false);
    const mixed = new Float32Array(batch * queryCount * dim);
    for (let b = 0; b < batch; b++) {
      for (let head = 0; head < heads; head++) {
        for (let query = 0; query < queryCount; query++) {
          const source = ((b * heads + head) * queryCount + query) * headDim;
          mixed.set(
            mixedByHead.subarray(source, source + headDim),
            (b * queryCount + query) * dim + head * headDim,
          );
        }
      }
    }
    return this.output.apply(mixed, batch * queryCount);
  }
}

/**
 * The weights of a cross-attention (no rotary, as many key/value heads as query heads), key and value in one
 * product, for a block with cross-attention run as one onnxruntime graph (`NativePreNormBlock` with
 * `CrossBlockParts`; there is no JavaScript path for it).
 */
export class FrozenCrossAttention {
  readonly query: FrozenLinear;
  /** `[contextDim, 2·dim]`: the key and value weights side by side. */
  readonly keyValue: Float32Array;
  /** `[2·dim]` */
  readonly keyValueBias: Float32Array | undefined;
  readonly output: FrozenLinear;
  readonly dim: number;
  readonly heads: number;
  readonly contextDim: number;

  constructor(attention: MultiHeadAttention) {
    if (attention.options.rotary || attention.keyValueHeads !== attention.options.heads) {
      throw new Error(
        'FrozenCrossAttention: rotary embeddings and grouped key/value heads are not supported',
      );
    }
    this.dim = attention.options.dim;
    this.heads = attention.options.heads;
    this.contextDim = attention.key.inFeatures;
    this.query = new FrozenLinear(attention.query);
    const [key, value] = [attention.key, attention.value].map((linear) => new FrozenLinear(linear)) as [
      FrozenLinear,
      FrozenLinear,
    ];
    const { dim, contextDim } = this;
    this.keyValue = new Float32Array(contextDim * 2 * dim);
    for (let row = 0; row < contextDim; row++) {
      this.keyValue.set(key.weight.subarray(row * dim, (row + 1) * dim), row * 2 * dim);
      this.keyValue.set(value.weight.subarray(row * dim, (row + 1) * dim), row * 2 * dim + dim);
    }
    if (Boolean(key.bias) !== Boolean(value.bias)) {
      throw new Error('FrozenCrossAttention: key and value must both have a bias or neither');
    }
    this.keyValueBias = key.bias && Float32Array.from([...key.bias, ...value.bias!]);
    this.output = new FrozenLinear(attention.output);
  }
}

/** `a [groups, m, k] · b [groups, k, n]` (b `[groups, n, k]` when transposeB), per group: `[groups, m, n]`. */
function batchedProduct(
  a: Float32Array,
  b: Float32Array,
  groups: number,
  m: number,
  k: number,
  n: number,
  transposeB: boolean,
): Float32Array {
  const native = nativeMatMul();
  if (native && groups * m > 0) return native.batched(a, b, groups, m, k, n, false, transposeB);
  const out = new Float32Array(groups * m * n);
  for (let group = 0; group < groups; group++) {
    for (let row = 0; row < m; row++) {
      for (let column = 0; column < n; column++) {
        let sum = 0;
        for (let inner = 0; inner < k; inner++) {
          const right = transposeB ? (group * n + column) * k + inner : (group * k + inner) * n + column;
          sum += a[(group * m + row) * k + inner]! * b[right]!;
        }
        out[(group * m + row) * n + column] = sum;
      }
    }
  }
  return out;
}

const EXP_RANGE = 32;
const EXP_STEPS_PER_UNIT = 1024;
let expTable: Float64Array | undefined;

/**
 * e^x for x ≤ 0 (softmax weights after subtracting the row maximum), by linear interpolation in a table of exact
 * values: relative error < 1.5e-7; below −32 (weights < 1.3e-14 of the largest) it returns 0. Math.exp costs ~25 ns
 * here, this ~3 ns.
 */
function expNonPositive(x: number): number {
  if (!(x > -EXP_RANGE)) return 0;
  const table = (expTable ??= Float64Array.from(
    { length: EXP_RANGE * EXP_STEPS_PER_UNIT + 2 },
    (_value, index) => Math.exp(-index / EXP_STEPS_PER_UNIT),
  ));
  const position = -x * EXP_STEPS_PER_UNIT;
  // Truncation, not Math.floor: a tiny positive x (rounding) must not index −1.
  const cell = position | 0;
  return table[cell]! + (table[cell + 1]! - table[cell]!) * (position - cell);
}

/** Position-wise feed-forward with GELU (the SwiGLU variant is not supported). */
export class FrozenFeedForward {
  readonly up: FrozenLinear;
  readonly down: FrozenLinear;

  constructor(feedForward: FeedForward) {
    if (feedForward.gate) throw new Error('FrozenFeedForward: SwiGLU is not supported');
    this.up = new FrozenLinear(feedForward.up);
    this.down = new FrozenLinear(feedForward.down);
  }

  /** @param x `[rows, dim]` @returns `[rows, dim]` */
  apply(x: Float32Array, rows: number): Float32Array {
    return this.down.apply(geluInPlace(this.up.apply(x, rows)), rows);
  }
}

/**
 * A pre-norm transformer block without cross-attention: `x + attention(norm(x))`, then `x + ffn(norm(x))`.
 * TransformerBlock and MAI's aggregation layers (on their query + text path) both freeze to it.
 */
export class FrozenPreNormBlock {
  /** The block as one onnxruntime graph (`native-block.ts`), made on first use; null when it cannot load. */
  private native: NativePreNormBlock | null | undefined;

  constructor(readonly parts: PreNormBlockParts) {}

  /**
   * @param x `[batch, tokens, dim]` @param keyMask `[batch, tokens]`
   * @param queries the positions `[start, end)` whose outputs are wanted (all by default; see FrozenSelfAttention)
   * @returns a new `[batch, end − start, dim]`
   */
  apply(
    x: Float32Array,
    batch: number,
    tokens: number,
    keyMask?: ArrayLike<number>,
    queries: readonly [number, number] = [0, tokens],
  ): Float32Array {
    if (nativeMatMul()) {
      if (this.native === undefined) {
        try {
          this.native = new NativePreNormBlock(this.parts);
        } catch {
          this.native = null;
        }
      }
      if (this.native) return this.native.apply(x, batch, tokens, keyMask, queries);
    }
    const { selfNorm, selfAttention, feedForwardNorm, feedForward } = this.parts;
    const [first, end] = queries;
    const kept = end - first;
    const attended = selfAttention.apply(selfNorm.apply(x, batch * tokens), batch, tokens, keyMask, queries);
    // The residual of the kept positions.
    const dim = selfNorm.dim;
    const hidden = attended;
    for (let b = 0; b < batch; b++) {
      for (let position = 0; position < kept; position++) {
        const target = (b * kept + position) * dim;
        const source = (b * tokens + first + position) * dim;
        for (let d = 0; d < dim; d++) hidden[target + d]! += x[source + d]!;
      }
    }
    const rows = batch * kept;
    return addInPlace(feedForward.apply(feedForwardNorm.apply(hidden, rows), rows), hidden);
  }
}
