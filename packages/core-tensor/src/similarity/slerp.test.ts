import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../backend';
import { Rng } from '../rng';
import { l2NormalizeInPlace } from './normalize';
import { slerp, slerpTensor } from './slerp';

beforeAll(async () => {
  await initBackend();
});

const norm = (vector: ArrayLike<number>) => Math.hypot(...Array.from(vector));
const expectClose = (actual: ArrayLike<number>, expected: ArrayLike<number>, digits = 6) => {
  expect(actual.length).toBe(expected.length);
  Array.from(actual).forEach((value, i) => {
    expect(value).toBeCloseTo(expected[i], digits);
  });
};

describe('slerp', () => {
  const a = new Float32Array([1, 0, 0]);
  const b = new Float32Array([0, 1, 0]);

  it('gives (a + b)/√2 halfway between orthogonal unit vectors', () => {
    expectClose(slerp(a, b, 0.5), [Math.SQRT1_2, Math.SQRT1_2, 0]);
  });

  it('gives cos/sin of alpha·90° between orthogonal unit vectors', () => {
    const third = slerp(a, b, 1 / 3);
    expectClose(third, [Math.cos(Math.PI / 6), Math.sin(Math.PI / 6), 0]);
  });

  it('returns the endpoints at alpha 0 and 1 and keeps unit norm in between', () => {
    const rng = new Rng(5);
    const x = l2NormalizeInPlace(rng.normalArray(32), 1, 32);
    const y = l2NormalizeInPlace(rng.normalArray(32), 1, 32);
    expectClose(slerp(x, y, 0), x);
    expectClose(slerp(x, y, 1), y);
    for (const alpha of [0.1, 0.25, 0.5, 0.9]) expect(norm(slerp(x, y, alpha))).toBeCloseTo(1, 6);
  });

  it('returns the vector itself for identical inputs (normalised-lerp fallback)', () => {
    const x = new Float32Array([0.6, 0.8]);
    expectClose(slerp(x, x, 0.5), x);
  });

  it('handles antipodal vectors without NaN: a unit vector orthogonal to both at alpha 0.5', () => {
    const x = new Float32Array([0.6, 0, 0.8]);
    const halfway = slerp(x, new Float32Array([-0.6, 0, -0.8]), 0.5);
    expect(Array.from(halfway).every(Number.isFinite)).toBe(true);
    expect(norm(halfway)).toBeCloseTo(1, 6);
    expect(halfway[0] * x[0] + halfway[1] * x[1] + halfway[2] * x[2]).toBeCloseTo(0, 6);
    expectClose(slerp(x, new Float32Array([-0.6, 0, -0.8]), 1), [-0.6, 0, -0.8]);
  });
});

describe('slerpTensor', () => {
  it('matches the typed-array version row by row', () => {
    const rng = new Rng(6);
    const dim = 16;
    const a = l2NormalizeInPlace(rng.normalArray(4 * dim), 4, dim);
    const b = l2NormalizeInPlace(rng.normalArray(4 * dim), 4, dim);
    b.set(a.subarray(0, dim), 0); // an identical pair exercises the clamp
    const result = slerpTensor(tf.tensor2d(a, [4, dim]), tf.tensor2d(b, [4, dim]), 0.5).dataSync();
    for (let row = 0; row < 4; row++) {
      const rowSlice = [row * dim, (row + 1) * dim] as const;
      expectClose(
        result.subarray(...rowSlice),
        slerp(a.subarray(...rowSlice), b.subarray(...rowSlice), 0.5),
        5,
      );
    }
  });

  it('has finite gradients for identical and orthogonal pairs', () => {
    const a = tf.tensor2d([
      [1, 0, 0],
      [1, 0, 0],
    ]);
    const b = tf.tensor2d([
      [1, 0, 0],
      [0, 1, 0],
    ]);
    const [gradientA, gradientB] = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
      tf.sum(tf.mul(slerpTensor(x as tf.Tensor2D, y as tf.Tensor2D, 0.5), [1, 2, 3])),
    )([a, b]);
    const values = [...gradientA.dataSync(), ...gradientB.dataSync()];
    expect(values.every(Number.isFinite)).toBe(true);
  });
});
