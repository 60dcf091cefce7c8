import { AdamW, oneCycle, Rng, runTrainingLoop, type TrainingProgress } from '@cir/core-tensor';
import { cyclicCombinationLoss } from '@cir/losses';
import { buildSessionBatch, disposeSessionBatch } from './batches';
import type { MaiConfig } from './config';
import type { Session } from './fashion-mt-data';
import type { MaiFeatures } from './features';
import { MaiModel } from './mai-model';
import { forwardSessions } from './session-forward';

export interface TrainMaiOptions {
  config: MaiConfig;
  features: MaiFeatures;
  sessions: readonly Session[];
  steps: number;
  batchSize?: number;
  learningRate?: number;
  weightDecay?: number;
  seed?: number;
  /** Checkpoints for resuming after a crash or `kill -9`. */
  runDirectory?: string;
  checkpointEvery?: number;
  onProgress?: (progress: TrainingProgress) => void;
}

/** Identity of a training run: a resumed run must have the same configuration, data and seed. */
export function maiRunId(config: MaiConfig, encoderId: string, sessions: number, seed: number): string {
  return `mai:${encoderId}:${sessions}:${seed}:${JSON.stringify(config)}`;
}

/**
 * Trains MAI on multi-turn sessions with the Cyclic Combination Loss summed over turns (eq. 9), AdamW and the
 * one-cycle schedule of the MAI code (warm-up from lr/100 over the first ~3 %, cosine anneal). Batches are seeded
 * per epoch, so a resumed run continues exactly.
 */
export async function trainMai(
  options: TrainMaiOptions,
): Promise<{ model: MaiModel; losses: number[]; startStep: number }> {
  const { config, features, sessions } = options;
  const seed = options.seed ?? 1;
  // 16 sessions × 4 images per step: the tape of a 32-session step (~2 GB) nears the wasm heap limit.
  const batchSize = Math.min(options.batchSize ?? 16, sessions.length);
  const model = new MaiModel(config, seed);
  const learningRate = options.learningRate ?? 1e-3;
  const optimizer = new AdamW({
    learningRate,
    weightDecay: options.weightDecay ?? 0.05,
    beta2: 0.98,
    epsilon: 1e-7,
  });
  const schedule = oneCycle({
    maxLearningRate: learningRate,
    totalSteps: options.steps,
    percentStart: 0.1,
    divFactor: 25,
  });
  const stepsPerEpoch = Math.max(1, Math.floor(sessions.length / batchSize));
  let permutation: { epoch: number; order: number[] } | undefined;
  const batchSessions = (step: number) => {
    const epoch = Math.floor(step / stepsPerEpoch);
    if (permutation?.epoch !== epoch) {
      permutation = {
        epoch,
        order: new Rng(seed * 7919 + epoch).shuffle(sessions.map((_session, index) => index)),
      };
    }
    const start = (step % stepsPerEpoch) * batchSize;
    return permutation.order.slice(start, start + batchSize).map((index) => sessions[index]!);
  };
  // Batches are built (async) before each step; the loss function then runs synchronously inside autodiff.
  let prepared: { step: number; batch: Awaited<ReturnType<typeof buildSessionBatch>> } | undefined;
  const textBranch =
    config.ccl.targetToModification || config.ccl.modificationToCaption || config.ccl.captionToFusion;
  const result = await runTrainingLoop({
    model,
    optimizer,
    schedule,
    totalSteps: options.steps,
    batchSize,
    clipNorm: 1,
    beforeStep: async (step) => {
      if (prepared) disposeSessionBatch(prepared.batch);
      prepared = { step, batch: await buildSessionBatch(batchSessions(step), features, config) };
    },
    batchLoss: (step) => {
      if (prepared?.step !== step) throw new Error(`batch of step ${step} was not prepared`);
      const { turns } = forwardSessions(model, prepared.batch, { textBranch });
      // Without the text branch only fusion→target is enabled, and the loss never reads the text embeddings.
      const complete = turns.map((turn) => ({
        ...turn,
        modificationText: turn.modificationText ?? turn.fusedQuery,
        targetCaption: turn.targetCaption ?? turn.targetFused,
      }));
      return cyclicCombinationLoss(complete, { terms: config.ccl, logitScale: config.logitScale }).total;
    },
    ...(options.runDirectory && {
      checkpoints: {
        runDirectory: options.runDirectory,
        every: options.checkpointEvery ?? 25,
        modelId: maiRunId(config, features.encoderId, sessions.length, seed),
        config,
      },
    }),
    onProgress: options.onProgress,
  });
  if (prepared) disposeSessionBatch(prepared.batch);
  return { model, losses: result.losses, startStep: result.startStep };
}
