import { initBackend, maxAbsDifference, Rng, tf } from '@cir/core-tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAI_CONFIG, type MaiConfig } from './config';
import { MaiModel } from './mai-model';
import { NativeGalleryEncoder } from './native-gallery-encoder';

beforeAll(async () => {
  await initBackend();
});

const SMALL: MaiConfig = {
  ...DEFAULT_MAI_CONFIG,
  inputDim: 12,
  dim: 16,
  heads: 2,
  queries: 4,
  bsaLayers: 2,
  msaLayers: 1,
  feedForwardMultiplier: 2,
  embedDim: 8,
};

describe.skipIf(!NativeGalleryEncoder.available())('NativeGalleryEncoder (onnxruntime)', () => {
  for (const overrides of [
    { twoStage: true, pooling: 'text-cls' },
    { twoStage: true, pooling: 'query-mean' },
    { twoStage: false, pooling: 'text-cls' },
    { twoStage: true, pooling: 'text-cls', bsaLayers: 1 },
  ] as const) {
    it(`computes MaiModel's gallery embeddings and BSA tokens (${JSON.stringify(overrides)})`, () => {
      const config = { ...SMALL, ...overrides };
      const model = new MaiModel(config, 3);
      // Non-trivial norms and biases, so that every weight matters.
      for (const [index, parameter] of [...model.trainableParameters().values()].entries()) {
        const rng = new Rng(200 + index);
        parameter.assign(
          tf.add(parameter, tf.tensor(rng.normalArray(parameter.size), parameter.shape).mul(0.05)),
        );
      }
      const rng = new Rng(9);
      const [count, imageTokens, captionTokens] = [5, 3, 6];
      const images = rng.normalArray(count * imageTokens * config.inputDim);
      const captions = rng.normalArray(count * captionTokens * config.inputDim);
      // Captions of 1 to 6 real tokens, padding at the end.
      const captionMask = Uint8Array.from({ length: count * captionTokens }, (_value, index) =>
        index % captionTokens <= (Math.floor(index / captionTokens) * 7) % captionTokens ? 1 : 0,
      );
      const encoded = new NativeGalleryEncoder(model).encode({
        count,
        images,
        imageTokens,
        captions,
        captionMask,
        captionTokens,
      });
      const [expectedEmbeddings, expectedTokens] = tf.tidy(() => {
        const bsa = model.bimodalAggregation(
          { tokens: tf.tensor3d(images, [count, imageTokens, config.inputDim]) },
          {
            tokens: tf.tensor3d(captions, [count, captionTokens, config.inputDim]),
            mask: tf.tensor2d(Float32Array.from(captionMask), [count, captionTokens]),
          },
        );
        return [model.targetEmbedding(bsa).dataSync(), bsa.tokens.dataSync()];
      });
      expect(encoded.embeddings.length).toBe(count * config.embedDim);
      expect(encoded.tokens.length).toBe(count * config.queries * config.dim);
      expect(maxAbsDifference(encoded.embeddings, expectedEmbeddings)).toBeLessThan(1e-4);
      expect(maxAbsDifference(encoded.tokens, expectedTokens)).toBeLessThan(1e-4);
      model.dispose();
    });
  }
});
