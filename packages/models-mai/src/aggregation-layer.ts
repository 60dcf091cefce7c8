import {
  applyBlocksPacked,
  type CrossBlockParts,
  concatTokens,
  copyTokens,
  FeedForward,
  FrozenCrossAttention,
  FrozenFeedForward,
  FrozenLayerNorm,
  FrozenPreNormBlock,
  FrozenSelfAttention,
  LayerNorm,
  Module,
  MultiHeadAttention,
  NativePreNormBlock,
  type Rng,
  sliceTokens,
  tf,
  toRng,
} from '@cir/core-tensor';

export interface AggregationLayerOptions {
  dim: number;
  heads: number;
  feedForwardMultiplier: number;
  /** Queries also attend to image tokens (BSA); MSA layers have no cross-attention. */
  crossAttention: boolean;
  seed?: number | Rng;
}

export interface AggregationInput {
  /** Learned (or memory) tokens `[batch, queries, dim]`. */
  queries: tf.Tensor3D;
  /** Text tokens `[batch, textTokens, dim]`, attended together with the queries. */
  text?: tf.Tensor3D;
  /** 1 = real text token, 0 = padding: `[batch, textTokens]`. */
  textMask?: tf.Tensor2D;
  /** Image patch tokens `[batch, patches, dim]`, attended by the queries only. */
  image?: tf.Tensor3D;
}

export interface AggregationOutput {
  queries: tf.Tensor3D;
  text?: tf.Tensor3D;
}

/**
 * One layer of a Q-Former-style aggregator (BLIP-2, Li et al. 2023): self-attention over [queries; text] with the
 * text padding masked, cross-attention from the queries to image tokens, and a feed-forward network, pre-norm.
 */
export class AggregationLayer extends Module {
  private readonly selfNorm: LayerNorm;
  private readonly selfAttention: MultiHeadAttention;
  private readonly crossNorm: LayerNorm | undefined;
  private readonly crossAttention: MultiHeadAttention | undefined;
  private readonly feedForwardNorm: LayerNorm;
  private readonly feedForward: FeedForward;

  constructor(options: AggregationLayerOptions) {
    super();
    const rng = toRng(options.seed, 'aggregation-layer');
    const { dim, heads } = options;
    this.selfNorm = this.addModule('self_norm', new LayerNorm(dim));
    this.selfAttention = this.addModule('self_attention', new MultiHeadAttention({ dim, heads, seed: rng }));
    if (options.crossAttention) {
      this.crossNorm = this.addModule('cross_norm', new LayerNorm(dim));
      this.crossAttention = this.addModule(
        'cross_attention',
        new MultiHeadAttention({ dim, heads, seed: rng }),
      );
    }
    this.feedForwardNorm = this.addModule('feed_forward_norm', new LayerNorm(dim));
    this.feedForward = this.addModule(
      'feed_forward',
      new FeedForward({ dim, hiddenDim: dim * options.feedForwardMultiplier, seed: rng }),
    );
  }

  /**
   * The layer's query + text path on Float32Arrays, for serving: what `apply` computes when no image is given
   * (MSA, and BSA re-reading captions in combination turns). Image cross-attention is not part of it.
   */
  freezeWithoutImage(): FrozenPreNormBlock {
    return new FrozenPreNormBlock({
      selfNorm: new FrozenLayerNorm(this.selfNorm),
      selfAttention: new FrozenSelfAttention(this.selfAttention),
      feedForwardNorm: new FrozenLayerNorm(this.feedForwardNorm),
      feedForward: new FrozenFeedForward(this.feedForward),
    });
  }

  /**
   * The whole layer, image cross-attention included, as one onnxruntime graph (gallery encoding).
   * @throws when the layer has no cross-attention, or when onnxruntime cannot load
   */
  nativeWithImage(): NativePreNormBlock {
    if (!this.crossAttention || !this.crossNorm) {
      throw new Error('AggregationLayer.nativeWithImage: this layer has no cross-attention (an MSA layer)');
    }
    const parts: CrossBlockParts = {
      ...this.freezeWithoutImage().parts,
      cross: {
        norm: new FrozenLayerNorm(this.crossNorm),
        attention: new FrozenCrossAttention(this.crossAttention),
      },
    };
    return new NativePreNormBlock(parts);
  }

  /**
   * @param rows the positions `[start, end)` of [queries; text] whose outputs are wanted (all by default): every
   *   position is still a key, but only these are queries, get cross-attention (if they are query tokens) and the
   *   feed-forward network — what a last layer needs when only some outputs are read (the result for those rows
   *   is the same). The output's `queries` then holds positions [start, min(end, queryCount)) and `text` the rest.
   */
  apply(input: AggregationInput, rows?: OutputRows): AggregationOutput {
    const { queries, text, textMask, image } = input;
    const [batch, queryCount] = queries.shape;
    const tokens = queryCount + (text?.shape[1] ?? 0);
    const [start, end] = rows ?? [0, tokens];
    const partial = start > 0 || end < tokens;
    let sequence = text ? (concatTokens([queries, text]) as tf.Tensor3D) : queries;
    const keyMask = text
      ? (concatTokens([
          tf.ones([batch, queryCount]),
          textMask ?? tf.ones([batch, text.shape[1]]),
        ]) as tf.Tensor2D)
      : undefined;
    const normed = this.selfNorm.apply(sequence) as tf.Tensor3D;
    if (partial) {
      sequence = tf.add(
        rowRange(sequence, start, end),
        this.selfAttention.apply(rowRange(normed, start, end), { context: normed, keyMask }),
      ) as tf.Tensor3D;
    } else {
      sequence = tf.add(sequence, this.selfAttention.apply(normed, { keyMask })) as tf.Tensor3D;
    }
    // Query tokens within the kept rows: [0, queryEnd) of `sequence`.
    const queryEnd = Math.max(Math.min(end, queryCount) - start, 0);
    const kept = end - start;
    if (image && this.crossAttention && this.crossNorm && queryEnd > 0) {
      let queryPart = rowRange(sequence, 0, queryEnd);
      queryPart = tf.add(
        queryPart,
        this.crossAttention.apply(this.crossNorm.apply(queryPart) as tf.Tensor3D, { context: image }),
      ) as tf.Tensor3D;
      sequence =
        queryEnd < kept
          ? (concatTokens([queryPart, rowRange(sequence, queryEnd, kept)]) as tf.Tensor3D)
          : queryPart;
    }
    sequence = tf.add(sequence, this.feedForward.apply(this.feedForwardNorm.apply(sequence))) as tf.Tensor3D;
    return {
      queries: rowRange(sequence, 0, queryEnd),
      ...(text && queryEnd < kept && { text: rowRange(sequence, queryEnd, kept) }),
    };
  }
}

/** Positions `[start, end)` of a `[batch, tokens, dim]` sequence. */
export type OutputRows = readonly [number, number];

/** `x[:, start:end, :]` (x itself when that is all of it). */
function rowRange(x: tf.Tensor3D, start: number, end: number): tf.Tensor3D {
  return sliceTokens(x, start, end) as tf.Tensor3D;
}

/** A stack of aggregation layers with a final LayerNorm. */
export class AggregationStack extends Module {
  private readonly layers: AggregationLayer[];
  private readonly finalNorm: LayerNorm;

  constructor(layers: number, options: AggregationLayerOptions) {
    super();
    const rng = toRng(options.seed, 'aggregation-stack');
    this.layers = Array.from({ length: layers }, (_value, index) =>
      this.addModule(`layers.${index}`, new AggregationLayer({ ...options, seed: rng })),
    );
    this.finalNorm = this.addModule('final_norm', new LayerNorm(options.dim));
  }

  /** The stack's query + text path on Float32Arrays (no image cross-attention), for serving. */
  freezeWithoutImage(): FrozenAggregationStack {
    return new FrozenAggregationStack(
      this.layers.map((layer) => layer.freezeWithoutImage()),
      new FrozenLayerNorm(this.finalNorm),
    );
  }

  /** The stack with image cross-attention (BSA) as onnxruntime graphs. @throws when onnxruntime cannot load */
  nativeWithImage(): NativeImageAggregationStack {
    return new NativeImageAggregationStack(
      this.layers.map((layer) => layer.nativeWithImage()),
      new FrozenLayerNorm(this.finalNorm),
    );
  }

  /**
   * @param outputs the positions `[start, end)` of [queries; text] that are read (all by default): the last layer
   *   computes only those (see AggregationLayer.apply); `queries` then holds the query positions among them and
   *   `text` the text positions
   * @returns final queries `[batch, queries, dim]` and text `[batch, textTokens, dim]` states
   */
  apply(input: AggregationInput, outputs?: OutputRows): AggregationOutput {
    let state: AggregationOutput = { queries: input.queries, text: input.text };
    this.layers.forEach((layer, index) => {
      const last = index === this.layers.length - 1;
      state = layer.apply(
        { queries: state.queries, text: state.text, textMask: input.textMask, image: input.image },
        last ? outputs : undefined,
      );
    });
    return {
      queries: this.finalNorm.apply(state.queries) as tf.Tensor3D,
      ...(state.text && { text: this.finalNorm.apply(state.text) as tf.Tensor3D }),
    };
  }
}

/** A frozen AggregationStack without image: [queries; text] through the layers and the final LayerNorm. */
export class FrozenAggregationStack {
  constructor(
    readonly layers: FrozenPreNormBlock[],
    readonly finalNorm: FrozenLayerNorm,
  ) {}

  /**
   * @param queries `[batch, queryCount, dim]` @param text `[batch, textCount, dim]` @param textMask `[batch, textCount]`
   * @param outputs the positions `[start, end)` of [queries; text] that are read (all by default): the last layer
   *   computes only those
   * @returns the final states of those positions `[batch, end − start, dim]`
   */
  apply(
    queries: Float32Array,
    queryCount: number,
    text: Float32Array,
    textCount: number,
    textMask: ArrayLike<number>,
    batch: number,
    outputs: readonly [number, number] = [0, queryCount + textCount],
  ): Float32Array {
    const dim = this.finalNorm.dim;
    const tokens = queryCount + textCount;
    let sequence: Float32Array = new Float32Array(batch * tokens * dim);
    const mask = new Uint8Array(batch * tokens);
    copyTokens(queries, queryCount, 0, sequence, tokens, 0, batch, queryCount, dim);
    copyTokens(text, textCount, 0, sequence, tokens, queryCount, batch, textCount, dim);
    for (let row = 0; row < batch; row++) {
      mask.fill(1, row * tokens, row * tokens + queryCount);
      for (let column = 0; column < textCount; column++) {
        mask[row * tokens + queryCount + column] = textMask[row * textCount + column] ? 1 : 0;
      }
    }
    // Padding skipped: rows packed to their real tokens (a combination turn's captions, the modification text).
    sequence = applyBlocksPacked(this.layers, sequence, batch, tokens, mask, outputs);
    const kept = this.layers.length > 0 ? outputs[1] - outputs[0] : tokens;
    const states = this.finalNorm.apply(sequence, batch * kept);
    if (this.layers.length > 0) return states;
    // Without layers: the requested positions of the normalised input.
    const count = outputs[1] - outputs[0];
    const selected = new Float32Array(batch * count * dim);
    copyTokens(states, tokens, outputs[0], selected, count, 0, batch, count, dim);
    return selected;
  }
}

/**
 * A frozen AggregationStack with image cross-attention — BSA over [queries; caption] and the image patches — each
 * layer one onnxruntime graph: what `AggregationStack.apply` computes with an image, for encoding a gallery
 * (measured 2.7× faster than the tfjs kernels on the 10k demo gallery).
 */
export class NativeImageAggregationStack {
  constructor(
    readonly layers: NativePreNormBlock[],
    readonly finalNorm: FrozenLayerNorm,
  ) {}

  /**
   * @param sequence [queries; text] `[batch, tokens, dim]` with its key mask `[batch, tokens]` (the queries real)
   * @param image the image tokens `[batch, imageTokens, dim]`; positions `[0, queryCount)` cross-attend to them
   * @param outputs the positions `[0, end)` that are read: the last layer computes only those
   * @returns their final states `[batch, end, dim]`
   */
  apply(
    sequence: Float32Array,
    mask: Uint8Array,
    batch: number,
    tokens: number,
    queryCount: number,
    image: Float32Array,
    imageTokens: number,
    outputs: number,
  ): Float32Array {
    let state = sequence;
    const cross = { context: image, contextTokens: imageTokens, queryCount };
    this.layers.forEach((layer, index) => {
      const last = index === this.layers.length - 1;
      state = layer.apply(state, batch, tokens, mask, [0, last ? outputs : tokens], cross);
    });
    if (this.layers.length === 0) {
      const kept = new Float32Array(batch * outputs * this.finalNorm.dim);
      copyTokens(state, tokens, 0, kept, outputs, 0, batch, outputs, this.finalNorm.dim);
      state = kept;
    }
    return this.finalNorm.apply(state, batch * outputs);
  }
}
