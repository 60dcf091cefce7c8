import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../backend';
import { maxAbsDifference } from '../grad-check';
import { TransformerBlock } from '../nn/transformer-block';
import { nativeMatMul } from '../ops/native-matmul';
import { Rng } from '../rng';
import { randomTensor } from '../test-helpers';
import type { FrozenPreNormBlock } from './frozen';
import { NativePreNormBlock } from './native-block';

beforeAll(async () => {
  await initBackend();
});

/** A block whose every parameter matters (non-zero biases and norms). */
function trainedBlock(options: {
  dim: number;
  heads: number;
  bias?: boolean;
  seed: number;
}): TransformerBlock {
  const block = new TransformerBlock({ ...options, feedForwardMultiplier: 4 });
  for (const [index, parameter] of [...block.trainableParameters().values()].entries()) {
    parameter.assign(tf.add(parameter, randomTensor(parameter.shape, options.seed * 100 + index, 0.1)));
  }
  return block;
}

/** The JavaScript path of the same frozen block. */
function javascriptApply(
  block: TransformerBlock,
  ...args: Parameters<FrozenPreNormBlock['apply']>
): Float32Array {
  process.env.CIR_NATIVE_MATMUL = '0';
  try {
    return block.freeze().apply(...args);
  } finally {
    delete process.env.CIR_NATIVE_MATMUL;
  }
}

describe.skipIf(!nativeMatMul())('NativePreNormBlock (onnxruntime graph)', () => {
  it('computes what the JavaScript frozen block computes: masks, query ranges, with and without biases', () => {
    for (const [bias, seed] of [
      [true, 1],
      [false, 2],
    ] as const) {
      const block = trainedBlock({ dim: 16, heads: 4, bias, seed });
      const native = new NativePreNormBlock(block.freeze().parts);
      const [batch, tokens] = [3, 6];
      const x = new Rng(seed).normalArray(batch * tokens * 16);
      const mask = Uint8Array.of(1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0);
      for (const queries of [
        [0, tokens],
        [0, 1],
        [2, 5],
      ] as const) {
        const expected = javascriptApply(block, x, batch, tokens, mask, queries);
        const actual = native.apply(x, batch, tokens, mask, queries);
        expect(actual.length).toBe(batch * (queries[1] - queries[0]) * 16);
        expect(maxAbsDifference(actual, expected)).toBeLessThan(1e-5);
      }
      // No mask: every token is a key.
      expect(
        maxAbsDifference(
          native.apply(x, batch, tokens, undefined, [0, tokens]),
          javascriptApply(block, x, batch, tokens, undefined, [0, tokens]),
        ),
      ).toBeLessThan(1e-5);
    }
  });

  it('agrees with the tfjs block on a call large enough for the multi-threaded session', () => {
    const block = trainedBlock({ dim: 32, heads: 4, seed: 3 });
    const [batch, tokens] = [16, 30];
    const x = randomTensor([batch, tokens, 32], 5);
    const expected = block.apply(x as tf.Tensor3D).dataSync();
    const actual = new NativePreNormBlock(block.freeze().parts).apply(
      x.dataSync() as Float32Array,
      batch,
      tokens,
      undefined,
      [0, tokens],
    );
    expect(maxAbsDifference(actual, expected)).toBeLessThan(1e-4);
  });

  it('cross-attends like the tfjs block with cross-attention, for every query range', () => {
    for (const bias of [true, false]) {
      const block = new TransformerBlock({
        dim: 16,
        heads: 4,
        bias,
        crossAttention: true,
        contextDim: 24,
        feedForwardMultiplier: 4,
      });
      for (const [index, parameter] of [...block.trainableParameters().values()].entries()) {
        parameter.assign(tf.add(parameter, randomTensor(parameter.shape, 700 + index, 0.1)));
      }
      const [batch, tokens, contextTokens] = [3, 6, 5];
      const x = randomTensor([batch, tokens, 16], 8);
      const context = randomTensor([batch, contextTokens, 24], 9);
      const mask = tf.tensor2d(Float32Array.of(1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0), [
        batch,
        tokens,
      ]);
      const expected = block.apply(x as tf.Tensor3D, { mask, context: context as tf.Tensor3D }).dataSync();
      const native = new NativePreNormBlock(block.frozenParts());
      const cross = { context: context.dataSync() as Float32Array, contextTokens, queryCount: tokens };
      for (const [first, end] of [
        [0, tokens],
        [2, 5],
      ] as const) {
        const actual = native.apply(
          x.dataSync() as Float32Array,
          batch,
          tokens,
          mask.dataSync(),
          [first, end],
          cross,
        );
        const kept = end - first;
        const wanted = new Float32Array(batch * kept * 16);
        for (let row = 0; row < batch; row++) {
          wanted.set(
            expected.subarray((row * tokens + first) * 16, (row * tokens + end) * 16),
            row * kept * 16,
          );
        }
        expect(maxAbsDifference(actual, wanted)).toBeLessThan(1e-5);
      }
    }
  });

  it('refuses a call without the context its cross-attention needs, and a context for a block without one', () => {
    const crossing = new TransformerBlock({ dim: 8, heads: 2, crossAttention: true });
    const plain = trainedBlock({ dim: 8, heads: 2, seed: 6 });
    const x = new Rng(6).normalArray(2 * 3 * 8);
    expect(() => new NativePreNormBlock(crossing.frozenParts()).apply(x, 2, 3, undefined, [0, 3])).toThrow(
      /cross-attends: give its context/,
    );
    expect(() =>
      new NativePreNormBlock(plain.frozenParts()).apply(x, 2, 3, undefined, [0, 3], {
        context: x,
        contextTokens: 3,
        queryCount: 3,
      }),
    ).toThrow(/no cross-attention/);
  });

  it('returns nothing for an empty batch or an empty query range', () => {
    const block = trainedBlock({ dim: 8, heads: 2, seed: 4 });
    const native = new NativePreNormBlock(block.freeze().parts);
    const x = new Rng(4).normalArray(2 * 3 * 8);
    expect(native.apply(x, 0, 3, undefined, [0, 3]).length).toBe(0);
    expect(native.apply(x, 2, 3, undefined, [1, 1]).length).toBe(0);
  });
});
