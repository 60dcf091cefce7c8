import {
  applyBlocksPacked,
  copyTokens,
  Embedding,
  FrozenLayerNorm,
  FrozenLinear,
  type FrozenPreNormBlock,
  init,
  LayerNorm,
  LearnedQueries,
  Linear,
  l2NormalizeRowsInPlace,
  l2NormalizeTensor,
  Module,
  matMul2d,
  Rng,
  TransformerBlock,
  tf,
} from '@cir/core-tensor';

/** Architecture of the built-in mini CLIP-style dual encoder. */
export interface MiniClipConfig {
  imageSize: number;
  patchSize: number;
  /** Transformer width of both towers; also the width of the exposed patch and word tokens. */
  width: number;
  layers: number;
  heads: number;
  feedForwardMultiplier: number;
  /** Width of the pooled, L2-normalised embeddings. */
  embedDim: number;
  vocabularySize: number;
  maxTextLength: number;
  /** Per-channel normalisation of pixels in [0, 1] (CLIP's by default). */
  mean: [number, number, number];
  std: [number, number, number];
}

export const DEFAULT_MINI_CLIP_CONFIG: Omit<MiniClipConfig, 'vocabularySize'> = {
  imageSize: 64,
  patchSize: 16,
  width: 128,
  layers: 2,
  heads: 4,
  feedForwardMultiplier: 2,
  embedDim: 128,
  maxTextLength: 32,
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
};

/** Patches per image side and in total. */
export function patchGrid(config: Pick<MiniClipConfig, 'imageSize' | 'patchSize'>): {
  side: number;
  count: number;
} {
  const side = config.imageSize / config.patchSize;
  if (!Number.isInteger(side))
    throw new Error(`imageSize ${config.imageSize} is not a multiple of patchSize ${config.patchSize}`);
  return { side, count: side * side };
}

/**
 * Normalises RGB pixels and cuts them into flattened patches, in plain typed-array code (no gradient is needed
 * through the input).
 *
 * @param pixels `[count, imageSize, imageSize, 3]` uint8 RGB
 * @returns `[count, patches, patchSize · patchSize · 3]`, patches in row-major order
 */
export function imagesToPatches(pixels: Uint8Array, count: number, config: MiniClipConfig): Float32Array {
  const { imageSize, patchSize, mean, std } = config;
  const { side, count: patches } = patchGrid(config);
  const patchLength = patchSize * patchSize * 3;
  const out = new Float32Array(count * patches * patchLength);
  const scale = [0, 1, 2].map((channel) => 1 / (255 * std[channel]!));
  const shift = [0, 1, 2].map((channel) => mean[channel]! / std[channel]!);
  for (let image = 0; image < count; image++) {
    for (let patchRow = 0; patchRow < side; patchRow++) {
      for (let patchColumn = 0; patchColumn < side; patchColumn++) {
        let offset = ((image * patches + patchRow * side + patchColumn) * patchLength) | 0;
        for (let y = 0; y < patchSize; y++) {
          let source =
            ((image * imageSize + patchRow * patchSize + y) * imageSize + patchColumn * patchSize) * 3;
          for (let x = 0; x < patchSize * 3; x++) {
            const channel = x % 3;
            out[offset++] = pixels[source++]! * scale[channel]! - shift[channel]!;
          }
        }
      }
    }
  }
  return out;
}

export interface TowerOutput {
  /** `[batch, embedDim]`, L2-normalised. */
  pooled: tf.Tensor2D;
  /** `[batch, tokens, width]` final hidden states (image: [CLS] + patches; text: every position). */
  tokens: tf.Tensor3D;
}

/** A learned vector per position, added to the token embeddings. */
class PositionEmbedding extends Module {
  readonly table: tf.Variable;
  constructor(length: number, width: number, rng: Rng) {
    super();
    this.table = this.addParameter('weight', init.normal(rng, [length, width], 0.02));
  }
  /** @param x `[batch, tokens, width]` with tokens ≤ length */
  apply(x: tf.Tensor3D): tf.Tensor3D {
    const tokens = x.shape[1];
    return tf.add(x, tf.slice(this.table, [0, 0], [tokens, -1])) as tf.Tensor3D;
  }
}

/**
 * What both towers share after their input embeddings: pre-norm transformer blocks, a final LayerNorm, and a
 * projection of the first token ([CLS]) to the embedding space.
 */
abstract class Tower extends Module {
  blocks: TransformerBlock[] = [];
  finalNorm!: LayerNorm;
  projection!: Linear;

  constructor(readonly config: MiniClipConfig) {
    super();
  }

  protected addTrunk(rng: Rng): void {
    const { config } = this;
    this.blocks = Array.from({ length: config.layers }, (_value, layer) =>
      this.addModule(
        `blocks.${layer}`,
        new TransformerBlock({
          dim: config.width,
          heads: config.heads,
          feedForwardMultiplier: config.feedForwardMultiplier,
          seed: rng,
        }),
      ),
    );
    this.finalNorm = this.addModule('final_norm', new LayerNorm(config.width));
    this.projection = this.addModule(
      'projection',
      new Linear(config.width, config.embedDim, { bias: false, seed: rng }),
    );
  }

  /** @param hidden `[batch, tokens, width]` embedded inputs @param mask `[batch, tokens]` 1 = real token */
  protected encodeTokens(hidden: tf.Tensor3D, mask?: tf.Tensor2D): TowerOutput {
    const batch = hidden.shape[0];
    for (const block of this.blocks) hidden = block.apply(hidden, { mask });
    const tokens = this.finalNorm.apply(hidden) as tf.Tensor3D;
    const first = tf.reshape(tf.slice(tokens, [0, 0, 0], [batch, 1, -1]), [batch, this.config.width]);
    return { pooled: l2NormalizeTensor(this.projection.apply(first) as tf.Tensor2D), tokens };
  }
}

/** ViT-style image tower over non-overlapping patches, with a [CLS] token whose output is pooled. */
class ImageTower extends Tower {
  readonly patchEmbedding: Linear;
  readonly classToken: LearnedQueries;
  readonly positions: PositionEmbedding;

  constructor(config: MiniClipConfig, rng: Rng) {
    super(config);
    const patchLength = config.patchSize * config.patchSize * 3;
    this.patchEmbedding = this.addModule(
      'patch_embedding',
      new Linear(patchLength, config.width, { seed: rng }),
    );
    this.classToken = this.addModule('class_token', new LearnedQueries(1, config.width, { seed: rng }));
    this.positions = this.addModule(
      'positions',
      new PositionEmbedding(patchGrid(config).count + 1, config.width, rng),
    );
    this.addTrunk(rng);
  }

  /** @param patches `[batch, patches, patchSize² · 3]` */
  apply(patches: tf.Tensor3D): TowerOutput {
    const batch = patches.shape[0];
    const hidden = tf.concat(
      [this.classToken.apply(batch), this.patchEmbedding.apply(patches) as tf.Tensor3D],
      1,
    ) as tf.Tensor3D;
    return this.encodeTokens(this.positions.apply(hidden));
  }
}

/** Bidirectional text transformer over word-level tokens; the [CLS] output is pooled. */
class TextTower extends Tower {
  readonly wordEmbedding: Embedding;
  readonly positions: PositionEmbedding;

  constructor(config: MiniClipConfig, rng: Rng) {
    super(config);
    this.wordEmbedding = this.addModule(
      'word_embedding',
      new Embedding(config.vocabularySize, config.width, { seed: rng }),
    );
    this.positions = this.addModule(
      'positions',
      new PositionEmbedding(config.maxTextLength, config.width, rng),
    );
    this.addTrunk(rng);
  }

  /** @param ids int32 `[batch, tokens]` @param mask `[batch, tokens]` 1 = real token */
  apply(ids: tf.Tensor2D, mask: tf.Tensor2D): TowerOutput {
    return this.encodeTokens(this.positions.apply(this.wordEmbedding.apply(ids) as tf.Tensor3D), mask);
  }
  /** The tower's forward on Float32Arrays, for serving (see FrozenTextTower). */
  freeze(): FrozenTextTower {
    return new FrozenTextTower({
      words: this.wordEmbedding.table.dataSync() as Float32Array,
      positions: this.positions.table.dataSync() as Float32Array,
      blocks: this.blocks.map((block) => block.freeze()),
      finalNorm: new FrozenLayerNorm(this.finalNorm),
      projection: new FrozenLinear(this.projection),
      width: this.config.width,
      embedDim: this.config.embedDim,
    });
  }
}

/**
 * The text tower on Float32Arrays: what TextTower.apply computes (tested to 1e-4) without tfjs's per-kernel
 * overhead, for encoding short texts one request at a time (a shopper's modification text).
 */
export class FrozenTextTower {
  constructor(
    readonly parts: {
      /** `[vocabulary, width]` */
      words: Float32Array;
      /** `[maxTextLength, width]` */
      positions: Float32Array;
      blocks: FrozenPreNormBlock[];
      finalNorm: FrozenLayerNorm;
      projection: FrozenLinear;
      width: number;
      embedDim: number;
    },
  ) {}

  /**
   * @param ids `[batch, tokens]` @param mask `[batch, tokens]`, 1 = real token
   * @returns pooled `[batch, embedDim]` (L2-normalised [CLS] projection) and tokens `[batch, tokens, width]`
   */
  apply(
    ids: Int32Array,
    mask: Uint8Array,
    batch: number,
    tokens: number,
  ): { pooled: Float32Array; tokens: Float32Array } {
    const { words, positions, blocks, finalNorm, projection, width, embedDim } = this.parts;
    let hidden: Float32Array = new Float32Array(batch * tokens * width);
    for (let row = 0; row < batch * tokens; row++) {
      const word = ids[row]! * width;
      const position = (row % tokens) * width;
      for (let d = 0; d < width; d++) hidden[row * width + d] = words[word + d]! + positions[position + d]!;
    }
    // Only the real tokens go through the blocks (states at padding are zero; they are masked everywhere).
    hidden = applyBlocksPacked(blocks, hidden, batch, tokens, mask);
    const states = finalNorm.apply(hidden, batch * tokens);
    const first = new Float32Array(batch * width);
    copyTokens(states, tokens, 0, first, 1, 0, batch, 1, width);
    const pooled = l2NormalizeRowsInPlace(projection.apply(first, batch), batch, embedDim);
    return { pooled, tokens: states };
  }
}

/**
 * The mini CLIP: an image tower and a text tower trained with the symmetric contrastive loss of CLIP
 * (Radford et al. 2021, Fig. 3), with a learned temperature.
 */
export class MiniClip extends Module {
  readonly image: ImageTower;
  readonly text: TextTower;
  /** log of the logit scale, initialised at log(1/0.07) as in CLIP. */
  readonly logitScale: tf.Variable;

  constructor(
    readonly config: MiniClipConfig,
    seed = 0,
  ) {
    super();
    const rng = new Rng(seed);
    this.image = this.addModule('image', new ImageTower(config, rng.fork('image')));
    this.text = this.addModule('text', new TextTower(config, rng.fork('text')));
    this.logitScale = this.addParameter('logit_scale', tf.scalar(Math.log(1 / 0.07)));
  }

  /**
   * Symmetric InfoNCE over a batch of matching pairs.
   * @param patches `[batch, patches, patchLength]` @param ids `[batch, tokens]` @param mask `[batch, tokens]`
   */
  loss(patches: tf.Tensor3D, ids: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
    const imageEmbeddings = this.image.apply(patches).pooled;
    const textEmbeddings = this.text.apply(ids, mask).pooled;
    // CLIP clips the scale at 100 to keep training stable.
    const scale = tf.minimum(tf.exp(this.logitScale), 100);
    const logits = tf.mul(matMul2d(imageEmbeddings, textEmbeddings, false, true), scale) as tf.Tensor2D;
    const labels = tf.oneHot(tf.range(0, patches.shape[0], 1, 'int32'), patches.shape[0]).toFloat();
    const imageToText = tf.losses.softmaxCrossEntropy(labels, logits);
    const textToImage = tf.losses.softmaxCrossEntropy(labels, tf.transpose(logits));
    return tf.div(tf.add(imageToText, textToImage), 2) as tf.Scalar;
  }
}
