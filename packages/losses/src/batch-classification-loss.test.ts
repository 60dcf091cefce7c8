import { checkGradients, initBackend, Rng, tf } from '@cir/core-tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchClassificationLoss } from './batch-classification-loss';

beforeAll(async () => {
  await initBackend();
});

const randomVariable = (rng: Rng, rows: number, columns: number) =>
  tf.variable(tf.tensor2d(rng.normalArray(rows * columns), [rows, columns]));

describe('batchClassificationLoss', () => {
  // query rows normalise to [0.6, 0.8] and [0, 1]; target rows to [1, 0] and [0, 1]: cosines [[0.6, 0.8], [0, 1]].
  const query = tf.tensor2d([
    [3, 4],
    [0, 2],
  ]);
  const target = tf.tensor2d([
    [1, 0],
    [0, 5],
  ]);
  // Scale 2 → logits [[1.2, 1.6], [0, 2]]; −log softmax of the diagonal: log(1 + e^0.4) and log(1 + e^−2).
  const expected = (Math.log(1 + Math.exp(0.4)) + Math.log(1 + Math.exp(-2))) / 2;

  it('matches a hand-computed 2 × 2 example (eq. 8), with a logit scale or a temperature', () => {
    expect(batchClassificationLoss(query, target, { logitScale: 2 }).dataSync()[0]).toBeCloseTo(expected, 5);
    expect(batchClassificationLoss(query, target, { temperature: 0.5 }).dataSync()[0]).toBeCloseTo(
      expected,
      5,
    );
    expect(batchClassificationLoss(query, target, { temperature: tf.scalar(0.5) }).dataSync()[0]).toBeCloseTo(
      expected,
      5,
    );
  });

  it('defaults to a logit scale of 100 and reads rows as queries', () => {
    const defaultScale = (Math.log(1 + Math.exp(20)) + Math.log(1 + Math.exp(-100))) / 2;
    expect(batchClassificationLoss(query, target).dataSync()[0]).toBeCloseTo(defaultScale, 4);
    // Swapped roles: target rows [1, 0] and [0, 1] pick among query columns → cosines transposed, another value.
    const swapped = (Math.log(1 + Math.exp(-0.6)) + Math.log(1 + Math.exp(-0.2))) / 2;
    expect(batchClassificationLoss(target, query, { logitScale: 1 }).dataSync()[0]).toBeCloseTo(swapped, 5);
  });

  it('gradient matches finite differences for both inputs, a trainable temperature and the default scale', () => {
    const rng = new Rng(1);
    const queries = randomVariable(rng, 5, 7);
    const targets = randomVariable(rng, 5, 7);
    const temperature = tf.variable(tf.scalar(0.2));
    const variables = new Map<string, tf.Variable>([
      ['query', queries],
      ['target', targets],
      ['temperature', temperature],
    ]);
    const withTemperature = checkGradients(
      () => batchClassificationLoss(queries, targets, { temperature }),
      variables,
    );
    expect(withTemperature.maxRelativeError).toBeLessThan(1e-3);
    const withDefaultScale = checkGradients(
      () => batchClassificationLoss(queries, targets),
      new Map([...variables].slice(0, 2)),
    );
    expect(withDefaultScale.maxRelativeError).toBeLessThan(1e-3);
  });

  it('rejects mismatched shapes and two scales at once', () => {
    expect(() => batchClassificationLoss(query, tf.zeros([3, 2]) as tf.Tensor2D)).toThrow(/same non-empty/);
    expect(() => batchClassificationLoss(query, target, { logitScale: 1, temperature: 1 })).toThrow(
      /not both/,
    );
  });
});
