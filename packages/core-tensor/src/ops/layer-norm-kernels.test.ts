import { describe, expect, it } from 'vitest';
import { maxAbsDifference } from '../grad-check';
import { layerNormBackward, layerNormForward } from './layer-norm-kernels';

/** Plain float64 layer norm, written from the definition. */
function reference(x: number[], gamma: number[], beta: number[], epsilon: number): number[] {
  const mean = x.reduce((sum, value) => sum + value, 0) / x.length;
  const variance = x.reduce((sum, value) => sum + (value - mean) ** 2, 0) / x.length;
  return x.map((value, d) => ((value - mean) / Math.sqrt(variance + epsilon)) * gamma[d]! + beta[d]!);
}

describe('layer norm kernels', () => {
  for (const dim of [4, 5]) {
    it(`forward matches the definition and backward matches finite differences (dim ${dim})`, () => {
      const rows = 3;
      const x = Float32Array.from(
        { length: rows * dim },
        (_value, index) => Math.sin(index * 1.7) * 3 + index * 0.1,
      );
      const gamma = Float32Array.from({ length: dim }, (_value, index) => 0.5 + index * 0.25);
      const beta = Float32Array.from({ length: dim }, (_value, index) => index * 0.1 - 0.2);
      const upstream = Float32Array.from({ length: rows * dim }, (_value, index) => Math.cos(index));
      const epsilon = 1e-5;
      const statistics = new Float32Array(rows * 2);
      const out = layerNormForward(x, gamma, beta, dim, epsilon, new Float32Array(x.length), statistics);
      const expected = Array.from({ length: rows }, (_value, row) =>
        reference(
          Array.from(x.subarray(row * dim, (row + 1) * dim)),
          Array.from(gamma),
          Array.from(beta),
          epsilon,
        ),
      ).flat();
      expect(maxAbsDifference(out, expected)).toBeLessThan(1e-5);

      // L = Σ upstream · LN(x); finite differences in float64 through the reference.
      const loss = (xs: number[], gs: number[], bs: number[]) =>
        Array.from({ length: rows }, (_value, row) =>
          reference(xs.slice(row * dim, (row + 1) * dim), gs, bs, epsilon).reduce(
            (sum, value, d) => sum + value * upstream[row * dim + d]!,
            0,
          ),
        ).reduce((a, b) => a + b, 0);
      const h = 1e-6;
      const numeric = (values: number[], which: 0 | 1 | 2) =>
        values.map((_value, index) => {
          const plus = values.slice();
          const minus = values.slice();
          plus[index]! += h;
          minus[index]! -= h;
          const args = (v: number[]) =>
            [
              which === 0 ? v : Array.from(x),
              which === 1 ? v : Array.from(gamma),
              which === 2 ? v : Array.from(beta),
            ] as const;
          return (loss(...args(plus)) - loss(...args(minus))) / (2 * h);
        });
      const dx = new Float32Array(x.length);
      const dGamma = new Float64Array(dim);
      const dBeta = new Float64Array(dim);
      layerNormBackward(x, gamma, upstream, statistics, dim, dx, dGamma, dBeta);
      expect(maxAbsDifference(dx, numeric(Array.from(x), 0))).toBeLessThan(1e-4);
      expect(maxAbsDifference(dGamma, numeric(Array.from(gamma), 1))).toBeLessThan(1e-4);
      expect(maxAbsDifference(dBeta, numeric(Array.from(beta), 2))).toBeLessThan(1e-4);
    });
  }
});
