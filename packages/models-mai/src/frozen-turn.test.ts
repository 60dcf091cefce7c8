import { initBackend, maxAbsDifference, Rng, tf } from '@cir/core-tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAI_CONFIG, type MaiConfig } from './config';
import { FrozenMaiTurn } from './frozen-turn';
import { MaiModel } from './mai-model';

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
  msaLayers: 2,
  feedForwardMultiplier: 2,
  embedDim: 8,
  maxTurns: 3,
};

describe('FrozenMaiTurn', () => {
  for (const overrides of [
    { memory: 'mio', pooling: 'text-cls' },
    { memory: 'concat', pooling: 'query-mean' },
    { memory: 'none', pooling: 'text-cls' },
  ] as const) {
    it(`computes MaiModel's memory update and compose, with and without history (${overrides.memory}, ${overrides.pooling})`, () => {
      const config = { ...SMALL, ...overrides };
      const model = new MaiModel(config, 5);
      // Non-trivial norms and biases, so that every weight matters.
      for (const [index, parameter] of [...model.trainableParameters().values()].entries()) {
        const rng = new Rng(100 + index);
        parameter.assign(
          tf.add(parameter, tf.tensor(rng.normalArray(parameter.size), parameter.shape).mul(0.05)),
        );
      }
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
