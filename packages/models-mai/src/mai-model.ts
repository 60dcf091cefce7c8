import {
  concatTokens,
  gatherRows,
  LayerNorm,
  LearnedQueries,
  Linear,
  l2NormalizeTensor,
  Module,
  Rng,
  sliceTokens,
  tf,
} from '@cir/core-tensor';
import { AggregationStack, type OutputRows } from './aggregation-layer';
import type { MaiConfig } from './config';
import { MemoryUpdate } from './multi-turn-iterative-optimization';

/** Frozen encoder tokens of a set of images and their captions, or of texts. Shapes in the field comments. */
export interface TokenInput {
  /** `[count, tokens, inputDim]` */
  tokens: tf.Tensor3D;
  /** `[count, tokens]`, 1 = real token; absent for image patches (all real). */
  mask?: tf.Tensor2D;
}

export interface BsaOutput {
  /** The learned tokens after fusing image and caption, t^{r,BSA} / t^{tg}: `[count, queries, dim]`. */
  tokens: tf.Tensor3D;
  /** Caption states after fusion `[count, captionTokens, dim]` (absent without captions). */
  captionStates?: tf.Tensor3D;
}

/**
 * MAI (Chen et al., ICLR 2025): Two-stage Semantic Aggregation — BSA fuses an image with its caption into learned
 * tokens, MSA fuses the memory tokens with the modification text — and Multi-turn Iterative Optimization, which
 * carries a constant number of tokens from turn to turn. Every component can be switched off for the ablations.
 */
export class MaiModel extends Module {
  readonly queryTokens: LearnedQueries;
  /** Prompt tokens of the text-only branch that embeds modification texts and target captions for CCL. */
  readonly promptTokens: LearnedQueries;
  /** One embedding per turn position, added to history captions in combination turns. */
  readonly turnEmbedding: LearnedQueries;
  readonly imageInput: Linear;
  readonly imageNorm: LayerNorm;
  readonly textInput: Linear;
  readonly textNorm: LayerNorm;
  readonly bsa: AggregationStack;
  readonly msa: AggregationStack;
  readonly memory: MemoryUpdate;
  /** text_proj: composed query, modification text and caption embeddings. */
  readonly queryProjection: Linear;
  /** target_proj: gallery-side embeddings. */
  readonly targetProjection: Linear;

  constructor(
    readonly config: MaiConfig,
    seed = 0,
  ) {
    super();
    const rng = new Rng(seed);
    const { dim, queries, inputDim, heads, feedForwardMultiplier } = config;
    this.queryTokens = this.addModule('query_tokens', new LearnedQueries(queries, dim, { seed: rng }));
    this.promptTokens = this.addModule('prompt_tokens', new LearnedQueries(queries, dim, { seed: rng }));
    this.turnEmbedding = this.addModule(
      'turn_embedding',
      new LearnedQueries(config.maxTurns, dim, { seed: rng }),
    );
    this.imageInput = this.addModule('image_input', new Linear(inputDim, dim, { seed: rng }));
    this.imageNorm = this.addModule('image_norm', new LayerNorm(dim));
    this.textInput = this.addModule('text_input', new Linear(inputDim, dim, { seed: rng }));
    this.textNorm = this.addModule('text_norm', new LayerNorm(dim));
    const layer = { dim, heads, feedForwardMultiplier, seed: rng };
    this.bsa = this.addModule(
      'bsa',
      new AggregationStack(config.bsaLayers, { ...layer, crossAttention: true }),
    );
    this.msa = this.addModule(
      'msa',
      new AggregationStack(config.msaLayers, { ...layer, crossAttention: false }),
    );
    this.memory = this.addModule('memory', new MemoryUpdate(config, rng));
    this.queryProjection = this.addModule(
      'query_projection',
      new Linear(dim, config.embedDim, { seed: rng }),
    );
    this.targetProjection = this.addModule(
      'target_projection',
      new Linear(dim, config.embedDim, { seed: rng }),
    );
  }

  private embedImage(input: TokenInput): tf.Tensor3D {
    return this.imageNorm.apply(this.imageInput.apply(input.tokens)) as tf.Tensor3D;
  }

  private embedText(input: TokenInput): tf.Tensor3D {
    return this.textNorm.apply(this.textInput.apply(input.tokens)) as tf.Tensor3D;
  }

  /**
   * Bimodal Semantic Aggregation: learned tokens self-attend with the caption and cross-attend to the image
   * patches. Without two-stage aggregation (the "Base" row) the caption is left out.
   * @param image `[count, patches, inputDim]` @param caption `[count, captionTokens, inputDim]`
   */
  bimodalAggregation(image: TokenInput, caption: TokenInput): BsaOutput {
    const count = image.tokens.shape[0];
    const useCaption = this.config.twoStage;
    // Read afterwards: every query token (memory, gallery tokens) and the readout's caption state.
    const { queries } = this.config;
    const output = this.bsa.apply(
      {
        queries: this.queryTokens.apply(count),
        image: this.embedImage(image),
        ...(useCaption && { text: this.embedText(caption), textMask: caption.mask }),
      },
      [0, this.readsText(useCaption) ? queries + 1 : queries],
    );
    return { tokens: output.queries, ...(output.text && { captionStates: output.text }) };
  }

  /** Whether the readout reads the text's first state (text-cls pooling with a text) or the query tokens. */
  private readsText(hasText: boolean): boolean {
    return this.config.pooling === 'text-cls' && hasText;
  }

  /** The positions of [queries; text] the readout reads: the last aggregation layer computes only those. */
  private readoutRows(queryCount: number, hasText: boolean): OutputRows {
    return this.readsText(hasText) ? [queryCount, queryCount + 1] : [0, queryCount];
  }

  /** Readout of a fused sequence: the text's first ([CLS]) state, or the mean of the query tokens. */
  private readout(queries: tf.Tensor3D, text: tf.Tensor3D | undefined): tf.Tensor2D {
    const count = queries.shape[0];
    if (this.config.pooling === 'text-cls' && text) {
      return tf.reshape(sliceTokens(text, 0, 1), [count, this.config.dim]) as tf.Tensor2D;
    }
    return tf.mean(queries, 1) as tf.Tensor2D;
  }

  /** Gallery-side embedding f_t = normalize(target_proj(readout(BSA(image, caption)))): `[count, embedDim]`. */
  targetEmbedding(bsa: BsaOutput): tf.Tensor2D {
    return l2NormalizeTensor(
      this.targetProjection.apply(this.readout(bsa.tokens, bsa.captionStates)) as tf.Tensor2D,
    );
  }

  /**
   * Modification Semantic Aggregation: memory tokens self-attend with the modification text; f_q is read out and
   * projected. In a combination turn, the memory first re-reads the history's captions (each tagged with its turn)
   * through the BSA layers without an image, as MAI's "multi" mode does.
   * @param memory `[count, memoryTokens, dim]` @param text `[count, textTokens, inputDim]`
   * @param history captions of the earlier turn images, concatenated `[count, turns · captionTokens, inputDim]`,
   *   with `turns` their turn positions (past `maxTurns` they share the last turn embedding), and `apply` 1 for
   *   the rows whose turn is a combination turn
   */
  compose(
    memory: tf.Tensor3D,
    text: TokenInput,
    history?: { captions: TokenInput; turns: number; apply: tf.Tensor1D },
  ): tf.Tensor2D {
    let queries = memory;
    if (history && this.config.combination) {
      const { tokens } = history.captions;
      const [count, length] = tokens.shape;
      const perTurn = length / history.turns;
      // Turns past maxTurns share the last turn embedding.
      const turnRows = Array.from({ length: history.turns }, (_value, turn) =>
        Math.min(turn, this.config.maxTurns - 1),
      );
      const turnTags = tf.reshape(
        tf.tile(
          tf.reshape(gatherRows(this.turnEmbedding.queries as tf.Tensor2D, tf.tensor1d(turnRows, 'int32')), [
            history.turns,
            1,
            this.config.dim,
          ]),
          [1, perTurn, 1],
        ),
        [1, length, this.config.dim],
      );
      const reread = this.bsa.apply(
        {
          queries: memory,
          text: tf.add(this.embedText(history.captions), turnTags) as tf.Tensor3D,
          textMask: history.captions.mask,
        },
        [0, memory.shape[1]],
      ).queries;
      const selector = tf.reshape(history.apply, [count, 1, 1]);
      queries = tf.add(tf.mul(reread, selector), tf.mul(memory, tf.sub(1, selector))) as tf.Tensor3D;
    }
    const fused = this.msa.apply(
      { queries, text: this.embedText(text), textMask: text.mask },
      this.readoutRows(queries.shape[1], true),
    );
    return l2NormalizeTensor(
      this.queryProjection.apply(this.readout(fused.queries, fused.text)) as tf.Tensor2D,
    );
  }

  /**
   * Single-stage fusion for the "Base" ablation (SPRC-style Q-Former): the learned tokens (plus the memory) attend
   * to the reference image and the modification text at once.
   * @returns the composed query `[count, embedDim]` and this turn's tokens `[count, queries, dim]` for the memory
   */
  composeSingleStage(
    memory: tf.Tensor3D | undefined,
    image: TokenInput,
    text: TokenInput,
  ): { query: tf.Tensor2D; tokens: tf.Tensor3D } {
    const count = image.tokens.shape[0];
    const learned = this.queryTokens.apply(count);
    const queries = memory ? (concatTokens([learned, memory]) as tf.Tensor3D) : learned;
    const queryCount = queries.shape[1];
    const fused = this.bsa.apply(
      { queries, text: this.embedText(text), textMask: text.mask, image: this.embedImage(image) },
      [0, this.readsText(true) ? queryCount + 1 : queryCount],
    );
    const tokens = sliceTokens(fused.queries, 0, this.config.queries) as tf.Tensor3D;
    return {
      query: l2NormalizeTensor(
        this.queryProjection.apply(this.readout(fused.queries, fused.text)) as tf.Tensor2D,
      ),
      tokens,
    };
  }

  /**
   * Text-only embedding (modification text m or target caption c^tg) through the MSA layers with prompt tokens:
   * `[count, tokens, inputDim]` → `[count, embedDim]`.
   */
  textEmbedding(text: TokenInput): tf.Tensor2D {
    const count = text.tokens.shape[0];
    const fused = this.msa.apply(
      { queries: this.promptTokens.apply(count), text: this.embedText(text), textMask: text.mask },
      this.readoutRows(this.config.queries, true),
    );
    return l2NormalizeTensor(
      this.queryProjection.apply(this.readout(fused.queries, fused.text)) as tf.Tensor2D,
    );
  }
}
