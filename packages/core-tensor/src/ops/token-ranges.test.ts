import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../backend';
import { maxAbsDifference } from '../grad-check';
import { concatTokens, sliceTokens } from './token-ranges';

beforeAll(async () => {
  await initBackend();
});

const sequence = (batch: number, tokens: number, dim: number, seed: number) =>
  tf.tensor3d(
    Float32Array.from({ length: batch * tokens * dim }, (_value, index) => Math.sin(index * seed)),
    [batch, tokens, dim],
  );

describe('token slices and concatenations', () => {
  it('match tf.slice / tf.concat in value and gradient', () => {
    const a = sequence(3, 5, 4, 1.3);
    const b = sequence(3, 2, 4, 0.7);
    const weights = sequence(3, 7, 4, 2.1);
    expect(maxAbsDifference(concatTokens([a, b]).dataSync(), tf.concat([a, b], 1).dataSync())).toBe(0);
    expect(maxAbsDifference(sliceTokens(a, 1, 4).dataSync(), tf.slice(a, [0, 1], [-1, 3]).dataSync())).toBe(
      0,
    );
    // d/d(a, b) of Σ w ⊙ [slice(concat(a, b), 1, 6); concat(a, b)[0:1]] against tfjs's own gradients.
    const ours = tf.grads((x: tf.Tensor, y: tf.Tensor) => {
      const joined = concatTokens([x, y]);
      return tf.sum(tf.mul(concatTokens([sliceTokens(joined, 1, 7), sliceTokens(joined, 0, 1)]), weights));
    })([a, b]);
    const theirs = tf.grads((x: tf.Tensor, y: tf.Tensor) => {
      const joined = tf.concat([x, y], 1);
      return tf.sum(
        tf.mul(tf.concat([tf.slice(joined, [0, 1], [-1, 6]), tf.slice(joined, [0, 0], [-1, 1])], 1), weights),
      );
    })([a, b]);
    expect(maxAbsDifference(ours[0]!.dataSync(), theirs[0]!.dataSync())).toBe(0);
    expect(maxAbsDifference(ours[1]!.dataSync(), theirs[1]!.dataSync())).toBe(0);
  });

  it('work on rank 2 (masks) and reject a range outside the tokens', () => {
    const mask = tf.tensor2d([
      [1, 1, 0],
      [1, 0, 0],
    ]);
    expect(Array.from(concatTokens([mask, tf.ones([2, 1])]).dataSync())).toEqual([1, 1, 0, 1, 1, 0, 0, 1]);
    expect(Array.from(sliceTokens(mask, 1, 2).dataSync())).toEqual([1, 0]);
    expect(() => sliceTokens(mask, 2, 4)).toThrow(/\[2, 4\) is outside the 3 tokens/);
  });
});
