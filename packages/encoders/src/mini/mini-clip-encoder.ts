import { initBackend, tf } from '@cir/core-tensor';
import type { ImageSource } from '@cir/datasets';
import type { EncodedBatch, ImageEncoder, TextEncoder } from '../encoder';
import { loadMiniClip, type SavedMiniClip } from './mini-clip-files';
import { imagesToPatches, patchGrid } from './mini-clip-model';
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

  /** @returns pooled `[count, embedDim]`, tokens `[count, maxTextLength, width]` and their mask */
  async encodeTexts(texts: readonly string[]): Promise<EncodedBatch> {
    const { config, model, tokenizer } = this.saved;
    const length = config.maxTextLength;
    const count = texts.length;
    const pooled = new Float32Array(count * config.embedDim);
    const tokens = new Float32Array(count * length * config.width);
    const tokenMask = new Uint8Array(count * length);
    for (let start = 0; start < count; start += this.batchSize) {
      const rows = Math.min(this.batchSize, count - start);
      const batch = tokenizer.encode(texts.slice(start, start + rows));
      const [pooledRows, tokenRows] = tf.tidy(() => {
        const output = model.text.apply(
          tf.tensor2d(batch.ids, [rows, length], 'int32'),
          tf.tensor2d(Float32Array.from(batch.mask), [rows, length]),
        );
        return [output.pooled, output.tokens];
      });
      pooled.set(await pooledRows.data(), start * config.embedDim);
      tokens.set(await tokenRows.data(), start * length * config.width);
      tokenMask.set(batch.mask, start * length);
      tf.dispose([pooledRows, tokenRows]);
    }
    return {
      count,
      pooled,
      dim: config.embedDim,
      tokens,
      tokenCount: length,
      tokenDim: config.width,
      tokenMask,
    };
  }

  async dispose(): Promise<void> {
    this.saved.model.dispose();
  }
}
