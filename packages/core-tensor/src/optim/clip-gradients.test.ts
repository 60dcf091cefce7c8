import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../backend';
import { clipGradientsByGlobalNorm } from './clip-gradients';

beforeAll(async () => {
  await initBackend();
});

describe('clipGradientsByGlobalNorm', () => {
  it('scales all gradients by one factor when the global norm is too large', () => {
    const { gradients, totalNorm } = clipGradientsByGlobalNorm(
      { a: tf.tensor1d([3]), b: tf.tensor1d([4]) },
      1,
    );
    expect(totalNorm).toBeCloseTo(5);
    expect(gradients.a!.dataSync()[0]).toBeCloseTo(0.6, 5);
    expect(gradients.b!.dataSync()[0]).toBeCloseTo(0.8, 5);
  });

  it('leaves small gradients untouched', () => {
    const input = { a: tf.tensor1d([0.3, 0.4]) };
    const { gradients, totalNorm } = clipGradientsByGlobalNorm(input, 1);
    expect(totalNorm).toBeCloseTo(0.5);
    expect(gradients.a).toBe(input.a);
  });
});
