import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../backend';
import { hostKernel, sumRows } from './host-kernel';

beforeAll(async () => {
  await initBackend();
});

describe('host kernels', () => {
  it('hostKernel reads its inputs and writes a new tensor of the given shape', () => {
    const a = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const b = tf.tensor1d([10, 20, 30, 40]);
    const sum = hostKernel([a, b], [4], (out, left, right) => {
      for (let index = 0; index < out.length; index++) out[index] = left![index]! + right![index]!;
    });
    expect(sum.shape).toEqual([4]);
    expect(Array.from(sum.dataSync())).toEqual([11, 22, 33, 44]);
    // The inputs are untouched.
    expect(Array.from(a.dataSync())).toEqual([1, 2, 3, 4]);
  });

  it('sumRows: column sums over 7 rows (a block of four and a tail of three), hand-computed', () => {
    const rows = Array.from({ length: 7 }, (_value, row) => [row, 10 * row, -row]);
    const x = tf.tensor3d(rows.flat(), [7, 1, 3]);
    expect(Array.from(sumRows(x, 3).dataSync())).toEqual([21, 210, -21]);
  });
});
