import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../backend';
import { maxAbsDifference } from '../grad-check';
import { TransformerBlock } from '../nn/transformer-block';
import { Rng } from '../rng';
import { randomTensor } from '../test-helpers';
import type { FrozenPreNormBlock } from './frozen';
import { applyBlocksPacked, lengthGroups, applyBlocksPadded as padded } from './packed-blocks';

beforeAll(async () => {
  await initBackend();
});

afterEach(() => {
  delete process.env.CIR_NATIVE_MATMUL;
});

function frozenStack(dim: number, layers: number): FrozenPreNormBlock[] {
  return Array.from({ length: layers }, (_unused, layer) => {
    const block = new TransformerBlock({ dim, heads: 2, feedForwardMultiplier: 2, seed: 10 + layer });
    for (const [index, parameter] of [...block.trainableParameters().values()].entries()) {
      parameter.assign(tf.add(parameter, randomTensor(parameter.shape, 50 * layer + index, 0.1)));
    }
    return block.freeze();
  });
}

/** Rows of `[batch, count, dim]` at real positions only (the packed result is zero elsewhere). */
function realRows(values: Float32Array, mask: Uint8Array, dim: number): number[] {
  return Array.from(mask).flatMap((real, position) =>
    real ? Array.from(values.subarray(position * dim, (position + 1) * dim)) : [],
  );
}

describe('lengthGroups', () => {
  it('splits where a group saves more than a call costs', () => {
    // One group: 4 × 5 + 3 = 23; split [2, 2] | [5, 5]: 2·2 + 3 + 2·5 + 3 = 20.
    expect(lengthGroups([2, 2, 5, 5], 3)).toEqual([2, 4]);
    // A call costing 10: one group (4·5 + 10 = 30) beats two (4 + 10 + 10 + 10 = 34).
    expect(lengthGroups([2, 2, 5, 5], 10)).toEqual([4]);
    expect(lengthGroups([3], 1)).toEqual([1]);
    expect(lengthGroups([], 1)).toEqual([]);
  });
});

for (const path of ['native', 'JavaScript'] as const) {
  describe(`applyBlocksPacked (${path} blocks)`, () => {
    const dim = 8;
    const blocks = frozenStack(dim, 2);
    const [batch, tokens] = [6, 7];
    const x = new Rng(3).normalArray(batch * tokens * dim);
    // Padding in the middle (a history caption's) and at the end, rows of every length from 2 to 7.
    const mask = Uint8Array.from(
      [
        [1, 1, 1, 1, 1, 1, 1],
        [1, 1, 0, 0, 1, 1, 0],
        [1, 1, 1, 0, 0, 0, 0],
        [1, 1, 1, 1, 1, 0, 0],
        [1, 1, 0, 0, 0, 0, 0],
        [1, 1, 1, 0, 1, 0, 1],
      ].flat(),
    );

    it('gives every real token the output of the padded batch; padding outputs are zero', () => {
      if (path === 'JavaScript') process.env.CIR_NATIVE_MATMUL = '0';
      const expected = padded(blocks, x, batch, tokens, mask, [0, tokens]);
      const actual = applyBlocksPacked(blocks, x, batch, tokens, mask);
      expect(actual.length).toBe(expected.length);
      expect(maxAbsDifference(realRows(actual, mask, dim), realRows(expected, mask, dim))).toBeLessThan(1e-5);
      const paddingValues = realRows(
        actual,
        mask.map((real) => 1 - real),
        dim,
      );
      expect(paddingValues.length).toBeGreaterThan(0);
      expect(paddingValues.every((value) => value === 0)).toBe(true);
    });

    it('computes a range of real leading positions packed, and falls back to padding when the range holds padding', () => {
      if (path === 'JavaScript') process.env.CIR_NATIVE_MATMUL = '0';
      // Positions [0, 2) are real in every row: packed.
      expect(
        maxAbsDifference(
          applyBlocksPacked(blocks, x, batch, tokens, mask, [1, 2]),
          padded(blocks, x, batch, tokens, mask, [1, 2]),
        ),
      ).toBeLessThan(1e-5);
      // Position 3 is padding in some rows: the padded batch, exactly.
      expect(Array.from(applyBlocksPacked(blocks, x, batch, tokens, mask, [2, 4]))).toEqual(
        Array.from(padded(blocks, x, batch, tokens, mask, [2, 4])),
      );
    });
  });
}
