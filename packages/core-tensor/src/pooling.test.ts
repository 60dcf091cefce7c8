import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from './backend';
import { lastTokenPool, maskedMeanPool, meanPool, positionWeightedMeanPool } from './pooling';

beforeAll(async () => {
  await initBackend();
});

/** Two rows of four tokens, dim 2: token t of row r is (10r + t, −t). */
const tokens = tf.tensor3d([
  [
    [0, 0],
    [1, -1],
    [2, -2],
    [3, -3],
  ],
  [
    [10, 0],
    [11, -1],
    [12, -2],
    [13, -3],
  ],
]);
/** Row 0 right-padded (3 real tokens), row 1 left-padded (2 real tokens). */
const mask = tf.tensor2d([
  [1, 1, 1, 0],
  [0, 0, 1, 1],
]);

const expectClose = (actual: tf.Tensor, expected: number[][]) => {
  expect(actual.shape).toEqual([expected.length, expected[0].length]);
  const values = actual.arraySync() as number[][];
  expected.forEach((row, r) => {
    row.forEach((value, c) => {
      expect(values[r][c]).toBeCloseTo(value, 5);
    });
  });
};

/** Gradient of Σ pooled·(1, 1) with respect to the tokens, i.e. the pooling weight of each token (twice). */
const tokenWeights = (pool: (x: tf.Tensor3D) => tf.Tensor2D) =>
  (
    tf
      .grad((x: tf.Tensor) => tf.sum(pool(x as tf.Tensor3D)))(tokens)
      .arraySync() as number[][][]
  ).map((row) => row.map((gradient) => gradient[0]));

describe('pooling', () => {
  it('meanPool averages every token', () => {
    expectClose(meanPool(tokens), [
      [1.5, -1.5],
      [11.5, -1.5],
    ]);
  });

  it('maskedMeanPool averages the real tokens only', () => {
    expectClose(maskedMeanPool(tokens, mask), [
      [1, -1],
      [12.5, -2.5],
    ]);
    expect(tokenWeights((x) => maskedMeanPool(x, mask))).toEqual([
      [1 / 3, 1 / 3, 1 / 3, 0].map(Math.fround),
      [0, 0, 0.5, 0.5],
    ]);
  });

  it('positionWeightedMeanPool weighs the i-th real token by i / Σj', () => {
    // Row 0: weights 1/6, 2/6, 3/6 on tokens 0–2. Row 1: weights 1/3, 2/3 on tokens 2–3.
    expectClose(positionWeightedMeanPool(tokens, mask), [
      [(0 * 1 + 1 * 2 + 2 * 3) / 6, -(1 * 2 + 2 * 3) / 6],
      [(12 * 1 + 13 * 2) / 3, -(2 * 1 + 3 * 2) / 3],
    ]);
    // Without a mask: weights 1/10, 2/10, 3/10, 4/10.
    expectClose(positionWeightedMeanPool(tokens), [
      [(1 * 2 + 2 * 3 + 3 * 4) / 10, -(1 * 2 + 2 * 3 + 3 * 4) / 10],
      [(10 * 1 + 11 * 2 + 12 * 3 + 13 * 4) / 10, -(1 * 2 + 2 * 3 + 3 * 4) / 10],
    ]);
    const weights = tokenWeights((x) => positionWeightedMeanPool(x, mask));
    [
      [1 / 6, 2 / 6, 3 / 6, 0],
      [0, 0, 1 / 3, 2 / 3],
    ].forEach((row, r) => {
      row.forEach((weight, t) => {
        expect(weights[r][t]).toBeCloseTo(weight, 6);
      });
    });
  });

  it('lastTokenPool picks the last real token for right- and left-padded rows', () => {
    expectClose(lastTokenPool(tokens, mask), [
      [2, -2],
      [13, -3],
    ]);
    expectClose(lastTokenPool(tokens), [
      [3, -3],
      [13, -3],
    ]);
    expect(tokenWeights((x) => lastTokenPool(x, mask))).toEqual([
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ]);
  });

  it('pools a row without real tokens to zeros, with finite gradients', () => {
    const emptyRow = tf.tensor2d([
      [1, 1, 1, 0],
      [0, 0, 0, 0],
    ]);
    for (const pool of [maskedMeanPool, positionWeightedMeanPool, lastTokenPool]) {
      expect((pool(tokens, emptyRow).arraySync() as number[][])[1]).toEqual([0, 0]);
      expect(tokenWeights((x) => pool(x, emptyRow))[1]).toEqual([0, 0, 0, 0]);
    }
  });
});
