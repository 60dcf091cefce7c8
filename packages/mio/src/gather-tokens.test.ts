import { checkGradients, initBackend, Rng, tf } from '@cir/core-tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { gatherTokens } from './gather-tokens';

beforeAll(async () => {
  await initBackend();
});

describe('gatherTokens', () => {
  it('gathers per batch element', () => {
    // tokens[b][i] = [10b + i, −(10b + i)]
    const tokens = tf.tensor3d(
      Array.from({ length: 2 * 3 }, (_, at) => [
        at + 7 * Math.floor(at / 3),
        -(at + 7 * Math.floor(at / 3)),
      ]).flat(),
      [2, 3, 2],
    );
    const indices = tf.tensor2d([2, 0, 1, 1], [2, 2], 'int32');
    const gathered = gatherTokens(tokens, indices);
    expect(gathered.shape).toEqual([2, 2, 2]);
    expect(Array.from(gathered.dataSync())).toEqual([2, -2, 0, -0, 11, -11, 11, -11]);
  });

  it('sends gradient to kept tokens only, adding repeats (hand-computed)', () => {
    const tokens = tf.zeros([2, 3, 2]) as tf.Tensor3D;
    const indices = tf.tensor2d([2, 0, 1, 1], [2, 2], 'int32');
    const gradient = tf.grad((x) => tf.sum(gatherTokens(x as tf.Tensor3D, indices)))(tokens);
    expect(Array.from(gradient.dataSync())).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 2, 2, 0, 0]);
  });

  it('gradient matches finite differences', () => {
    const tokens = tf.variable(tf.tensor3d(new Rng(1).normalArray(3 * 5 * 4), [3, 5, 4]));
    const indices = tf.tensor2d([4, 0, 1, 1, 2, 3, 0, 0, 4], [3, 3], 'int32');
    const result = checkGradients(() => gatherTokens(tokens, indices), new Map([['tokens', tokens]]));
    expect(result.maxRelativeError).toBeLessThan(1e-3);
  });

  it('rejects indices that are not int32 [batch, keep]', () => {
    const tokens = tf.zeros([2, 3, 2]) as tf.Tensor3D;
    expect(() => gatherTokens(tokens, tf.zeros([2, 2]) as tf.Tensor2D)).toThrow(/int32/);
    expect(() => gatherTokens(tokens, tf.zeros([3, 2], 'int32') as tf.Tensor2D)).toThrow(/batch = 2/);
  });
});
