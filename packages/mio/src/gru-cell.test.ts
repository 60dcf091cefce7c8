import { checkGradients, initBackend, Rng, tf } from '@cir/core-tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { GruCell } from './gru-cell';

beforeAll(async () => {
  await initBackend();
});

const sigmoid = (value: number) => 1 / (1 + Math.exp(-value));

describe('GruCell', () => {
  it('computes the GRU equations (checked with plain loops on its own weights)', () => {
    const dim = 3;
    const cell = new GruCell(dim, { seed: 1 });
    const rng = new Rng(2);
    // Non-zero biases, so that a bias in the wrong place shows.
    for (const name of ['inputProjection.bias', 'hiddenProjection.bias']) {
      cell
        .namedParameters()
        .get(name)!
        .assign(tf.tensor1d(rng.normalArray(3 * dim)));
    }
    const input = rng.normalArray(dim);
    const hidden = rng.normalArray(dim);
    const parameters = cell.exportParameters();
    // [W_z | W_r | W_c] x + b, with weights stored [in, 3·dim]
    const project = (prefix: string, x: Float32Array) =>
      Array.from({ length: 3 * dim }, (_, out) => {
        let sum = parameters[`${prefix}.bias`].data[out];
        for (let i = 0; i < dim; i++) sum += x[i] * parameters[`${prefix}.weight`].data[i * 3 * dim + out];
        return sum;
      });
    const fromInput = project('inputProjection', input);
    const fromHidden = project('hiddenProjection', hidden);
    const expected = Array.from({ length: dim }, (_, d) => {
      const update = sigmoid(fromInput[d] + fromHidden[d]);
      const reset = sigmoid(fromInput[dim + d] + fromHidden[dim + d]);
      const candidate = Math.tanh(fromInput[2 * dim + d] + reset * fromHidden[2 * dim + d]);
      return (1 - update) * candidate + update * hidden[d];
    });
    const next = cell.apply(tf.tensor2d(input, [1, dim]), tf.tensor2d(hidden, [1, dim]));
    expect(Array.from(next.dataSync())).toEqual(expected.map((value) => expect.closeTo(value, 5)));
  });

  it('counts its parameters', () => {
    expect(new GruCell(6).parameterCount()).toBe(GruCell.parameterCount(6));
    expect(GruCell.parameterCount(6)).toBe(2 * (6 * 18 + 18));
  });

  it('gradient matches finite differences for parameters and both inputs', () => {
    const cell = new GruCell(4, { seed: 3 });
    const rng = new Rng(4);
    const input = tf.variable(tf.tensor3d(rng.normalArray(2 * 3 * 4), [2, 3, 4]));
    const hidden = tf.variable(tf.tensor3d(rng.normalArray(2 * 3 * 4), [2, 3, 4]));
    const variables = new Map([...cell.namedParameters(), ['input', input], ['hidden', hidden]]);
    const result = checkGradients(() => cell.apply(input, hidden), variables);
    expect(result.maxRelativeError).toBeLessThan(1e-3);
  });
});
