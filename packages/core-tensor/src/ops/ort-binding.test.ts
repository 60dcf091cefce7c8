import { describe, expect, it } from 'vitest';
import { nativeMatMul } from './native-matmul';
import { computeThreads, ortBinding, withComputeThreads } from './ort-binding';

describe.skipIf(!nativeMatMul())('withComputeThreads', () => {
  it('limits the threads of calls inside it, across awaits, and nests', async () => {
    const all = ortBinding().threads;
    expect(computeThreads()).toBe(all);
    const seen = await withComputeThreads(1, async () => {
      const before = computeThreads();
      await new Promise((resolve) => setTimeout(resolve, 1));
      const inner = withComputeThreads(all + 5, () => computeThreads());
      return [before, computeThreads(), inner];
    });
    // A limit above the pool's threads cannot raise it.
    expect(seen).toEqual([1, 1, all]);
    expect(computeThreads()).toBe(all);
  });

  it('gives the same products with one thread as with the pool', () => {
    const native = nativeMatMul()!;
    const [m, k, n] = [300, 128, 257]; // above SINGLE_THREAD_WORK: the pool's session when not limited
    const a = Float32Array.from({ length: m * k }, (_v, index) => Math.sin(index));
    const b = Float32Array.from({ length: k * n }, (_v, index) => Math.cos(index));
    const pooled = native.gemm(a, b, m, k, n, false, false);
    const single = withComputeThreads(1, () => native.gemm(a, b, m, k, n, false, false));
    expect(Array.from(single)).toEqual(Array.from(pooled));
  });

  it('refuses a thread count that is not a positive integer', () => {
    expect(() => withComputeThreads(0, () => 1)).toThrow(/positive integer, got 0/);
    expect(() => withComputeThreads(1.5, () => 1)).toThrow(/positive integer/);
  });
});
