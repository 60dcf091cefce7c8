import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../backend';
import { checkGradients } from '../grad-check';
import { randomVariable } from '../test-helpers';
import { gatherRows } from './gather';

beforeAll(async () => {
  await initBackend();
});

describe('gatherRows', () => {
  it('looks rows up and keeps the id shape', () => {
    const table = tf.tensor2d([
      [0, 1],
      [10, 11],
      [20, 21],
    ]);
    const ids = tf.tensor2d(
      [
        [2, 0],
        [1, 1],
      ],
      [2, 2],
      'int32',
    );
    const rows = gatherRows(table, ids);
    expect(rows.shape).toEqual([2, 2, 2]);
    expect(Array.from(rows.dataSync())).toEqual([20, 21, 0, 1, 10, 11, 10, 11]);
  });

  it('rejects an id outside the table, naming it', () => {
    const table = tf.zeros([3, 2]) as tf.Tensor2D;
    expect(() => gatherRows(table, tf.tensor1d([0, 3], 'int32'))).toThrow(/id 3 is outside \[0, 3\)/);
  });

  it('accumulates the gradient of repeated ids (hand-computed)', () => {
    const table = tf.variable(tf.zeros([3, 2]));
    const ids = tf.tensor1d([1, 1, 2], 'int32');
    const gradient = tf.grad((x) =>
      tf.sum(
        tf.mul(
          gatherRows(x as tf.Tensor2D, ids),
          tf.tensor2d([
            [1, 2],
            [3, 4],
            [5, 6],
          ]),
        ),
      ),
    )(table);
    expect(Array.from(gradient.dataSync())).toEqual([0, 0, 4, 6, 5, 6]);
  });

  it('keeps the ids alive for the backward pass when the forward pass runs inside a tidy', () => {
    const table = randomVariable([5, 3], 4);
    const { grads } = tf.variableGrads(() => {
      const ids = tf.tensor1d([4, 4, 0], 'int32');
      return tf.sum(gatherRows(table as tf.Tensor2D, ids)) as tf.Scalar;
    }, [table]);
    expect(Array.from(grads[table.name]!.dataSync())).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2]);
  });

  it('gradient matches finite differences', () => {
    const table = randomVariable([7, 5], 3);
    const ids = tf.tensor2d(
      [
        [0, 3, 3],
        [6, 1, 0],
      ],
      [2, 3],
      'int32',
    );
    const result = checkGradients(() => gatherRows(table as tf.Tensor2D, ids), new Map([['table', table]]));
    expect(result.maxRelativeError).toBeLessThan(1e-3);
  });
});
