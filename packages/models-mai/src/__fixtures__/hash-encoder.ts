import { basename } from 'node:path';
import { hashString, Rng } from '@cir/core-tensor';
import type { EncodedBatch } from '@cir/encoders';
import type { TokenEncoder } from '../features';

/**
 * A deterministic stand-in for a frozen encoder, for fast tests: an image's patch tokens are seeded by its file
 * name (not its whole path, which holds a test's random temporary folder: tests would get other data each run); a
 * text's word tokens by each word, so equal words give equal tokens (as a real encoder's word states would
 * roughly do), padded to `textTokens`.
 */
export function hashEncoder(
  options: { dim?: number; patches?: number; textTokens?: number } = {},
): TokenEncoder & { calls: number } {
  const dim = options.dim ?? 16;
  const patches = options.patches ?? 5;
  const textTokens = options.textTokens ?? 12;
  const encoder = {
    id: `hash-encoder-${dim}`,
    dim,
    tokenDim: dim,
    normalized: false,
    calls: 0,
    async encodeImages(sources: readonly (string | Uint8Array)[]): Promise<EncodedBatch> {
      encoder.calls++;
      const tokens = new Float32Array(sources.length * patches * dim);
      const pooled = new Float32Array(sources.length * dim);
      sources.forEach((source, row) => {
        const rng = new Rng(
          hashString(typeof source === 'string' ? basename(source) : String(source.length)),
        );
        tokens.set(rng.normalArray(patches * dim), row * patches * dim);
        pooled.set(tokens.subarray(row * patches * dim, row * patches * dim + dim), row * dim);
      });
      return { count: sources.length, dim, pooled, tokens, tokenCount: patches, tokenDim: dim };
    },
    async encodeTexts(texts: readonly string[]): Promise<EncodedBatch> {
      encoder.calls++;
      const tokens = new Float32Array(texts.length * textTokens * dim);
      const tokenMask = new Uint8Array(texts.length * textTokens);
      const pooled = new Float32Array(texts.length * dim);
      texts.forEach((text, row) => {
        const words = ['[cls]', ...text.toLowerCase().split(/\s+/).filter(Boolean)].slice(0, textTokens);
        words.forEach((word, position) => {
          const vector = new Rng(hashString(word)).normalArray(dim);
          tokens.set(vector, (row * textTokens + position) * dim);
          tokenMask[row * textTokens + position] = 1;
          for (let d = 0; d < dim; d++) pooled[row * dim + d]! += vector[d]! / words.length;
        });
      });
      return { count: texts.length, dim, pooled, tokens, tokenCount: textTokens, tokenDim: dim, tokenMask };
    },
  };
  return encoder;
}
