import { initBackend, maxAbsDifference, Rng, tf } from '@cir/core-tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { MaiModel } from './mai-model';
import { NativeGalleryEncoder } from './native-gallery-encoder';
import { perturbParameters, SMALL_MAI_CONFIG } from './test-helpers';

beforeAll(async () => {
  await initBackend();
});

const SMALL = SMALL_MAI_CONFIG;

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
      perturbParameters(model, 200);
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
