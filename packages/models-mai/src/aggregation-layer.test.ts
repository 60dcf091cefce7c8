import { initBackend, maxAbsDifference, Rng, tf } from '@cir/core-tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { AggregationStack, type OutputRows } from './aggregation-layer';

beforeAll(async () => {
  await initBackend();
});

const random = (rng: Rng, shape: [number, number, number]) =>
  tf.tensor3d(rng.normalArray(shape[0] * shape[1] * shape[2]), shape);

describe('AggregationStack output rows', () => {
  const rng = new Rng(5);
  const stack = new AggregationStack(2, {
    dim: 8,
    heads: 2,
    feedForwardMultiplier: 2,
    crossAttention: true,
    seed: 3,
  });
  const input = {
    queries: random(rng, [2, 3, 8]),
    text: random(rng, [2, 4, 8]),
    textMask: tf.tensor2d([
      [1, 1, 1, 0],
      [1, 1, 0, 0],
    ]),
    image: random(rng, [2, 5, 8]),
  };
  const joined = (output: { queries: tf.Tensor3D; text?: tf.Tensor3D }) =>
    output.text ? tf.concat([output.queries, output.text], 1) : output.queries;

  // Queries only, queries + the first text state (BSA's readout), the first text state alone (MSA's), a middle range.
  for (const rows of [
    [0, 3],
    [0, 4],
    [3, 4],
    [1, 6],
  ] as OutputRows[]) {
    it(`rows [${rows}] give the full pass's states of those rows, and the same gradients`, () => {
      const [start, end] = rows;
      const full = tf.slice(joined(stack.apply(input)), [0, start, 0], [-1, end - start, -1]);
      const partial = stack.apply(input, rows);
      expect(partial.queries.shape[1]).toBe(Math.max(Math.min(end, 3) - start, 0));
      expect(maxAbsDifference(joined(partial).dataSync(), full.dataSync())).toBeLessThan(1e-5);

      const weights = random(new Rng(9), [2, end - start, 8]);
      const parameters = [...stack.trainableParameters().values()];
      const gradients = (output: () => tf.Tensor) =>
        tf.variableGrads(() => tf.sum(tf.mul(output(), weights)) as tf.Scalar, parameters).grads;
      const expected = gradients(() =>
        tf.slice(joined(stack.apply(input)), [0, start, 0], [-1, end - start, -1]),
      );
      const actual = gradients(() => joined(stack.apply(input, rows)));
      for (const parameter of parameters) {
        const reference = expected[parameter.name];
        const ours = actual[parameter.name];
        if (!reference) continue;
        // A parameter the kept rows do not reach (the last cross-attention, for text rows) has gradient 0.
        const oursData = ours ? ours.dataSync() : new Float32Array(reference.size);
        expect(maxAbsDifference(oursData, reference.dataSync()), parameter.name).toBeLessThan(1e-5);
      }
    });
  }
});
