import { describe, expect, it } from 'vitest';
import { initBackend, tf } from './backend';

// Each vitest file runs in its own process, so forcing a backend here does not affect the other tests.
describe('CIR_BACKEND', () => {
  it('rejects an unknown backend name with the list of valid ones, then forces cpu', async () => {
    await expect(initBackend({ backend: 'tpu' })).rejects.toThrow(/"tpu" is not a backend.*wasm, cpu/);
    process.env.CIR_BACKEND = 'cpu';
    const info = await initBackend();
    expect(info).toMatchObject({ name: 'cpu', tfjsName: 'cpu', forced: true });
    expect(Array.from(tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync())).toEqual([11]);
  });
});
