import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../backend';
import { checkGradients } from '../grad-check';
import { randomVariable, weightedSum } from '../test-helpers';
import { batchMatMul, matMul2d, matMulLastAxis } from './matmul';
import { nativeMatMul, nativeMatMulProblem } from './native-matmul';

beforeAll(async () => {
  await initBackend();
});

describe('matMul2d', () => {
  it('matches a hand-computed product', () => {
    const a = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const b = tf.tensor2d([
      [5, 6],
      [7, 8],
    ]);
    expect(Array.from(matMul2d(a, b).dataSync())).toEqual([19, 22, 43, 50]);
    // aᵀ·b = [[1,3],[2,4]]·b
    expect(Array.from(matMul2d(a, b, true, false).dataSync())).toEqual([26, 30, 38, 44]);
    // a·bᵀ
    expect(Array.from(matMul2d(a, b, false, true).dataSync())).toEqual([17, 23, 39, 53]);
  });

  for (const [transposeA, transposeB] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    it(`gradients match finite differences (transposeA=${transposeA}, transposeB=${transposeB})`, () => {
      const a = randomVariable(transposeA ? [4, 3] : [3, 4], 1);
      const b = randomVariable(transposeB ? [5, 4] : [4, 5], 2);
      const result = checkGradients(
        () => matMul2d(a as tf.Tensor2D, b as tf.Tensor2D, transposeA, transposeB),
        new Map([
          ['a', a],
          ['b', b],
        ]),
      );
      expect(result.maxRelativeError).toBeLessThan(1e-3);
    });

    it(`gradients equal tfjs's own matMul gradients (transposeA=${transposeA}, transposeB=${transposeB})`, () => {
      const a = randomVariable(transposeA ? [6, 3] : [3, 6], 3);
      const b = randomVariable(transposeB ? [2, 6] : [6, 2], 4);
      const ours = tf.grads((x, y) =>
        weightedSum(matMul2d(x as tf.Tensor2D, y as tf.Tensor2D, transposeA, transposeB)),
      )([a, b]);
      const reference = tf.grads((x, y) =>
        weightedSum(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, transposeA, transposeB)),
      )([a, b]);
      for (let i = 0; i < 2; i++) {
        const difference = tf.max(tf.abs(tf.sub(ours[i]!, reference[i]!))).dataSync()[0]!;
        expect(difference).toBeLessThan(1e-5);
      }
    });
  }

  it('matMulLastAxis flattens leading axes', () => {
    const x = randomVariable([2, 3, 4], 5);
    const w = randomVariable([4, 6], 6);
    const product = matMulLastAxis(x, w as tf.Tensor2D);
    expect(product.shape).toEqual([2, 3, 6]);
    const reference = tf.reshape(tf.matMul(tf.reshape(x, [6, 4]), w), [2, 3, 6]);
    expect(tf.max(tf.abs(tf.sub(product, reference))).dataSync()[0]).toBeLessThan(1e-5);
  });
});

describe('batchMatMul', () => {
  for (const [transposeA, transposeB] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    it(`forward and gradients match (transposeA=${transposeA}, transposeB=${transposeB})`, () => {
      const a = randomVariable(transposeA ? [2, 4, 3] : [2, 3, 4], 7);
      const b = randomVariable(transposeB ? [2, 5, 4] : [2, 4, 5], 8);
      const ours = batchMatMul(a as tf.Tensor3D, b as tf.Tensor3D, transposeA, transposeB);
      const reference = tf.matMul(a, b, transposeA, transposeB);
      expect(tf.max(tf.abs(tf.sub(ours, reference))).dataSync()[0]).toBeLessThan(1e-5);
      const result = checkGradients(
        () => batchMatMul(a as tf.Tensor3D, b as tf.Tensor3D, transposeA, transposeB),
        new Map([
          ['a', a],
          ['b', b],
        ]),
      );
      expect(result.maxRelativeError).toBeLessThan(1e-3);
    });
  }
});

describe('native products (onnxruntime MLAS)', () => {
  beforeAll(() => {
    // Every product on the native path, however small (by default small ones stay on tfjs's kernels).
    process.env.CIR_NATIVE_MATMUL = '1';
  });
  afterAll(() => {
    delete process.env.CIR_NATIVE_MATMUL;
  });
  const withTfjsKernels = <T>(run: () => T): T => {
    process.env.CIR_NATIVE_MATMUL = '0';
    try {
      return run();
    } finally {
      process.env.CIR_NATIVE_MATMUL = '1';
    }
  };

  it('load here (onnxruntime-node is a dependency) and can be turned off', () => {
    expect(nativeMatMulProblem()).toBeUndefined();
    expect(nativeMatMul()).toBeDefined();
    expect(withTfjsKernels(() => nativeMatMulProblem())).toMatch(/CIR_NATIVE_MATMUL=0/);
  });

  for (const [transposeA, transposeB] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    it(`agree with the tfjs kernels, values and gradients, 2-D and batched (transposeA=${transposeA}, transposeB=${transposeB})`, () => {
      const cases = [
        {
          a: randomVariable(transposeA ? [7, 5] : [5, 7], 5),
          b: randomVariable(transposeB ? [3, 7] : [7, 3], 6),
        },
        {
          a: randomVariable(transposeA ? [4, 7, 5] : [4, 5, 7], 7),
          b: randomVariable(transposeB ? [4, 3, 7] : [4, 7, 3], 8),
        },
      ];
      for (const { a, b } of cases) {
        const run = () =>
          tf.grads((x, y) =>
            weightedSum(
              x.rank === 2
                ? matMul2d(x as tf.Tensor2D, y as tf.Tensor2D, transposeA, transposeB)
                : batchMatMul(x as tf.Tensor3D, y as tf.Tensor3D, transposeA, transposeB),
            ),
          )([a, b]);
        const value = (x: tf.Tensor, y: tf.Tensor) =>
          x.rank === 2
            ? matMul2d(x as tf.Tensor2D, y as tf.Tensor2D, transposeA, transposeB)
            : batchMatMul(x as tf.Tensor3D, y as tf.Tensor3D, transposeA, transposeB);
        const native = [value(a, b), ...run()];
        const reference = withTfjsKernels(() => [value(a, b), ...run()]);
        native.forEach((tensor, index) => {
          expect(tensor.shape).toEqual(reference[index]!.shape);
          const difference = tf.max(tf.abs(tf.sub(tensor, reference[index]!))).dataSync()[0]!;
          expect(difference).toBeLessThan(1e-5);
        });
      }
    });
  }
});
