import { tf } from '../backend';

/**
 * Host kernels: an op written as a plain loop over Float32Arrays, run on the tensors' own memory.
 *
 * Why: a tfjs-wasm kernel costs 20–80 µs of fixed overhead here, and several of its kernels are slow on the shapes
 * a training step uses (`Erf` ~10 ns an element, `Sum` over leading axes transposes first, `SplitV`/`Slice` copy an
 * element at a time). One loop in JavaScript over the wasm heap is 3–30× faster for them and replaces a chain of
 * kernels by one. On the cpu backend the data are JavaScript arrays already; other backends (webgl, tfjs-node) keep
 * tfjs's own kernels (`hostKernelsPreferred()` is false there).
 */

/** The parts of tfjs-wasm's backend that let host code read and write tensors in place. */
interface WasmHeap {
  makeOutput(shape: number[], dtype: 'float32' | 'int32'): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array;
}

interface EngineWithInfo {
  makeTensorFromTensorInfo(info: tf.TensorInfo): tf.Tensor;
}

/** tfjs-wasm's backend when it is the active one (its tensors live in the wasm heap). */
export function wasmHeap(): WasmHeap | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const backend = tf.backend() as unknown as Partial<WasmHeap>;
  return backend.makeOutput && backend.typedArrayFromHeap ? (backend as WasmHeap) : undefined;
}

/** Whether host kernels beat tfjs's own kernels on the active backend (wasm and cpu). */
export function hostKernelsPreferred(): boolean {
  const backend = tf.getBackend();
  return backend === 'wasm' || backend === 'cpu';
}

/** True inside `tf.grad` / `variableGrads`: only then is a custom gradient (and its bookkeeping) needed. */
export function recordingGradients(): boolean {
  return (tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth > 0;
}

/** The data of a tensor as host code reads it (float32 or int32). */
export type HostData = Float32Array | Int32Array;

/**
 * A new float32 tensor of `shape` written by `compute(out, ...inputs)`, where `inputs` are the data of `tensors`.
 *
 * On wasm, `out` and the inputs are views of the wasm heap: no copies. `out` is NOT zeroed there (it is fresh heap
 * memory): `compute` must write every element. Inputs must not be written. Elsewhere the inputs come from
 * `dataSync()` and `out` becomes the tensor's data.
 */
export function hostKernel(
  tensors: readonly tf.Tensor[],
  shape: readonly number[],
  compute: (out: Float32Array, ...inputs: HostData[]) => void,
): tf.Tensor {
  return hostKernelOutputs(tensors, [shape], ([out], ...inputs) => compute(out!, ...inputs))[0]!;
}

/** hostKernel with several outputs: `compute(outs, ...inputs)` writes every element of each of `shapes`. */
export function hostKernelOutputs(
  tensors: readonly tf.Tensor[],
  shapes: readonly (readonly number[])[],
  compute: (outs: Float32Array[], ...inputs: HostData[]) => void,
): tf.Tensor[] {
  const heap = wasmHeap();
  if (heap) {
    // Views are taken after every allocation, which may grow (and so detach) the wasm memory.
    const infos = shapes.map((shape) => heap.makeOutput([...shape], 'float32'));
    const outs = infos.map((info) => heap.typedArrayFromHeap(info) as Float32Array);
    compute(outs, ...tensors.map((tensor) => heap.typedArrayFromHeap(tensor)));
    const engine = tf.engine() as unknown as EngineWithInfo;
    return infos.map((info) => engine.makeTensorFromTensorInfo(info));
  }
  const outs = shapes.map((shape) => new Float32Array(shape.reduce((product, size) => product * size, 1)));
  compute(outs, ...tensors.map((tensor) => tensor.dataSync() as HostData));
  return outs.map((out, index) => tf.tensor(out, [...shapes[index]!], 'float32'));
}

/**
 * Column sums of `x` viewed as `[rows, columns]` (the gradient of a bias broadcast over rows): `[columns]`.
 * tfjs sums over leading axes by transposing first, ~10× slower on wasm.
 */
export function sumRows(x: tf.Tensor, columns: number): tf.Tensor1D {
  return hostKernel([x], [columns], (out, data) => {
    const sums = new Float64Array(columns);
    const rows = data!.length / columns;
    let row = 0;
    // Four rows a pass: a quarter of the accumulator updates.
    for (; row + 4 <= rows; row += 4) {
      const a = row * columns;
      const b = a + columns;
      const c = b + columns;
      const d = c + columns;
      for (let column = 0; column < columns; column++) {
        sums[column]! += data![a + column]! + data![b + column]! + data![c + column]! + data![d + column]!;
      }
    }
    for (; row < rows; row++) {
      for (let column = 0; column < columns; column++) sums[column]! += data![row * columns + column]!;
    }
    out.set(sums);
  }) as tf.Tensor1D;
}
