import { Rng } from '@cir/core-tensor';
import { describe, expect, it } from 'vitest';
import { selectTokens } from './select-tokens';

/**
 * The rule written as plainly as possible and sharing no code with the implementation: direct differences in
 * float64, full sorts, no Gram identity, no insertion buffers. The density is exp(−mean D²) computed as
 * exp(−Σ‖x_i − x_j‖² / (k·dim)) rather than by squaring the rounded D: the same number, but exact-arithmetic ties
 * between integer-valued tokens survive it, which the tie tests below rely on.
 */
function referenceSelect(
  tokens: ArrayLike<number>,
  [batch, count, dim]: [number, number, number],
  keep: number,
  k = 5,
): number[] {
  const result: number[] = [];
  const neighbours = Math.min(k, count);
  for (let b = 0; b < batch; b++) {
    const token = Array.from({ length: count }, (_, i) =>
      Array.from({ length: dim }, (_, d) => tokens[(b * count + i) * dim + d]),
    );
    const squared = token.map((x) =>
      token.map((y) => x.reduce((sum, value, d) => sum + (value - y[d]) ** 2, 0)),
    );
    const distance = squared.map((row) => row.map((value) => Math.sqrt(value) / Math.sqrt(dim)));
    const density = squared.map((row) => {
      const nearest = [...row].sort((x, y) => x - y).slice(0, neighbours);
      return Math.exp(-nearest.reduce((sum, value) => sum + value, 0) / (neighbours * dim));
    });
    const largest = Math.max(...distance.flat());
    const score = density.map((own, i) => {
      const higher = distance[i].filter((_, j) => density[j] > own);
      return own * (higher.length > 0 ? Math.min(...higher) : largest);
    });
    const order = score.map((_, i) => i).sort((i, j) => score[j] - score[i] || i - j);
    result.push(...order.slice(0, keep));
  }
  return result;
}

describe('selectTokens', () => {
  it('matches a hand-computed example', () => {
    // dim 1, k = 2: tokens 5, 1, 0, 0. Densities (mean of the two smallest D²): e^−8, e^−0.5, 1, 1.
    // The two zeros tie as densest, so both take δ = largest distance 5 → score 5 each, lower index first;
    // token 1: nearest denser is at 1 → e^−0.5; token 0: nearest denser is at 4 → 4e^−8.
    expect(Array.from(selectTokens(new Float32Array([5, 1, 0, 0]), [1, 4, 1], 4, { k: 2 }))).toEqual([
      2, 3, 1, 0,
    ]);
  });

  it('matches the reference on many random shapes, scales and k', () => {
    const rng = new Rng(1);
    for (let trial = 0; trial < 200; trial++) {
      const batch = 1 + rng.int(3);
      const count = 1 + rng.int(40);
      const dim = 1 + rng.int(48);
      const keep = rng.int(count + 1);
      const k = 1 + rng.int(8);
      const tokens = new Float32Array(batch * count * dim);
      for (let b = 0; b < batch; b++) {
        // Each element on its own scale, so a δ taken from the wrong element's largest distance shows.
        const scale = 0.1 + 3 * rng.next();
        for (let i = 0; i < count * dim; i++) tokens[b * count * dim + i] = scale * rng.normal();
      }
      const shape: [number, number, number] = [batch, count, dim];
      expect(Array.from(selectTokens(tokens, shape, keep, { k })), `trial ${trial}`).toEqual(
        referenceSelect(tokens, shape, keep, k),
      );
    }
  });

  it('matches the reference at the benchmark shape (64 tokens of dim 768, keep 32)', () => {
    const shape: [number, number, number] = [3, 64, 768];
    const tokens = new Rng(2).normalArray(3 * 64 * 768);
    expect(Array.from(selectTokens(tokens, shape, 32))).toEqual(referenceSelect(tokens, shape, 32));
  });

  it('matches the reference on exact ties: duplicated tokens and integer grids', () => {
    const rng = new Rng(3);
    for (let trial = 0; trial < 100; trial++) {
      const count = 2 + rng.int(24);
      const dim = 1 + rng.int(6);
      const tokens = new Float32Array(count * dim);
      for (let i = 0; i < tokens.length; i++) tokens[i] = rng.int(3) - 1;
      // Copy a few tokens over others, so that whole distance rows repeat.
      for (let copy = rng.int(count); copy > 0; copy--) {
        const from = rng.int(count);
        tokens.copyWithin(rng.int(count) * dim, from * dim, (from + 1) * dim);
      }
      const keep = 1 + rng.int(count);
      const k = 1 + rng.int(6);
      expect(Array.from(selectTokens(tokens, [1, count, dim], keep, { k })), `trial ${trial}`).toEqual(
        referenceSelect(tokens, [1, count, dim], keep, k),
      );
    }
  });

  it('gives identical tokens no strictly denser neighbour: all tie, lowest indices first', () => {
    const tokens = new Float32Array(6 * 3).fill(0.25);
    expect(Array.from(selectTokens(tokens, [1, 6, 3], 4))).toEqual([0, 1, 2, 3]);
  });

  it('uses float64 input without rounding it to float32', () => {
    // dim 1, k = 2: 0, 1 + 2e-12, 2. Token 1 is nearer to 2 than to 0, so tokens 1 and 2 tie as densest ahead of
    // token 0. Rounded to float32, 1 + 2e-12 becomes 1 and all three tie: the order would be 0, 1, 2.
    const tokens = new Float64Array([0, 1 + 2e-12, 2]);
    expect(Array.from(selectTokens(tokens, [1, 3, 1], 3, { k: 2 }))).toEqual([1, 2, 0]);
    expect(Array.from(selectTokens(new Float32Array(tokens), [1, 3, 1], 3, { k: 2 }))).toEqual([0, 1, 2]);
  });

  it('handles one token, keep = n, keep = 0 and k above n', () => {
    const tokens = new Rng(4).normalArray(2 * 7 * 5);
    expect(Array.from(selectTokens(tokens.subarray(0, 10), [2, 1, 5], 1))).toEqual([0, 0]);
    const everything = Array.from(selectTokens(tokens, [2, 7, 5], 7));
    expect(everything).toEqual(referenceSelect(tokens, [2, 7, 5], 7));
    expect([...everything.slice(0, 7)].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(selectTokens(tokens, [2, 7, 5], 0)).toHaveLength(0);
    expect(Array.from(selectTokens(tokens, [2, 7, 5], 4, { k: 50 }))).toEqual(
      Array.from(selectTokens(tokens, [2, 7, 5], 4, { k: 7 })),
    );
  });

  it('rejects keep > n, bad k, a wrong length and non-finite tokens', () => {
    const tokens = new Float32Array(2 * 4 * 3);
    expect(() => selectTokens(tokens, [2, 4, 3], 5)).toThrow(/keep/);
    expect(() => selectTokens(tokens, [2, 4, 3], 2, { k: 0 })).toThrow(/k must/);
    expect(() => selectTokens(tokens, [2, 4, 4], 2)).toThrow(/needs 32 values/);
    tokens[7] = Number.NaN;
    expect(() => selectTokens(tokens, [2, 4, 3], 2)).toThrow(/finite/);
  });
});
