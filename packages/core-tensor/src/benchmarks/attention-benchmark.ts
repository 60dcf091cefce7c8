import { initBackend, tf } from '../backend';
import { TransformerBlock } from '../nn/transformer-block';
import { Rng } from '../rng';
import { median } from './matmul-benchmark';

export interface AttentionBenchmarkResult {
  name: 'attention';
  backend: string;
  batch: number;
  tokens: number;
  dim: number;
  heads: number;
  /** Median ms of forward + backward (gradients of every parameter) of one pre-norm transformer block. */
  medianMs: number;
  forwardMs: number;
}

/** One transformer block (self-attention + GELU FFN ×4), batch 32, 48 tokens, d 128, 4 heads. */
export async function benchmarkAttention(
  options: { batch?: number; tokens?: number; dim?: number; heads?: number; repeats?: number } = {},
): Promise<AttentionBenchmarkResult> {
  const { batch = 32, tokens = 48, dim = 128, heads = 4, repeats = 10 } = options;
  const info = await initBackend();
  const block = new TransformerBlock({ dim, heads, seed: 1 });
  const x = tf.tensor3d(new Rng(2).normalArray(batch * tokens * dim), [batch, tokens, dim]);
  const variables = [...block.trainableParameters().values()];
  const forward = () => tf.tidy(() => tf.mean(tf.square(block.apply(x))) as tf.Scalar);
  const step = async () => {
    const { value, grads } = tf.variableGrads(forward, variables);
    await value.data();
    value.dispose();
    tf.dispose(grads);
  };
  await step();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await step();
    times.push(performance.now() - start);
  }
  const forwardTimes: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    const value = forward();
    await value.data();
    value.dispose();
    forwardTimes.push(performance.now() - start);
  }
  block.dispose();
  x.dispose();
  return {
    name: 'attention',
    backend: info.name,
    batch,
    tokens,
    dim,
    heads,
    medianMs: median(times),
    forwardMs: median(forwardTimes),
  };
}
