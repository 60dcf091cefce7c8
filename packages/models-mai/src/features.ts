import { FeatureCache, type ImageEncoder, type TextEncoder } from '@cir/encoders';

/** Token features of a set of items: tokens `[count, tokenCount, tokenDim]`, mask `[count, tokenCount]`, pooled `[count, dim]`. */
export interface TokenFeatures {
  count: number;
  tokenCount: number;
  tokenDim: number;
  tokens: Float32Array;
  mask: Uint8Array;
  pooled: Float32Array;
  dim: number;
}

/** Rows of TokenFeatures, in the given order, as new arrays. */
export function selectRows(features: TokenFeatures, rows: readonly number[]): TokenFeatures {
  const { tokenCount, tokenDim, dim } = features;
  const width = tokenCount * tokenDim;
  const tokens = new Float32Array(rows.length * width);
  const mask = new Uint8Array(rows.length * tokenCount);
  const pooled = new Float32Array(rows.length * dim);
  rows.forEach((row, position) => {
    tokens.set(features.tokens.subarray(row * width, (row + 1) * width), position * width);
    mask.set(features.mask.subarray(row * tokenCount, (row + 1) * tokenCount), position * tokenCount);
    pooled.set(features.pooled.subarray(row * dim, (row + 1) * dim), position * dim);
  });
  return { count: rows.length, tokenCount, tokenDim, tokens, mask, pooled, dim };
}

/** An encoder that gives images and texts with their token outputs (the mini encoder, or an ONNX CLIP). */
export type TokenEncoder = ImageEncoder & TextEncoder;

async function readAll(cached: Awaited<ReturnType<FeatureCache['texts']>>): Promise<TokenFeatures> {
  const rows = Array.from({ length: cached.count }, (_value, index) => index);
  const { pooled, tokens, tokenMask } = await cached.rows(rows);
  return {
    count: cached.count,
    tokenCount: cached.tokenCount,
    tokenDim: cached.tokenDim,
    tokens,
    mask: tokenMask,
    pooled,
    dim: cached.dim,
  };
}

/**
 * Frozen encoder features for MAI: image patch tokens and caption word tokens of every gallery image, and word
 * tokens of every modification text. Encoded once through the feature cache, then held in memory.
 */
export class MaiFeatures {
  private readonly textRow = new Map<string, number>();

  private constructor(
    readonly encoderId: string,
    readonly images: TokenFeatures,
    readonly captions: TokenFeatures,
    private texts: TokenFeatures,
    textList: readonly string[],
    private readonly encoder: TextEncoder,
  ) {
    for (const [row, text] of textList.entries()) this.textRow.set(text, row);
  }

  static async build(options: {
    encoder: TokenEncoder;
    cacheDirectory: string;
    galleryPaths: readonly string[];
    galleryCaptions: readonly string[];
    texts: readonly string[];
    onProgress?: (stage: string, done: number, total: number) => void;
  }): Promise<MaiFeatures> {
    const { encoder } = options;
    const cache = new FeatureCache(options.cacheDirectory);
    const uniqueTexts = [...new Set(options.texts)];
    const images = await readAll(
      await cache.images(encoder, options.galleryPaths, {
        onProgress: (done, total) => options.onProgress?.('image features', done, total),
      }),
    );
    if (images.tokenCount === 0)
      throw new Error(`encoder ${encoder.id} gives no image tokens; MAI needs patch tokens`);
    const captions = await readAll(
      await cache.texts(encoder, options.galleryCaptions, {
        onProgress: (done, total) => options.onProgress?.('caption features', done, total),
      }),
    );
    const texts = await readAll(
      await cache.texts(encoder, uniqueTexts, {
        onProgress: (done, total) => options.onProgress?.('text features', done, total),
      }),
    );
    return new MaiFeatures(encoder.id, images, captions, texts, uniqueTexts, encoder);
  }

  /** Token features of texts, encoding (and remembering) the ones not seen yet. */
  async textFeatures(texts: readonly string[]): Promise<TokenFeatures> {
    const missing = [...new Set(texts.filter((text) => !this.textRow.has(text)))];
    if (missing.length > 0) {
      const batch = await this.encoder.encodeTexts(missing);
      const appended: TokenFeatures = {
        count: this.texts.count + missing.length,
        tokenCount: this.texts.tokenCount,
        tokenDim: this.texts.tokenDim,
        dim: this.texts.dim,
        tokens: concatenateArrays([this.texts.tokens, batch.tokens!]),
        mask: concatenateArrays([this.texts.mask, batch.tokenMask!]),
        pooled: concatenateArrays([this.texts.pooled, batch.pooled]),
      };
      for (const [index, text] of missing.entries()) this.textRow.set(text, this.texts.count + index);
      this.texts = appended;
    }
    return selectRows(
      this.texts,
      texts.map((text) => this.textRow.get(text)!),
    );
  }
}

/** Concatenates typed arrays of one kind (token rows, masks) into a new array. */
export function concatenateArrays<T extends Float32Array | Uint8Array>(parts: readonly T[]): T {
  const first = parts[0]!;
  const out = new (first.constructor as new (length: number) => T)(
    parts.reduce((total, part) => total + part.length, 0),
  );
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
