import { initBackend, tf } from '../backend';
import { Rng } from '../rng';

export interface MatMulBenchmarkResult {
  name: 'matmul';
  size: number;
  /** GFLOP/s of a size³ matMul (2·size³ flops), median over repeats, per registered backend. */
  backends: { backend: string; medianMs: number; gflops: number }[];
}

/** 512³ matMul on every tfjs backend registered in this process (the selected one plus cpu at least). */
export async function benchmarkMatMul(
  options: { size?: number; repeats?: number } = {},
): Promise<MatMulBenchmarkResult> {
  const size = options.size ?? 512;
  const repeats = options.repeats ?? 10;
  const selected = (await initBackend()).tfjsName;
  const rng = new Rng(1);
  const backends: MatMulBenchmarkResult['backends'] = [];
  const names = [
    selected,
    ...['wasm', 'cpu'].filter((name) => name !== selected && tf.findBackendFactory(name)),
  ];
  for (const backend of names) {
    await tf.setBackend(backend);
    const a = tf.tensor2d(rng.normalArray(size * size), [size, size]);
    const b = tf.tensor2d(rng.normalArray(size * size), [size, size]);
    // The cpu backend is ~50× slower: fewer repeats keep the benchmark short.
    const count = backend === 'cpu' ? Math.min(3, repeats) : repeats;
    tf.matMul(a, b).dispose();
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const start = performance.now();
      const product = tf.matMul(a, b);
      await product.data();
      times.push(performance.now() - start);
      product.dispose();
    }
    a.dispose();
    b.dispose();
    const medianMs = median(times);
    backends.push({ backend, medianMs, gflops: (2 * size ** 3) / (medianMs * 1e6) });
  }
  await tf.setBackend(selected);
  return { name: 'matmul', size, backends };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
