import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../backend';
import { l2Normalize, l2NormalizeInPlace, l2NormalizeTensor } from './normalize';

beforeAll(async () => {
  await initBackend();
});

describe('l2Normalize', () => {
  it('scales rows to unit norm, keeps zero rows and leaves the input alone', () => {
    const data = new Float32Array([3, 4, 0, 0, 0, -2]);
    const normalized = l2Normalize(data, 3, 2);
    expect(Array.from(normalized)).toEqual([0.6, 0.8, 0, 0, 0, -1].map(Math.fround));
    expect(Array.from(data)).toEqual([3, 4, 0, 0, 0, -2]);
  });

  it('has an in-place variant that returns its argument', () => {
    const data = new Float32Array([1, 1, 1, 1]);
    expect(l2NormalizeInPlace(data, 1, 4)).toBe(data);
    expect(Array.from(data)).toEqual([0.5, 0.5, 0.5, 0.5]);
  });

  it('rejects a length that does not match rows × dim', () => {
    expect(() => l2Normalize(new Float32Array(5), 2, 3)).toThrow(RangeError);
  });
});

describe('l2NormalizeTensor', () => {
  it('matches the typed-array version and keeps zero rows at zero', () => {
    const data = new Float32Array([3, 4, 0, 0, 1, -2]);
    const normalized = l2NormalizeTensor(tf.tensor2d(data, [3, 2]));
    const expected = l2Normalize(data, 3, 2);
    Array.from(normalized.dataSync()).forEach((value, i) => {
      expect(value).toBeCloseTo(expected[i], 6);
    });
  });

  it('has finite gradients, orthogonal to the row for non-zero rows', () => {
    const x = tf.tensor2d([
      [3, 4],
      [0, 0],
    ]);
    const gradient = tf.grad((input: tf.Tensor) =>
      tf.sum(tf.mul(l2NormalizeTensor(input as tf.Tensor2D), [1, 2])),
    )(x);
    const values = gradient.arraySync() as number[][];
    expect(values.flat().every(Number.isFinite)).toBe(true);
    // d/dx (w · x/‖x‖) = (w − (w·u)u)/‖x‖ with u = (0.6, 0.8), w = (1, 2): w·u = 2.2.
    expect(values[0][0]).toBeCloseTo((1 - 2.2 * 0.6) / 5, 5);
    expect(values[0][1]).toBeCloseTo((2 - 2.2 * 0.8) / 5, 5);
  });
});
