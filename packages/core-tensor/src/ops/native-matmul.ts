import onnxProto from 'onnx-proto';
import { computeThreads, type OrtSession, ortBinding, SINGLE_THREAD_WORK } from './ort-binding';

/**
 * Matrix products on onnxruntime's MLAS sgemm, called synchronously, so that tfjs kernels (which are synchronous)
 * can use them inside autodiff.
 *
 * Why: tfjs-wasm reaches ~12 GFLOP/s on one core for plain 2-D products and ~1.3 GFLOP/s for batched ones (its
 * scalar slow path), while MLAS reaches 20–60 GFLOP/s per core on both and uses every core. We build one-node ONNX
 * graphs (Gemm / com.microsoft FusedMatMul) with free dimensions and run them through onnxruntime-node's synchronous
 * binding (`ort-binding.ts`); if it cannot load, `nativeMatMul()` reports unavailable and callers stay on tfjs
 * kernels.
 *
 * CIR_NATIVE_MATMUL=0 turns it off, =1 sends every product to it (by default small ones stay on tfjs, see
 * `matmul.ts`); CIR_NATIVE_MATMUL_THREADS sets the thread count (default: all cores).
 */
export interface NativeMatMul {
  threads: number;
  /**
   * `op(a) · op(b)` where op transposes when asked: a `[m, k]` (`[k, m]` when transposeA), b `[k, n]` (`[n, k]` when
   * transposeB). Returns `[m, n]` row-major.
   */
  gemm(
    a: Float32Array,
    b: Float32Array,
    m: number,
    k: number,
    n: number,
    transposeA: boolean,
    transposeB: boolean,
    /** Where to write the `[m, n]` result (e.g. a view of a tfjs-wasm tensor); a new array when absent. */
    out?: Float32Array,
  ): Float32Array;
  /** Batched: a `[batch, m, k]` (`[batch, k, m]` when transposeA), b likewise; returns `[batch, m, n]`. */
  batched(
    a: Float32Array,
    b: Float32Array,
    batch: number,
    m: number,
    k: number,
    n: number,
    transposeA: boolean,
    transposeB: boolean,
    /** Where to write the `[batch, m, n]` result; a new array when absent. */
    out?: Float32Array,
  ): Float32Array;
}

let loaded: { native: NativeMatMul } | { problem: string } | undefined;

function productModel(rank: 2 | 3, transposeA: boolean, transposeB: boolean): Uint8Array {
  const { onnx } = onnxProto;
  const INT = onnx.AttributeProto.AttributeType.INT;
  const tensor = (name: string): onnxProto.onnx.IValueInfoProto => ({
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: Array.from({ length: rank }, (_value, axis) => ({ dimParam: `${name}${axis}` })) },
      },
    },
  });
  const flags = [
    { name: 'transA', type: INT, i: transposeA ? 1 : 0 },
    { name: 'transB', type: INT, i: transposeB ? 1 : 0 },
  ];
  const node =
    rank === 2
      ? { opType: 'Gemm', input: ['a', 'b'], output: ['y'], attribute: flags }
      : {
          opType: 'FusedMatMul',
          domain: 'com.microsoft',
          input: ['a', 'b'],
          output: ['y'],
          attribute: flags,
        };
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [
      { domain: '', version: 13 },
      { domain: 'com.microsoft', version: 1 },
    ],
    producerName: '@cir/core-tensor',
    graph: { name: 'product', node: [node], input: [tensor('a'), tensor('b')], output: [tensor('y')] },
  }).finish();
}

function load(): NativeMatMul {
  const ort = ortBinding();
  const { threads } = ort;
  const sessions = new Map<string, OrtSession>();
  const session = (
    rank: 2 | 3,
    transposeA: boolean,
    transposeB: boolean,
    sessionThreads: number,
  ): OrtSession => {
    const key = `${rank}${+transposeA}${+transposeB}/${sessionThreads}`;
    let created = sessions.get(key);
    if (!created) {
      created = ort.createSession(productModel(rank, transposeA, transposeB), sessionThreads);
      sessions.set(key, created);
    }
    return created;
  };
  const run = (
    rank: 2 | 3,
    a: Float32Array,
    aShape: number[],
    b: Float32Array,
    bShape: number[],
    transposeA: boolean,
    transposeB: boolean,
    products: number,
    outShape: number[],
    out: Float32Array | undefined,
  ): Float32Array =>
    // Small products run on the calling thread: waking the pool costs more than it saves (and a sleeping worker
    // on a busy core can take milliseconds to answer).
    session(rank, transposeA, transposeB, products < SINGLE_THREAD_WORK ? 1 : computeThreads()).run(
      { a: new ort.Tensor('float32', a, aShape), b: new ort.Tensor('float32', b, bShape) },
      // A preallocated output is written in place by the binding.
      { y: out ? new ort.Tensor('float32', out, outShape) : null },
      {},
    ).y!.data as Float32Array;
  return {
    threads,
    gemm: (a, b, m, k, n, transposeA, transposeB, out) =>
      run(
        2,
        a,
        transposeA ? [k, m] : [m, k],
        b,
        transposeB ? [n, k] : [k, n],
        transposeA,
        transposeB,
        m * k * n,
        [m, n],
        out,
      ),
    batched: (a, b, batch, m, k, n, transposeA, transposeB, out) =>
      run(
        3,
        a,
        transposeA ? [batch, k, m] : [batch, m, k],
        b,
        transposeB ? [batch, n, k] : [batch, k, n],
        transposeA,
        transposeB,
        batch * m * k * n,
        [batch, m, n],
        out,
      ),
  };
}

/** The native products, or undefined when turned off or when onnxruntime-node's binding cannot load here. */
export function nativeMatMul(): NativeMatMul | undefined {
  if (process.env.CIR_NATIVE_MATMUL === '0') return undefined;
  if (!loaded) {
    try {
      const native = load();
      // A 1×1 product proves the binding and both graphs work before any training relies on them.
      native.gemm(Float32Array.of(2), Float32Array.of(3), 1, 1, 1, false, false);
      native.batched(Float32Array.of(2), Float32Array.of(3), 1, 1, 1, 1, false, false);
      loaded = { native };
    } catch (error) {
      loaded = { problem: error instanceof Error ? error.message.split('\n')[0]! : String(error) };
    }
  }
  return 'native' in loaded ? loaded.native : undefined;
}

/** Why the native products are not in use, or undefined when they are. */
export function nativeMatMulProblem(): string | undefined {
  if (process.env.CIR_NATIVE_MATMUL === '0') return 'turned off by CIR_NATIVE_MATMUL=0';
  nativeMatMul();
  return loaded && 'problem' in loaded ? loaded.problem : undefined;
}
