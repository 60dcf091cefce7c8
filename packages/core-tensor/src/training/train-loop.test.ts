import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../backend';
import { Linear } from '../nn/linear';
import { AdamW } from '../optim/adamw';
import { cosineWithWarmup } from '../optim/schedules';
import { Rng } from '../rng';
import { runTrainingLoop } from './train-loop';

beforeAll(async () => {
  await initBackend();
});

/** A linear regression problem whose batches depend only on the step number. */
function problem() {
  const model = new Linear(4, 1, { seed: 1 });
  const trueWeights = tf.tensor2d([[1], [-2], [0.5], [3]]);
  const batchLoss = (step: number) => {
    const x = tf.tensor2d(new Rng(step).normalArray(16 * 4), [16, 4]);
    return tf.losses.meanSquaredError(tf.matMul(x, trueWeights), model.apply(x)) as tf.Scalar;
  };
  const optimizer = new AdamW({ learningRate: 0.3, weightDecay: 0 });
  const schedule = cosineWithWarmup({ peakLearningRate: 0.3, warmupSteps: 5, totalSteps: 60 });
  return { model, batchLoss, optimizer, schedule };
}

describe('runTrainingLoop', () => {
  it('lowers the loss and reports progress each step', async () => {
    const { model, batchLoss, optimizer, schedule } = problem();
    const steps: number[] = [];
    const result = await runTrainingLoop({
      model,
      optimizer,
      schedule,
      batchLoss,
      totalSteps: 60,
      batchSize: 16,
      clipNorm: 10,
      onProgress: (progress) => steps.push(progress.step),
    });
    expect(steps).toEqual(Array.from({ length: 60 }, (_value, index) => index + 1));
    expect(result.finalLoss).toBeLessThan(result.losses[0]! / 20);
  });

  it('resumes from the newest checkpoint and ends bit-identical to an uninterrupted run', async () => {
    const uninterrupted = problem();
    await runTrainingLoop({ ...uninterrupted, totalSteps: 30, batchSize: 16 });

    const runDirectory = mkdtempSync(join(tmpdir(), 'cir-train-'));
    const checkpoints = { runDirectory, every: 10, modelId: 'linear-test', config: { in: 4 } };
    const first = problem();
    // Stop after step 20 as if the process were killed (the checkpoint at 20 exists).
    await runTrainingLoop({ ...first, totalSteps: 20, batchSize: 16, checkpoints });
    const second = problem();
    const result = await runTrainingLoop({ ...second, totalSteps: 30, batchSize: 16, checkpoints });
    expect(result.startStep).toBe(20);
    expect(Array.from(second.model.weight.dataSync())).toEqual(
      Array.from(uninterrupted.model.weight.dataSync()),
    );
    expect(Array.from(second.model.bias!.dataSync())).toEqual(
      Array.from(uninterrupted.model.bias!.dataSync()),
    );
  });

  it('stops with a clear error when the loss is not finite', async () => {
    const { model, optimizer, schedule } = problem();
    await expect(
      runTrainingLoop({
        model,
        optimizer,
        schedule,
        totalSteps: 3,
        batchSize: 1,
        batchLoss: () => tf.mul(tf.sum(model.apply(tf.ones([1, 4]))), Number.NaN) as tf.Scalar,
      }),
    ).rejects.toThrow(/diverged at step 0/);
  });
});
