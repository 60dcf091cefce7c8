import { tf } from '../backend';
import { hostKernel, recordingGradients } from './host-kernel';
import { nativeMatMul } from './native-matmul';

/** Backends whose own matMul is slower than onnxruntime's MLAS (tfjs-node already calls native BLAS). */
const NATIVE_BACKENDS = new Set(['wasm', 'cpu']);

/**
 * A native call costs ~0.1 ms of fixed overhead (the binding, the custom gradient; on wasm the operands are read and
 * the product written in place in the wasm heap, elsewhere copied); below these sizes (multiply-adds) tfjs's own
 * kernels are faster: XNNPACK for plain 2-D products, its slow loop (~1.3 GFLOP/s) for batched ones.
 */
const NATIVE_MIN_MACS = { plain: 1 << 20, batched: 1 << 16 };

function useNative(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean) {
  if (!NATIVE_BACKENDS.has(tf.getBackend())) return undefined;
  const batch = a.rank === 3 ? a.shape[0]! : 1;
  const [aRows, aColumns] = a.shape.slice(-2) as [number, number];
  const columns = transposeB ? b.shape.at(-2)! : b.shape.at(-1)!;
  const macs = batch * aRows * aColumns * columns;
  // CIR_NATIVE_MATMUL=1: every product on the native path (tests use it to compare both paths at small sizes).
  if (process.env.CIR_NATIVE_MATMUL === '1') return nativeMatMul();
  // Plain products without transposes stay on XNNPACK when small; transposed ones (the backward pass) are slow there.
  const minimum =
    a.rank === 3 ? NATIVE_MIN_MACS.batched : transposeA || transposeB ? 0 : NATIVE_MIN_MACS.plain;
  return macs >= minimum ? nativeMatMul() : undefined;
}

/**
 * `op(a) · op(b)` on the native products, for rank 2 (`[m, k]·[k, n]`) or rank 3 (batched), with the gradient also
 * native and transposes passed as flags (no transposed copies): for C = op(A)·op(B) and upstream dC,
 * d op(A) = dC·op(B)ᵀ and d op(B) = op(A)ᵀ·dC, transposed back when the input was transposed.
 */
function nativeProduct(
  a: tf.Tensor,
  b: tf.Tensor,
  transposeA: boolean,
  transposeB: boolean,
  native: NonNullable<ReturnType<typeof nativeMatMul>>,
): tf.Tensor {
  const batched = a.rank === 3;
  const batch = batched ? a.shape[0]! : 1;
  const [aRows, aColumns] = a.shape.slice(-2) as [number, number];
  const [bRows, bColumns] = b.shape.slice(-2) as [number, number];
  const m = transposeA ? aColumns : aRows;
  const k = transposeA ? aRows : aColumns;
  const n = transposeB ? bRows : bColumns;
  const kB = transposeB ? bColumns : bRows;
  if (k !== kB || (batched && b.shape[0] !== batch)) {
    throw new Error(
      `matMul: shapes [${a.shape}]${transposeA ? 'ᵀ' : ''} and [${b.shape}]${transposeB ? 'ᵀ' : ''} do not match`,
    );
  }
  const shape = (rows: number, columns: number) => (batched ? [batch, rows, columns] : [rows, columns]);
  const product = (
    left: tf.Tensor,
    right: tf.Tensor,
    rows: number,
    inner: number,
    columns: number,
    transposeLeft: boolean,
    transposeRight: boolean,
  ): tf.Tensor =>
    // On wasm the operands are read where tfjs-wasm keeps them and the product is written into the new tensor's
    // memory: no copies (see host-kernel.ts).
    hostKernel([left, right], shape(rows, columns), (out, leftData, rightData) => {
      const [l, r] = [leftData, rightData] as Float32Array[];
      if (batched) native.batched(l!, r!, batch, rows, inner, columns, transposeLeft, transposeRight, out);
      else native.gemm(l!, r!, rows, inner, columns, transposeLeft, transposeRight, out);
    });
  if (!recordingGradients()) return product(a, b, m, k, n, transposeA, transposeB);
  const operation = tf.customGrad((left, right, save) => {
    (save as tf.GradSaveFunc)([left as tf.Tensor, right as tf.Tensor]);
    return {
      value: product(left as tf.Tensor, right as tf.Tensor, m, k, n, transposeA, transposeB),
      gradFunc: (dy, saved) => {
        const [leftSaved, rightSaved] = saved as [tf.Tensor, tf.Tensor];
        const upstream = dy as tf.Tensor;
        const dLeft = transposeA
          ? product(rightSaved, upstream, k, n, m, transposeB, true)
          : product(upstream, rightSaved, m, n, k, false, !transposeB);
        const dRight = transposeB
          ? product(upstream, leftSaved, n, m, k, true, transposeA)
          : product(leftSaved, upstream, k, m, n, !transposeA, false);
        return [dLeft, dRight];
      },
    };
  });
  return operation(a, b) as tf.Tensor;
}

/**
 * 2-D matrix product with a hand-written gradient.
 *
 * On the wasm and cpu backends it runs on onnxruntime's MLAS when available (see `native-matmul.ts`, 2–5× faster
 * than XNNPACK here, and multi-threaded). Otherwise: tfjs-wasm sends `matMul` to XNNPACK's fast path only when neither operand is transposed and the batch is 1;
 * its autodiff gradient uses the transpose flags (dA = dY·Bᵀ, dB = Aᵀ·dY) and falls into a scalar loop that is
 * ~15× slower. Materialising the transposes keeps forward and backward on the fast path.
 *
 * @param a `[m, k]` (or `[k, m]` when `transposeA`)
 * @param b `[k, n]` (or `[n, k]` when `transposeB`)
 * @returns `[m, n]`
 */
export function matMul2d(
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  transposeA = false,
  transposeB = false,
): tf.Tensor2D {
  const native = useNative(a, b, transposeA, transposeB);
  if (native) return nativeProduct(a, b, transposeA, transposeB, native) as tf.Tensor2D;
  // Inference (no tape): tfjs's kernel directly, without the custom gradient's bookkeeping.
  if (!recordingGradients() && !transposeA && !transposeB) return tf.matMul(a, b);
  const product = tf.customGrad((left, right, save) => {
    const leftTensor = left as tf.Tensor2D;
    const rightTensor = right as tf.Tensor2D;
    const saveTensors = save as tf.GradSaveFunc;
    const leftPlain = transposeA ? tf.transpose(leftTensor) : leftTensor;
    const rightPlain = transposeB ? tf.transpose(rightTensor) : rightTensor;
    saveTensors([leftPlain, rightPlain]);
    const value = tf.matMul(leftPlain, rightPlain);
    return {
      value,
      gradFunc: (dy, saved) => {
        const [leftSaved, rightSaved] = saved as [tf.Tensor2D, tf.Tensor2D];
        const dyTensor = dy as tf.Tensor2D;
        // d(left·right): dLeft = dy·rightᵀ, dRight = leftᵀ·dy, then undo the input transposes.
        const dLeftPlain = tf.matMul(dyTensor, tf.transpose(rightSaved));
        const dRightPlain = tf.matMul(tf.transpose(leftSaved), dyTensor);
        return [
          transposeA ? tf.transpose(dLeftPlain) : dLeftPlain,
          transposeB ? tf.transpose(dRightPlain) : dRightPlain,
        ];
      },
    };
  });
  return product(a, b) as tf.Tensor2D;
}

/**
 * `x · w` for `x` of any rank: the leading axes are flattened so the product runs as one 2-D matMul.
 *
 * @param x `[..., inFeatures]`
 * @param weight `[inFeatures, outFeatures]`
 * @returns `[..., outFeatures]`
 */
export function matMulLastAxis(x: tf.Tensor, weight: tf.Tensor2D): tf.Tensor {
  const inFeatures = x.shape[x.shape.length - 1]!;
  const outFeatures = weight.shape[1];
  const flat = x.rank === 2 ? (x as tf.Tensor2D) : (tf.reshape(x, [-1, inFeatures]) as tf.Tensor2D);
  const product = matMul2d(flat, weight);
  return x.rank === 2 ? product : tf.reshape(product, [...x.shape.slice(0, -1), outFeatures]);
}

/**
 * Batched matrix product `[batch, m, k] · [batch, k, n]` with a gradient that transposes explicitly instead of
 * using the transpose flags (which are slower on wasm and cpu), so forward and backward run the same kernel.
 *
 * @param a `[batch, m, k]` (or `[batch, k, m]` when `transposeA`)
 * @param b `[batch, k, n]` (or `[batch, n, k]` when `transposeB`)
 * @returns `[batch, m, n]`
 */
export function batchMatMul(
  a: tf.Tensor3D,
  b: tf.Tensor3D,
  transposeA = false,
  transposeB = false,
): tf.Tensor3D {
  const native = useNative(a, b, transposeA, transposeB);
  if (native) return nativeProduct(a, b, transposeA, transposeB, native) as tf.Tensor3D;
  if (!recordingGradients()) return tf.matMul(a, b, transposeA, transposeB);
  const swapLast = (x: tf.Tensor3D): tf.Tensor3D => tf.transpose(x, [0, 2, 1]);
  const product = tf.customGrad((left, right, save) => {
    const leftPlain = transposeA ? swapLast(left as tf.Tensor3D) : (left as tf.Tensor3D);
    const rightPlain = transposeB ? swapLast(right as tf.Tensor3D) : (right as tf.Tensor3D);
    (save as tf.GradSaveFunc)([leftPlain, rightPlain]);
    return {
      value: tf.matMul(leftPlain, rightPlain),
      gradFunc: (dy, saved) => {
        const [leftSaved, rightSaved] = saved as [tf.Tensor3D, tf.Tensor3D];
        const dyTensor = dy as tf.Tensor3D;
        const dLeftPlain = tf.matMul(dyTensor, swapLast(rightSaved)) as tf.Tensor3D;
        const dRightPlain = tf.matMul(swapLast(leftSaved), dyTensor) as tf.Tensor3D;
        return [
          transposeA ? swapLast(dLeftPlain) : dLeftPlain,
          transposeB ? swapLast(dRightPlain) : dRightPlain,
        ];
      },
    };
  });
  return product(a, b) as tf.Tensor3D;
}
