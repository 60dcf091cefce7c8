import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../backend';
import { maxAbsDifference } from '../grad-check';
import { gelu } from '../nn/feed-forward';
import { geluDerivativeExact, geluExact, geluInto, geluWithSlopeInto } from './gelu-table';

beforeAll(async () => {
  await initBackend();
});

// Φ from tables of the standard normal distribution.
const PHI: Record<number, number> = {
  [-3]: 0.0013498980316301,
  [-1]: 0.15865525393145707,
  [0.5]: 0.6914624612740131,
  [1]: 0.8413447460685429,
  [2]: 0.9772498680518208,
};

describe('GELU tables', () => {
  it('GELU(x) = x·Φ(x) at tabulated points, exactly and interpolated', () => {
    const xs = Object.keys(PHI).map(Number);
    const interpolated = geluInto(Float32Array.from(xs), new Float32Array(xs.length));
    xs.forEach((x, index) => {
      expect(geluExact(x)).toBeCloseTo(x * PHI[x]!, 7);
      expect(interpolated[index]).toBeCloseTo(x * PHI[x]!, 6);
    });
  });

  it("GELU' matches central finite differences of GELU, and its table interpolates to 3e-7", () => {
    const xs = Float32Array.from({ length: 401 }, (_value, index) => (index - 200) / 19.7);
    const h = 1e-5;
    const differences = Array.from(xs, (x) => (geluExact(x + h) - geluExact(x - h)) / (2 * h));
    expect(maxAbsDifference(Array.from(xs, geluDerivativeExact), differences)).toBeLessThan(1e-6);
    const values = new Float32Array(xs.length);
    const slopes = new Float32Array(xs.length);
    geluWithSlopeInto(xs, values, slopes);
    expect(maxAbsDifference(slopes, Array.from(xs, geluDerivativeExact))).toBeLessThan(3e-7);
    expect(maxAbsDifference(values, geluInto(xs, new Float32Array(xs.length)))).toBe(0);
  });

  it('outside ±8: GELU is x or 0 and its slope 1 or 0; NaN propagates', () => {
    const xs = Float32Array.of(-1e6, -8, 8, 1e6, Number.NaN);
    const values = geluInto(xs, new Float32Array(xs.length));
    expect(Array.from(values.subarray(0, 4))).toEqual([0, 0, 8, 1e6]);
    expect(values[4]).toBeNaN();
    const slopes = new Float32Array(xs.length);
    geluWithSlopeInto(xs, new Float32Array(xs.length), slopes);
    expect(Array.from(slopes.subarray(0, 4))).toEqual([0, 0, 1, 1]);
    expect(slopes[4]).toBeNaN();
  });

  it("the gelu op (host kernel on wasm/cpu) matches tfjs's erf formula in value and gradient", () => {
    const values = Float32Array.from({ length: 333 }, (_value, index) => (index - 166) / 15.3);
    const x = tf.tensor1d(values);
    const upstream = tf.tensor1d(Float32Array.from(values, (_value, index) => Math.sin(index)));
    const reference = (input: tf.Tensor) =>
      tf.mul(tf.mul(input, 0.5), tf.add(1, tf.erf(tf.mul(input, Math.SQRT1_2))));
    expect(maxAbsDifference(gelu(x).dataSync(), reference(x).dataSync())).toBeLessThan(1e-6);
    const ours = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(gelu(input), upstream)))(x);
    const theirs = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(reference(input), upstream)))(x);
    expect(maxAbsDifference(ours.dataSync(), theirs.dataSync())).toBeLessThan(2e-6);
  });
});
