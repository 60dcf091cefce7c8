import { performance } from 'node:perf_hooks';
import { type BenchmarkDefinition, initBackend, median, Rng, tf } from '@cir/core-tensor';
import { selectTokens } from './select-tokens';
import { selectTokensTensor } from './select-tokens-tensor';

export interface MioBenchmarkOptions {
  batch?: number;
  tokens?: number;
  keep?: number;
  dim?: number;
  k?: number;
  repeats?: number;
  seed?: number;
}

export interface MioBenchmarkResult {
  name: 'mio';
  batch: number;
  tokens: number;
  keep: number;
  dim: number;
  k: number;
  /** The figure: median µs per `selectTokens` call on the whole batch (typed arrays, float64, one thread). */
  microsecondsPerBatch: number;
  /** Median µs per `selectTokensTensor` call on the same batch, including the read-back of the indices. */
  tensorMicrosecondsPerBatch: number;
  tensorBackend: string;
}

/**
 * The `mio` figure: DPC-kNN selection of `keep` of `tokens` seeded normal tokens [batch, tokens, dim], one warm-up
 * call (JIT), then the median of `repeats` timed calls, for the typed-array and the tfjs implementation.
 */
export async function benchmarkMio(options: MioBenchmarkOptions = {}): Promise<MioBenchmarkResult> {
  const { batch = 64, tokens = 64, keep = 32, dim = 768, k = 5, repeats = 9, seed = 1 } = options;
  const backend = await initBackend();
  const values = new Rng(seed).normalArray(batch * tokens * dim);
  const shape = [batch, tokens, dim] as const;
  const microseconds = (run: () => void, count: number): number => {
    run();
    const times: number[] = [];
    for (let repeat = 0; repeat < count; repeat++) {
      const start = performance.now();
      run();
      times.push((performance.now() - start) * 1000);
    }
    return median(times);
  };
  const microsecondsPerBatch = microseconds(() => selectTokens(values, shape, keep, { k }), repeats);
  const tensor = tf.tensor3d(values, [...shape]);
  // The tfjs path is an order of magnitude slower on the wasm and cpu backends: fewer repeats keep the run short.
  const tensorMicrosecondsPerBatch = microseconds(
    () => {
      const indices = selectTokensTensor(tensor, keep, { k });
      indices.dataSync();
      indices.dispose();
    },
    Math.min(3, repeats),
  );
  tensor.dispose();
  return {
    name: 'mio',
    batch,
    tokens,
    keep,
    dim,
    k,
    microsecondsPerBatch,
    tensorMicrosecondsPerBatch,
    tensorBackend: backend.tfjsName,
  };
}

export const mioBenchmarks: BenchmarkDefinition[] = [
  {
    name: 'mio',
    description: 'DPC-kNN selection of 32 of 64 tokens of dim 768, batch 64 (µs per batch).',
    options: [
      { name: 'batch', description: 'batch size', default: 64 },
      { name: 'tokens', description: 'tokens per element', default: 64 },
      { name: 'keep', description: 'tokens kept', default: 32 },
      { name: 'dim', description: 'token dimension', default: 768 },
      { name: 'k', description: 'density neighbours', default: 5 },
      { name: 'repeats', description: 'timed repetitions', default: 9 },
    ],
    run: (options) => benchmarkMio(options),
  },
];
