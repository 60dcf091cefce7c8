import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import type * as Ort from 'onnxruntime-node';

/**
 * onnxruntime-node's native binding, called synchronously: the products of `native-matmul.ts` and the frozen
 * transformer blocks of `inference/native-block.ts` run small ONNX graphs we build in memory through it.
 *
 * Why the binding and not `InferenceSession`: the public `run` is asynchronous (it only defers the binding's
 * synchronous `run` with setImmediate), and tfjs kernels, which call products inside autodiff, are synchronous.
 * onnxruntime-node has no `exports` map, so `dist/binding.js` is reachable; if a future version moves it, loading
 * throws and callers stay on their JavaScript paths.
 */
export interface OrtSession {
  run(
    feeds: Record<string, Ort.Tensor>,
    fetches: Record<string, Ort.Tensor | null>,
    options: object,
  ): Record<string, Ort.Tensor>;
}

interface BindingSession extends OrtSession {
  loadModel(buffer: ArrayBufferLike, offset: number, length: number, options: object): void;
}

interface Binding {
  binding: { InferenceSession: new () => BindingSession };
  initOrt(): void;
}

export interface OrtBinding {
  Tensor: typeof Ort.Tensor;
  /** Threads of a multi-threaded session: CIR_NATIVE_MATMUL_THREADS, else every core. */
  threads: number;
  /** A session of the ONNX model `bytes` on the CPU provider with `threads` intra-op threads. */
  createSession(bytes: Uint8Array, threads: number): OrtSession;
}

/** Multiply-adds below which a call runs on the calling thread alone (~0.2 ms on one core here). */
export const SINGLE_THREAD_WORK = 1 << 22;

const threadLimit = new AsyncLocalStorage<number>();

/**
 * Runs `work`, and everything it awaits, with onnxruntime calls limited to `threads` threads (the products of
 * `native-matmul.ts` and the blocks of `inference/native-block.ts`).
 *
 * Why: where requests run concurrently (a server's turns), the parallelism is across requests; a second thread per
 * call only adds the cost of waking and joining it. Measured on MAI turns in batches of 16–32 (2 cores): the same
 * wall time with one thread, 20–25 % less CPU a turn, and 13–25 % more turns/s under 32 concurrent sessions.
 */
export function withComputeThreads<T>(threads: number, work: () => T): T {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`withComputeThreads: threads must be a positive integer, got ${threads}`);
  }
  return threadLimit.run(threads, work);
}

/** Threads a call large enough for the pool may use here: the enclosing `withComputeThreads`, else every thread. */
export function computeThreads(): number {
  const all = ortBinding().threads;
  return Math.min(all, threadLimit.getStore() ?? all);
}

const require = createRequire(import.meta.url);
let binding: OrtBinding | undefined;

/** The binding (loaded once). @throws when onnxruntime-node or its binding cannot load here */
export function ortBinding(): OrtBinding {
  if (binding) return binding;
  const ort = require('onnxruntime-node') as typeof Ort;
  const native = require(join(dirname(require.resolve('onnxruntime-node')), 'binding.js')) as Binding;
  native.initOrt();
  const requested = Number(process.env.CIR_NATIVE_MATMUL_THREADS);
  binding = {
    Tensor: ort.Tensor,
    threads: Number.isInteger(requested) && requested > 0 ? requested : availableParallelism(),
    createSession(bytes, threads) {
      const session = new native.binding.InferenceSession();
      session.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, {
        executionProviders: [{ name: 'cpu' }],
        graphOptimizationLevel: 'all',
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        // Idle pool threads sleep instead of spinning: JavaScript runs between calls on the main thread, and
        // spinning workers would take the cores it needs (and those of other processes).
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
      return session;
    },
  };
  return binding;
}
