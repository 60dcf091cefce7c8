import { tf } from '../backend';
import { hostKernel, hostKernelsPreferred } from './host-kernel';

/**
 * Slices and concatenations along axis 1 (the token axis of `[batch, tokens, ...]`), forward and backward as row
 * copies on the host on wasm and cpu: tfjs-wasm's Slice, Concat, SplitV (concat's gradient) and PadV2 (slice's)
 * copy an element at a time (~1–2 ms each for a `[128, 32, 128]` activation, ~0.1 ms here). Other backends and
 * non-float32 tensors use tfjs's ops.
 */

/** `[outer, tokens, inner]` view of a tensor of rank ≥ 2. */
function view(x: tf.Tensor): { outer: number; tokens: number; inner: number } {
  const [outer, tokens, ...rest] = x.shape;
  return { outer: outer!, tokens: tokens!, inner: rest.reduce((product, size) => product * size, 1) };
}

function useHost(tensors: readonly tf.Tensor[]): boolean {
  return hostKernelsPreferred() && tensors.every((tensor) => tensor.dtype === 'float32' && tensor.rank >= 2);
}

/**
 * Copies `[outer, count, inner]` blocks: from `source` (token offset `from`, `sourceTokens` a row) to `target`
 * (token offset `to`, `targetTokens` a row). The row copy behind token slices, concatenations and "the first
 * token of each row" on plain arrays.
 */
export function copyTokens<T extends Float32Array | Int32Array | Uint8Array>(
  source: T,
  sourceTokens: number,
  from: number,
  target: T,
  targetTokens: number,
  to: number,
  outer: number,
  count: number,
  inner: number,
): void {
  for (let row = 0; row < outer; row++) {
    const start = (row * sourceTokens + from) * inner;
    target.set(source.subarray(start, start + count * inner), (row * targetTokens + to) * inner);
  }
}

/** `x[:, start:end]` @param x `[batch, tokens, ...]` @returns `[batch, end − start, ...]` */
export function sliceTokens(x: tf.Tensor, start: number, end: number): tf.Tensor {
  const { outer, tokens, inner } = view(x);
  if (start < 0 || end > tokens || start > end) {
    throw new RangeError(`sliceTokens: [${start}, ${end}) is outside the ${tokens} tokens of [${x.shape}]`);
  }
  if (start === 0 && end === tokens) return x;
  const count = end - start;
  const shape = [outer, count, ...x.shape.slice(2)];
  if (!useHost([x])) return tf.slice(x, [0, start], [-1, count]);
  const slice = tf.customGrad((input) => ({
    value: hostKernel([input as tf.Tensor], shape, (out, data) =>
      copyTokens(data as Float32Array, tokens, start, out, count, 0, outer, count, inner),
    ),
    gradFunc: (dy) =>
      hostKernel([dy as tf.Tensor], x.shape, (out, upstream) => {
        out.fill(0);
        copyTokens(upstream as Float32Array, count, 0, out, tokens, start, outer, count, inner);
      }),
  }));
  return slice(x) as tf.Tensor;
}

/** Concatenation along the tokens. @param parts `[batch, tokens_i, ...]` @returns `[batch, Σ tokens_i, ...]` */
export function concatTokens(parts: readonly tf.Tensor[]): tf.Tensor {
  if (parts.length === 1) return parts[0]!;
  if (!useHost(parts)) return tf.concat([...parts], 1);
  const views = parts.map(view);
  const { outer, inner } = views[0]!;
  if (views.some((part) => part.outer !== outer || part.inner !== inner)) {
    throw new Error(`concatTokens: shapes ${parts.map((part) => `[${part.shape}]`).join(', ')} do not match`);
  }
  const total = views.reduce((sum, part) => sum + part.tokens, 0);
  const offsets = views.map((_part, index) =>
    views.slice(0, index).reduce((sum, part) => sum + part.tokens, 0),
  );
  const shape = [outer, total, ...parts[0]!.shape.slice(2)];
  const concat = tf.customGrad((...inputs) => {
    const tensors = inputs.slice(0, parts.length) as tf.Tensor[];
    return {
      value: hostKernel(tensors, shape, (out, ...data) => {
        views.forEach((part, index) => {
          copyTokens(
            data[index] as Float32Array,
            part.tokens,
            0,
            out,
            total,
            offsets[index]!,
            outer,
            part.tokens,
            inner,
          );
        });
      }),
      gradFunc: (dy) =>
        views.map((part, index) =>
          hostKernel([dy as tf.Tensor], parts[index]!.shape, (out, upstream) =>
            copyTokens(
              upstream as Float32Array,
              total,
              offsets[index]!,
              out,
              part.tokens,
              0,
              outer,
              part.tokens,
              inner,
            ),
          ),
        ),
    };
  });
  return concat(...parts) as tf.Tensor;
}
