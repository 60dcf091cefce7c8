import { Rng, tf } from '@cir/core-tensor';
import { DEFAULT_MAI_CONFIG, type MaiConfig } from './config';
import type { MaiModel } from './mai-model';

/** A MAI small enough for exact comparisons in tests: 4 queries of width 16, 2 heads, 2 BSA and 2 MSA layers. */
export const SMALL_MAI_CONFIG: MaiConfig = {
  ...DEFAULT_MAI_CONFIG,
  inputDim: 12,
  dim: 16,
  heads: 2,
  queries: 4,
  bsaLayers: 2,
  msaLayers: 2,
  feedForwardMultiplier: 2,
  embedDim: 8,
  maxTurns: 3,
};

/** Adds small noise to every parameter (non-trivial norms and biases, so that every weight matters); returns `model`. */
export function perturbParameters(model: MaiModel, seed: number): MaiModel {
  for (const [index, parameter] of [...model.trainableParameters().values()].entries()) {
    const rng = new Rng(seed + index);
    parameter.assign(
      tf.add(parameter, tf.tensor(rng.normalArray(parameter.size), parameter.shape).mul(0.05)),
    );
  }
  return model;
}
