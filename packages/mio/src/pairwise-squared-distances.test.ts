import { Rng } from '@cir/core-tensor';
import { describe, expect, it } from 'vitest';
import { pairwiseSquaredDistances } from './pairwise-squared-distances';

describe('pairwiseSquaredDistances', () => {
  it('equals direct differences for counts that do and do not fill whole tiles', () => {
    const rng = new Rng(1);
    for (const [count, dim] of [
      [1, 3],
      [4, 8],
      [7, 5],
      [13, 33],
    ]) {
      const offset = 2 * dim;
      const tokens = rng.normalArray(offset + count * dim);
      const squared = pairwiseSquaredDistances(tokens, offset, count, dim, new Float64Array(count * count));
      for (let i = 0; i < count; i++) {
        for (let j = 0; j < count; j++) {
          let direct = 0;
          for (let d = 0; d < dim; d++)
            direct += (tokens[offset + i * dim + d] - tokens[offset + j * dim + d]) ** 2;
          expect(squared[i * count + j]).toBeCloseTo(direct, 10);
        }
      }
    }
  });

  it('puts identical rows at exactly 0 and gives them bitwise identical distance rows', () => {
    const dim = 37;
    const tokens = new Rng(2).normalArray(9 * dim);
    tokens.copyWithin(6 * dim, 1 * dim, 2 * dim); // row 6 := row 1, in another tile
    const squared = pairwiseSquaredDistances(tokens, 0, 9, dim, new Float64Array(81));
    expect(squared[1 * 9 + 6]).toBe(0);
    expect(squared[6 * 9 + 1]).toBe(0);
    expect(Array.from(squared.subarray(6 * 9, 7 * 9))).toEqual(Array.from(squared.subarray(9, 18)));
    for (let i = 0; i < 9; i++) expect(squared[i * 9 + i]).toBe(0);
  });

  it('rejects buffers that are too short', () => {
    expect(() => pairwiseSquaredDistances(new Float32Array(10), 0, 4, 3, new Float64Array(16))).toThrow(
      /too short/,
    );
  });
});
