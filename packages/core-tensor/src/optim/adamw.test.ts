import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../backend';
import { AdamW } from './adamw';

beforeAll(async () => {
  await initBackend();
});

describe('AdamW', () => {
  it('matches two hand-computed steps, with decoupled decay on weights only', () => {
    const weight = tf.variable(tf.tensor2d([[1]]));
    const bias = tf.variable(tf.tensor1d([1]));
    const variables = new Map<string, tf.Variable>([
      ['weight', weight],
      ['bias', bias],
    ]);
    const optimizer = new AdamW({ learningRate: 0.1, weightDecay: 0.01 });
    const gradients = () => ({ weight: tf.tensor2d([[0.5]]), bias: tf.tensor1d([0.5]) });
    optimizer.applyGradients(variables, gradients());
    // m̂ = 0.5, v̂ = 0.25 → Adam step 0.1·1; decay 0.1·0.01·1 on the weight only.
    expect(weight.dataSync()[0]).toBeCloseTo(0.899, 6);
    expect(bias.dataSync()[0]).toBeCloseTo(0.9, 6);
    optimizer.applyGradients(variables, gradients());
    expect(weight.dataSync()[0]).toBeCloseTo(0.899 - 0.1 - 0.1 * 0.01 * 0.899, 6);
    expect(bias.dataSync()[0]).toBeCloseTo(0.8, 6);
  });

  it('minimises a quadratic', () => {
    const x = tf.variable(tf.tensor1d([3, -2]));
    const optimizer = new AdamW({ learningRate: 0.1, weightDecay: 0 });
    for (let step = 0; step < 300; step++) {
      const { grads } = tf.variableGrads(() => tf.sum(tf.square(tf.sub(x, [1, 1]))) as tf.Scalar, [x]);
      optimizer.applyGradients(new Map([['x', x]]), { x: grads[x.name]! });
    }
    const [a, b] = x.dataSync();
    expect(a).toBeCloseTo(1, 2);
    expect(b).toBeCloseTo(1, 2);
  });

  it('resumes bit-exactly from exported state', () => {
    const run = (steps: number, resumeAfter?: number) => {
      const x = tf.variable(
        tf.tensor2d([
          [0.3, -0.7],
          [1.1, 0.2],
        ]),
      );
      let optimizer = new AdamW({ learningRate: 0.05 });
      for (let step = 0; step < steps; step++) {
        if (step === resumeAfter) {
          const state = optimizer.exportState();
          const saved = optimizer.step;
          optimizer = new AdamW({ learningRate: 0.05 });
          optimizer.importState(state, saved);
        }
        const gradient = tf.mul(tf.sin(x), step + 1);
        optimizer.applyGradients(new Map([['x', x]]), { x: gradient });
      }
      return Array.from(x.dataSync());
    };
    expect(run(5, 3)).toEqual(run(5));
  });
});
