import { initBackend, maxAbsDifference, Rng, tf } from '@cir/core-tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { FrozenMaiTurn } from './frozen-turn';
import { MaiModel } from './mai-model';
import { perturbParameters, SMALL_MAI_CONFIG } from './test-helpers';

beforeAll(async () => {
  await initBackend();
});

const SMALL = SMALL_MAI_CONFIG;

describe('FrozenMaiTurn', () => {
  for (const overrides of [
    { memory: 'mio', pooling: 'text-cls' },
    { memory: 'concat', pooling: 'query-mean' },
    { memory: 'none', pooling: 'text-cls' },
  ] as const) {
    it(`computes MaiModel's memory update and compose, with and without history (${overrides.memory}, ${overrides.pooling})`, () => {
      const config = { ...SMALL, ...overrides };
      const model = new MaiModel(config, 5);
      perturbParameters(model, 100);
      const rng = new Rng(7);
      // 4 history turns with maxTurns 3: the fourth shares the third's turn embedding.
      const [batch, textCount, turns, perTurn] = [3, 5, 4, 4];
      const { queries, dim, inputDim } = config;
      const previous = rng.normalArray(batch * queries * dim);
      const current = rng.normalArray(batch * queries * dim);
      const text = rng.normalArray(batch * textCount * inputDim);
      const textMask = Uint8Array.of(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0);
      const captions = rng.normalArray(batch * turns * perTurn * inputDim);
      const captionMask = Uint8Array.from({ length: batch * turns * perTurn }, (_value, index) =>
        index % perTurn < 2 + (index % 3 === 0 ? 1 : 0) ? 1 : 0,
      );

      const frozen = new FrozenMaiTurn(model);
      const memory = frozen.updateMemory({ tokens: previous, count: queries }, current, batch);
      const expectedMemory = model.memory.update(
        tf.tensor3d(previous, [batch, queries, dim]),
        tf.tensor3d(current, [batch, queries, dim]),
      );
      expect(memory.count).toBe(expectedMemory.shape[1]);
      expect(maxAbsDifference(memory.tokens, expectedMemory.dataSync())).toBeLessThan(1e-6);

      const textInput = {
        tokens: tf.tensor3d(text, [batch, textCount, inputDim]),
        mask: tf.tensor2d(Float32Array.from(textMask), [batch, textCount]),
      };
      const plain = frozen.compose(memory, { tokens: text, count: textCount, mask: textMask }, batch);
      expect(maxAbsDifference(plain, model.compose(expectedMemory, textInput).dataSync())).toBeLessThan(1e-4);

      const combined = frozen.compose(memory, { tokens: text, count: textCount, mask: textMask }, batch, {
        captions: { tokens: captions, count: turns * perTurn, mask: captionMask },
        turns,
      });
      const expected = model.compose(expectedMemory, textInput, {
        captions: {
          tokens: tf.tensor3d(captions, [batch, turns * perTurn, inputDim]),
          mask: tf.tensor2d(Float32Array.from(captionMask), [batch, turns * perTurn]),
        },
        turns,
        apply: tf.ones([batch]) as tf.Tensor1D,
      });
      expect(maxAbsDifference(combined, expected.dataSync())).toBeLessThan(1e-4);
      // The history matters: a combination turn is not the plain one.
      expect(maxAbsDifference(combined, plain)).toBeGreaterThan(1e-3);
    });
  }

  it('is not offered for the recurrent memory or single-stage fusion', () => {
    expect(FrozenMaiTurn.supports(new MaiModel({ ...SMALL, memory: 'recurrent' }))).toBe(false);
    expect(FrozenMaiTurn.supports(new MaiModel({ ...SMALL, twoStage: false }))).toBe(false);
    expect(() => new FrozenMaiTurn(new MaiModel({ ...SMALL, memory: 'recurrent' }))).toThrow(/mio memory/);
  });
});
