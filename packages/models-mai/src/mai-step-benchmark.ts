import { AdamW, type BenchmarkDefinition, initBackend, median, Rng, tf } from '@cir/core-tensor';
import { cyclicCombinationLoss } from '@cir/losses';
import type { SessionBatch } from './batches';
import { DEFAULT_MAI_CONFIG, type MaiConfig } from './config';
import { MaiModel } from './mai-model';
import { forwardSessions } from './session-forward';

export interface MaiStepBenchmarkOptions {
  batch?: number;
  turns?: number;
  captionTokens?: number;
  textTokens?: number;
  patches?: number;
  repeats?: number;
}

export interface MaiStepBenchmarkResult {
  name: 'mai-step';
  backend: string;
  batch: number;
  turns: number;
  /** Median ms of one full training step (forward, backward, AdamW). */
  medianMs: number;
  /** Median ms of the forward pass alone (loss value, no gradients). */
  forwardMs: number;
  parameters: number;
}

/**
 * One MAI training step at the fixed shape of the design card (`../shared/ARCHITECTURE.md`, beside the repository): B=32, 3 turns, d=128, 4 heads, 16 learned queries,
 * 16 caption tokens, 24 modification-text tokens, 17 patch tokens, BSA and MSA 2 layers each (FFN ×4), MIO keeping
 * 16 of 32 by DPC-kNN (k=5), the four CCL terms per turn, AdamW. Inputs are random frozen-encoder tokens.
 */
export async function benchmarkMaiStep(
  options: MaiStepBenchmarkOptions = {},
): Promise<MaiStepBenchmarkResult> {
  const { batch = 32, turns = 3, captionTokens = 16, textTokens = 24, patches = 17, repeats = 5 } = options;
  const info = await initBackend();
  const config: MaiConfig = {
    ...DEFAULT_MAI_CONFIG,
    queries: 16,
    dim: 128,
    heads: 4,
    inputDim: 128,
    bsaLayers: 2,
    msaLayers: 2,
  };
  const model = new MaiModel(config, 1);
  const optimizer = new AdamW({ learningRate: 1e-4 });
  const rng = new Rng(2);
  const images = batch * (turns + 1);
  const random = (shape: number[]) => tf.tensor(rng.normalArray(shape.reduce((a, b) => a * b, 1)), shape);
  const sessionBatch: SessionBatch = {
    batch,
    turns,
    images: { tokens: random([images, patches, 128]) as tf.Tensor3D },
    captions: {
      tokens: random([images, captionTokens, 128]) as tf.Tensor3D,
      mask: tf.ones([images, captionTokens]) as tf.Tensor2D,
    },
    texts: {
      tokens: random([batch * turns, textTokens, 128]) as tf.Tensor3D,
      mask: tf.ones([batch * turns, textTokens]) as tf.Tensor2D,
    },
    referenceRows: Array.from({ length: turns }, (_value, turn) =>
      Int32Array.from({ length: batch }, (_session, index) => index * (turns + 1) + turn),
    ),
    combination: Array.from({ length: turns }, () => new Float32Array(batch)),
  };
  const loss = () => {
    const { turns: embeddings } = forwardSessions(model, sessionBatch, { textBranch: true });
    return cyclicCombinationLoss(embeddings as never, { logitScale: config.logitScale }).total;
  };
  const variables = model.trainableParameters();
  const step = async () => {
    const { value, grads } = tf.variableGrads(loss, [...variables.values()]);
    await value.data();
    const named: Record<string, tf.Tensor> = {};
    for (const [name, variable] of variables) if (grads[variable.name]) named[name] = grads[variable.name]!;
    optimizer.applyGradients(variables, named);
    tf.dispose([value, ...Object.values(grads)]);
  };
  await step();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    await step();
    times.push(performance.now() - started);
  }
  const forwardTimes: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    const value = tf.tidy(loss);
    await value.data();
    value.dispose();
    forwardTimes.push(performance.now() - started);
  }
  const parameters = model.parameterCount();
  model.dispose();
  optimizer.dispose();
  return {
    name: 'mai-step',
    backend: info.name,
    batch,
    turns,
    medianMs: median(times),
    forwardMs: median(forwardTimes),
    parameters,
  };
}

export const maiBenchmarks: BenchmarkDefinition[] = [
  {
    name: 'mai-step',
    description: 'One MAI training step at the fixed shape (B=32, 3 turns, d=128, 16 queries), median ms.',
    options: [
      { name: 'batch', description: 'sessions per step', default: 32 },
      { name: 'repeats', description: 'timed steps', default: 5 },
    ],
    run: (options) => benchmarkMaiStep({ batch: options.batch, repeats: options.repeats }),
  },
];
