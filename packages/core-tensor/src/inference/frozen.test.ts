import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../backend';
import { maxAbsDifference } from '../grad-check';
import { MultiHeadAttention } from '../nn/attention';
import { LayerNorm } from '../nn/normalization';
import { TransformerBlock } from '../nn/transformer-block';
import { geluInPlace } from '../ops/gelu-table';
import { Rng } from '../rng';
import { randomTensor } from '../test-helpers';
import { FrozenLayerNorm, FrozenSelfAttention, l2NormalizeRowsInPlace, linearRows } from './frozen';

beforeAll(async () => {
  await initBackend();
});

afterEach(() => {
  delete process.env.CIR_NATIVE_MATMUL;
});

describe('frozen kernels', () => {
  it('linearRows: hand-computed product plus bias, on the native and the JavaScript path', () => {
    // [[1, 2], [3, 4]] · [[1, 0, 2], [0, 1, 3]] + [10, 20, 30]
    const x = Float32Array.of(1, 2, 3, 4);
    const weight = Float32Array.of(1, 0, 2, 0, 1, 3);
    const bias = Float32Array.of(10, 20, 30);
    const expected = [11, 22, 38, 13, 24, 48];
    expect(Array.from(linearRows(x, 2, weight, 2, 3, bias))).toEqual(expected);
    process.env.CIR_NATIVE_MATMUL = '0';
    expect(Array.from(linearRows(x, 2, weight, 2, 3, bias))).toEqual(expected);
  });

  it("GELU matches tfjs's erf formula x/2·(1 + erf(x/√2)) to 1e-6", () => {
    const values = Float32Array.from({ length: 201 }, (_value, index) => (index - 100) / 12);
    const x = tf.tensor1d(values);
    const expected = tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))).dataSync();
    expect(maxAbsDifference(geluInPlace(values.slice()), expected)).toBeLessThan(1e-6);
  });

  it('LayerNorm and L2 normalisation match hand-computed values', () => {
    const norm = new LayerNorm(4, 0);
    // mean 2.5, variance 1.25
    const expected = [-1.5, -0.5, 0.5, 1.5].map((value) => value / Math.sqrt(1.25));
    expect(
      maxAbsDifference(new FrozenLayerNorm(norm).apply(Float32Array.of(1, 2, 3, 4), 1), expected),
    ).toBeLessThan(1e-6);
    expect(
      maxAbsDifference(l2NormalizeRowsInPlace(Float32Array.of(3, 4, 0, 0), 2, 2), [0.6, 0.8, 0, 0]),
    ).toBeLessThan(1e-7);
  });

  for (const path of ['native', 'JavaScript'] as const) {
    it(`a frozen TransformerBlock computes what the block computes, padding masked (${path} products)`, () => {
      if (path === 'JavaScript') process.env.CIR_NATIVE_MATMUL = '0';
      const block = new TransformerBlock({ dim: 16, heads: 4, feedForwardMultiplier: 2, seed: 3 });
      // Non-zero biases and norms, so that every parameter matters.
      for (const [index, parameter] of [...block.trainableParameters().values()].entries()) {
        parameter.assign(tf.add(parameter, randomTensor(parameter.shape, 20 + index, 0.1)));
      }
      const [batch, tokens] = [3, 5];
      const x = randomTensor([batch, tokens, 16], 4);
      const mask = tf.tensor2d([1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0], [batch, tokens]);
      const expected = block.apply(x as tf.Tensor3D, { mask }).dataSync();
      const frozen = block.freeze();
      const actual = frozen.apply(x.dataSync() as Float32Array, batch, tokens, mask.dataSync());
      expect(maxAbsDifference(actual, expected)).toBeLessThan(1e-4);
      // Only positions 1–2 as queries: their rows of the full output (every token still a key).
      const part = frozen.apply(x.dataSync() as Float32Array, batch, tokens, mask.dataSync(), [1, 3]);
      const expectedPart = tf
        .slice(block.apply(x as tf.Tensor3D, { mask }), [0, 1, 0], [-1, 2, -1])
        .dataSync();
      expect(maxAbsDifference(part, expectedPart)).toBeLessThan(1e-4);
      // Equal scores (a zero input): the softmax maximum is hit exactly (x − max = 0).
      const zeros = tf.zeros([batch, tokens, 16]) as tf.Tensor3D;
      expect(
        maxAbsDifference(
          frozen.apply(zeros.dataSync() as Float32Array, batch, tokens, mask.dataSync()),
          block.apply(zeros, { mask }).dataSync(),
        ),
      ).toBeLessThan(1e-4);
      // Without a mask every token is a key.
      const unmasked = block.apply(x as tf.Tensor3D).dataSync();
      expect(
        maxAbsDifference(frozen.apply(x.dataSync() as Float32Array, batch, tokens), unmasked),
      ).toBeLessThan(1e-4);
    });
  }

  it('self-attention matches MultiHeadAttention for several head widths and batch sizes', () => {
    for (const [dim, heads, tokens, batch] of [
      [16, 2, 7, 1],
      [16, 4, 5, 3],
      [8, 2, 7, 1],
    ] as const) {
      const attention = new MultiHeadAttention({ dim, heads, seed: 3 });
      const x = new Rng(2).normalArray(batch * tokens * dim);
      const expected = attention.apply(tf.tensor3d(x, [batch, tokens, dim])).dataSync();
      expect(
        maxAbsDifference(new FrozenSelfAttention(attention).apply(x, batch, tokens), expected),
      ).toBeLessThan(1e-5);
    }
  });

  it('refuses blocks it cannot run', () => {
    const cross = new TransformerBlock({ dim: 8, heads: 2, crossAttention: true, contextDim: 4, seed: 1 });
    expect(() => cross.freeze()).toThrow(/runs as a NativePreNormBlock only/);
    const rms = new TransformerBlock({ dim: 8, heads: 2, norm: 'rms', seed: 1 });
    expect(() => rms.freeze()).toThrow(/only blocks with LayerNorm/);
  });
});
