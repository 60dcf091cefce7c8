import { tf } from '../backend';
import {
  latestCheckpoint,
  loadCheckpoint,
  pruneCheckpoints,
  saveCheckpoint,
  stepCheckpointPath,
} from '../checkpoint/checkpoint';
import type { Module } from '../nn/module';
import type { AdamW } from '../optim/adamw';
import { clipGradientsByGlobalNorm } from '../optim/clip-gradients';
import type { LearningRateSchedule } from '../optim/schedules';

/** What a training loop reports after each step; CLI progress bars and logs consume it. */
export interface TrainingProgress {
  step: number;
  totalSteps: number;
  loss: number;
  learningRate: number;
  gradientNorm: number;
  /** Training examples per second over the recent steps. */
  examplesPerSecond: number;
  elapsedSeconds: number;
  /** Set when the step just wrote a checkpoint. */
  checkpoint?: string;
}

export interface TrainLoopOptions {
  model: Module;
  optimizer: AdamW;
  schedule: LearningRateSchedule;
  totalSteps: number;
  /** Examples per step, for the throughput figure. */
  batchSize: number;
  /**
   * The loss of step `step` (0-based). It must depend only on `step` and fixed data (e.g. a seeded permutation per
   * epoch), so that a resumed run continues exactly where the killed one stopped.
   */
  batchLoss: (step: number) => tf.Scalar;
  /** Runs before each step, e.g. to load or build that step's batch asynchronously. */
  beforeStep?: (step: number) => Promise<void>;
  /** Global gradient-norm clip; none when absent. */
  clipNorm?: number;
  /** Checkpoints `runDirectory/step-000123/` every `every` steps and at the end, keeping the last `keep`. */
  checkpoints?: {
    runDirectory: string;
    every: number;
    keep?: number;
    modelId: string;
    config: unknown;
    extra?: () => unknown;
  };
  /** Continue from the newest complete checkpoint in `checkpoints.runDirectory` (default true). */
  resume?: boolean;
  onProgress?: (progress: TrainingProgress) => void;
}

export interface TrainLoopResult {
  /** Step the run started from (0, or the resumed checkpoint's step). */
  startStep: number;
  finalStep: number;
  /** Loss of the last step that ran (NaN when none ran). */
  finalLoss: number;
  losses: number[];
}

/**
 * The training loop every method shares: resume from the newest complete checkpoint, then per step set the
 * learning rate, compute gradients of `batchLoss(step)`, clip them, apply AdamW, report progress, and checkpoint
 * atomically (parameters + optimizer moments + step), so a `kill -9` loses at most `every` steps.
 */
export async function runTrainingLoop(options: TrainLoopOptions): Promise<TrainLoopResult> {
  const { model, optimizer, schedule, totalSteps, checkpoints } = options;
  let step = 0;
  if (checkpoints && (options.resume ?? true)) {
    const latest = await latestCheckpoint(checkpoints.runDirectory);
    if (latest) {
      const saved = await loadCheckpoint(latest, { expectedModelId: checkpoints.modelId });
      model.importParameters(saved.parameters);
      optimizer.importState(saved.optimizerState ?? {}, saved.step);
      step = saved.step;
    }
  }
  const startStep = step;
  const variables = model.trainableParameters();
  const variableList = [...variables.values()];
  const losses: number[] = [];
  const started = performance.now();
  let windowStart = started;
  let windowSteps = 0;
  while (step < totalSteps) {
    await options.beforeStep?.(step);
    optimizer.learningRate = schedule(step);
    const { value, grads } = tf.variableGrads(() => options.batchLoss(step), variableList);
    const loss = (await value.data())[0]!;
    value.dispose();
    if (!Number.isFinite(loss)) {
      tf.dispose(grads);
      throw new Error(
        `training diverged at step ${step}: loss is ${loss}. Lower the learning rate or clip gradients.`,
      );
    }
    const named: Record<string, tf.Tensor> = {};
    for (const [name, variable] of variables) {
      const gradient = grads[variable.name];
      if (gradient) named[name] = gradient;
    }
    const clipped =
      options.clipNorm === undefined
        ? { gradients: named, totalNorm: Number.NaN }
        : clipGradientsByGlobalNorm(named, options.clipNorm);
    optimizer.applyGradients(variables, clipped.gradients);
    tf.dispose(Object.values(clipped.gradients));
    step++;
    losses.push(loss);
    windowSteps++;
    let checkpoint: string | undefined;
    if (checkpoints && (step % checkpoints.every === 0 || step === totalSteps)) {
      checkpoint = stepCheckpointPath(checkpoints.runDirectory, step);
      await saveCheckpoint(checkpoint, {
        modelId: checkpoints.modelId,
        config: checkpoints.config,
        step,
        parameters: model.exportParameters(),
        optimizerState: optimizer.exportState(),
        optimizerConfig: optimizer.config(),
        extra: checkpoints.extra?.(),
      });
      await pruneCheckpoints(checkpoints.runDirectory, checkpoints.keep ?? 2);
    }
    const now = performance.now();
    options.onProgress?.({
      step,
      totalSteps,
      loss,
      learningRate: optimizer.learningRate,
      gradientNorm: clipped.totalNorm,
      examplesPerSecond: (windowSteps * options.batchSize) / Math.max(1e-9, (now - windowStart) / 1000),
      elapsedSeconds: (now - started) / 1000,
      ...(checkpoint && { checkpoint }),
    });
    if (now - windowStart > 5000) {
      windowStart = now;
      windowSteps = 0;
    }
  }
  return { startStep, finalStep: step, finalLoss: losses.at(-1) ?? Number.NaN, losses };
}
