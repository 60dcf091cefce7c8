import { describe, expect, it } from 'vitest';
import { initBackend, tf } from './backend';

describe('initBackend', () => {
  it('picks the fastest backend that can start and says why faster ones were skipped', async () => {
    const info = await initBackend();
    const forced = process.env.CIR_BACKEND;
    if (forced && forced !== 'auto') {
      expect(info.forced).toBe(true);
      return;
    }
    // This machine has no libtensorflow: wasm with SIMD is expected, with the native packages explained.
    if (info.name === 'wasm') {
      expect(info.simd).toBe(true);
      expect(info.skipped.map((skip) => skip.name)).toEqual(['tensorflow-gpu', 'tensorflow']);
      expect(info.skipped[0]!.reason).toMatch(/tfjs-node-gpu/);
    }
    expect(await initBackend()).toBe(info);
  });
});

describe('tfjs Identity on wasm', () => {
  it('clones share data by reference count: values survive disposing either side, gradients unchanged', async () => {
    await initBackend();
    const x = tf.tensor1d([1, 2, 3]);
    const copy = tf.clone(x);
    // No copy: the clone is the same data with a second reference.
    expect(copy.dataId).toBe(x.dataId);
    const before = tf.memory().numTensors;
    x.dispose();
    expect(Array.from(copy.dataSync())).toEqual([1, 2, 3]);
    copy.dispose();
    expect(tf.memory().numTensors).toBe(before - 2);
    // Autodiff clones the tensors kernels save for the backward pass.
    const v = tf.variable(tf.tensor1d([0.5, -1, 2]));
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(tf.exp(v), v)) as tf.Scalar, [v]);
    const expected = [0.5, -1, 2].map((value) => Math.exp(value) * (1 + value));
    Array.from(grads[v.name]!.dataSync()).forEach((gradient, index) => {
      expect(gradient).toBeCloseTo(expected[index]!, 5);
    });
    expect(value.dataSync()[0]).toBeCloseTo(
      [0.5, -1, 2].reduce((sum, value) => sum + Math.exp(value) * value, 0),
      5,
    );
  });
});
