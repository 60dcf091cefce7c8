import { initBackend, Rng, tf } from '@cir/core-tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectTokens } from './select-tokens';
import { selectTokensTensor } from './select-tokens-tensor';

beforeAll(async () => {
  await initBackend();
});

function bothSelections(tokens: Float32Array, shape: [number, number, number], keep: number, k?: number) {
  const tensor = tf.tensor3d(tokens, shape);
  const indices = selectTokensTensor(tensor, keep, { k });
  expect(indices.shape).toEqual([shape[0], keep]);
  expect(indices.dtype).toBe('int32');
  const result = {
    tensor: Array.from(indices.dataSync()),
    typed: Array.from(selectTokens(tokens, shape, keep, { k })),
  };
  tf.dispose([tensor, indices]);
  return result;
}

describe('selectTokensTensor', () => {
  it('matches the hand-computed example', () => {
    const { tensor } = bothSelections(new Float32Array([5, 1, 0, 0]), [1, 4, 1], 4, 2);
    expect(tensor).toEqual([2, 3, 1, 0]);
  });

  it('agrees with the typed-array version on random shapes', () => {
    // Low dimensions: distances spread out, so no two densities or scores sit within float32 rounding.
    const rng = new Rng(5);
    for (let trial = 0; trial < 60; trial++) {
      const batch = 1 + rng.int(3);
      const count = 1 + rng.int(24);
      const dim = 1 + rng.int(12);
      const keep = 1 + rng.int(count);
      const k = 1 + rng.int(7);
      const { tensor, typed } = bothSelections(
        rng.normalArray(batch * count * dim),
        [batch, count, dim],
        keep,
        k,
      );
      expect(tensor, `trial ${trial}`).toEqual(typed);
    }
  });

  it('agrees at the benchmark shape on clustered tokens', () => {
    // 64 tokens of dim 768 around 12 centres, as learned tokens of one product tend to be.
    const rng = new Rng(6);
    const [batch, count, dim] = [4, 64, 768];
    const centres = rng.normalArray(12 * dim);
    const tokens = new Float32Array(batch * count * dim);
    for (let token = 0; token < batch * count; token++) {
      const centre = rng.int(12);
      const spread = 0.05 + 0.3 * rng.next();
      for (let d = 0; d < dim; d++)
        tokens[token * dim + d] = centres[centre * dim + d] + spread * rng.normal();
    }
    const { tensor, typed } = bothSelections(tokens, [batch, count, dim], 32);
    expect(tensor).toEqual(typed);
  });

  it('agrees on exact ties: duplicated integer tokens, ties by lower index', () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 40; trial++) {
      const count = 2 + rng.int(16);
      const dim = 1 + rng.int(4);
      const tokens = new Float32Array(count * dim);
      for (let i = 0; i < tokens.length; i++) tokens[i] = rng.int(3) - 1;
      const { tensor, typed } = bothSelections(tokens, [1, count, dim], 1 + rng.int(count), 1 + rng.int(5));
      expect(tensor, `trial ${trial}`).toEqual(typed);
    }
    expect(bothSelections(new Float32Array(5 * 2).fill(3), [1, 5, 2], 3).tensor).toEqual([0, 1, 2]);
  });

  it('handles one token and keep = 0, and rejects keep > n', () => {
    expect(bothSelections(new Float32Array([1, 2, 3, 4]), [2, 1, 2], 1).tensor).toEqual([0, 0]);
    expect(bothSelections(new Float32Array(8), [2, 2, 2], 0).tensor).toEqual([]);
    expect(() => selectTokensTensor(tf.zeros([1, 3, 2]) as tf.Tensor3D, 4)).toThrow(/keep/);
  });
});
