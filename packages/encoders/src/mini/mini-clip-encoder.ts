import { copyTokens, initBackend, tf } from '@cir/core-tensor';
import type { ImageSource } from '@cir/datasets';
import type { EncodedBatch, EncodeTextsOptions, ImageEncoder, TextEncoder } from '../encoder';
import { loadMiniClip, type SavedMiniClip } from './mini-clip-files';
import { type FrozenTextTower, imagesToPatches, patchGrid } from './mini-clip-model';
import { readPixels } from './read-pixels';

/**
 * The trained mini CLIP as a frozen ImageEncoder + TextEncoder. Pooled embeddings are L2-normalised; tokens are the
 * final hidden states (image: [CLS] + patches, text: every position with its padding mask).
 */
export class MiniClipEncoder implements ImageEncoder, TextEncoder {
  readonly id: string;
  readonly dim: number;
  readonly tokenDim: number;
  readonly normalized = true;
  private frozenText: FrozenTextTower | undefined;

  private constructor(
    private readonly saved: SavedMiniClip,
    readonly batchSize: number,
  ) {
    this.id = saved.id;
    this.dim = saved.config.embedDim;
    this.tokenDim = saved.config.width;
  }

  /** Loads an encoder folder written by `cir train encoder` (initialising the fastest tfjs backend first). */
  static async load(directory: string, options: { batchSize?: number } = {}): Promise<MiniClipEncoder> {
    // Without it tfjs would run on its default pure-JavaScript backend, ~40× slower.
    await initBackend();
    return new MiniClipEncoder(await loadMiniClip(directory), options.batchSize ?? 128);
  }

  get config() {
    return this.saved.config;
  }

  /** @returns pooled `[count, embedDim]` and tokens `[count, patches + 1, width]` */
  async encodeImages(sources: readonly ImageSource[]): Promise<EncodedBatch> {
    const { config } = this.saved;
    const pixels = await readPixels(sources, config.imageSize);
    return this.encodePixels(pixels, sources.length);
  }

  /** Encodes already decoded `[count, imageSize, imageSize, 3]` uint8 RGB images. */
  async encodePixels(pixels: Uint8Array, count: number): Promise<EncodedBatch> {
    const { config, model } = this.saved;
    const patches = patchGrid(config).count;
    const patchLength = config.patchSize * config.patchSize * 3;
    const tokenCount = patches + 1;
    const pooled = new Float32Array(count * config.embedDim);
    const tokens = new Float32Array(count * tokenCount * config.width);
    const imageLength = config.imageSize * config.imageSize * 3;
    for (let start = 0; start < count; start += this.batchSize) {
      const rows = Math.min(this.batchSize, count - start);
      const patchData = imagesToPatches(
        pixels.subarray(start * imageLength, (start + rows) * imageLength),
        rows,
        config,
      );
      const [pooledRows, tokenRows] = tf.tidy(() => {
        const output = model.image.apply(tf.tensor3d(patchData, [rows, patches, patchLength]));
        return [output.pooled, output.tokens];
      });
      pooled.set(await pooledRows.data(), start * config.embedDim);
      tokens.set(await tokenRows.data(), start * tokenCount * config.width);
      tf.dispose([pooledRows, tokenRows]);
    }
    return { count, pooled, dim: config.embedDim, tokens, tokenCount, tokenDim: config.width };
  }

  /**
   * @returns pooled `[count, embedDim]`, tokens `[count, maxTextLength, width]` and their mask; with `trimPadding`
   *   tokens `[count, longest, width]`, the tower running on `longest` positions only (exact: padding is masked out
   *   of attention, every other operation is per position)
   */
  async encodeTexts(texts: readonly string[], options: EncodeTextsOptions = {}): Promise<EncodedBatch> {
    const { config, model, tokenizer } = this.saved;
    const count = texts.length;
    const encoded = tokenizer.encode(texts);
    const padded = config.maxTextLength;
    const length = options.trimPadding ? longestText(encoded.mask, count, padded) : padded;
    const ids = length === padded ? encoded.ids : keepColumns(encoded.ids, count, padded, length);
    const mask = length === padded ? encoded.mask : keepColumns(encoded.mask, count, padded, length);
    // The frozen tower (plain arrays) instead of tfjs kernels: an encoder's weights never change once loaded.
    this.frozenText ??= model.text.freeze();
    const pooled = new Float32Array(count * config.embedDim);
    const tokens = new Float32Array(count * length * config.width);
    for (let start = 0; start < count; start += this.batchSize) {
      const rows = Math.min(this.batchSize, count - start);
      const output = this.frozenText.apply(
        ids.subarray(start * length, (start + rows) * length),
        mask.subarray(start * length, (start + rows) * length),
        rows,
        length,
      );
      pooled.set(output.pooled, start * config.embedDim);
      tokens.set(output.tokens, start * length * config.width);
    }
    return {
      count,
      pooled,
      dim: config.embedDim,
      tokens,
      tokenCount: length,
      tokenDim: config.width,
      tokenMask: mask,
    };
  }

  async dispose(): Promise<void> {
    this.saved.model.dispose();
  }
}

/** Position after the last real token of the longest row of a `[rows, columns]` mask (at least 1). */
export function longestText(mask: ArrayLike<number>, rows: number, columns: number): number {
  let longest = 1;
  for (let row = 0; row < rows; row++) {
    for (let column = columns - 1; column >= longest; column--) {
      if (mask[row * columns + column]) {
        longest = column + 1;
        break;
      }
    }
  }
  return longest;
}

/** The first `keep` columns of a row-major `[rows, columns]` array. */
function keepColumns<T extends Int32Array | Uint8Array>(
  values: T,
  rows: number,
  columns: number,
  keep: number,
): T {
  const kept = new (values.constructor as new (length: number) => T)(rows * keep);
  copyTokens(values, columns, 0, kept, keep, 0, rows, keep, 1);
  return kept;
}
