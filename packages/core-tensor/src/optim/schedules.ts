/** A learning-rate schedule: step (0-based) → learning rate. */
export type LearningRateSchedule = (step: number) => number;

export interface CosineWithWarmupOptions {
  peakLearningRate: number;
  warmupSteps: number;
  totalSteps: number;
  /** Floor reached at totalSteps; default 0. */
  minLearningRate?: number;
}

/** Linear warm-up from 0 to the peak over warmupSteps, then half-cosine decay to the floor at totalSteps. */
export function cosineWithWarmup(options: CosineWithWarmupOptions): LearningRateSchedule {
  const { peakLearningRate, warmupSteps, totalSteps } = options;
  const floor = options.minLearningRate ?? 0;
  return (step) => {
    if (warmupSteps > 0 && step < warmupSteps) return (peakLearningRate * (step + 1)) / warmupSteps;
    const decaySteps = Math.max(1, totalSteps - warmupSteps);
    const progress = Math.min(1, Math.max(0, (step - warmupSteps) / decaySteps));
    return floor + 0.5 * (peakLearningRate - floor) * (1 + Math.cos(Math.PI * progress));
  };
}

export interface OneCycleOptions {
  maxLearningRate: number;
  totalSteps: number;
  /** Fraction of steps spent rising; default 0.3. */
  percentStart?: number;
  /** initial = max / divFactor; default 25. */
  divFactor?: number;
  /** final = initial / finalDivFactor; default 1e4. */
  finalDivFactor?: number;
}

/**
 * One-cycle policy (Smith & Topin 2018) with cosine annealing in both phases, matching PyTorch's OneCycleLR
 * (three_phase=False): initial → max over the first phase, max → final over the rest.
 */
export function oneCycle(options: OneCycleOptions): LearningRateSchedule {
  const { maxLearningRate, totalSteps } = options;
  const initial = maxLearningRate / (options.divFactor ?? 25);
  const final = initial / (options.finalDivFactor ?? 1e4);
  const peakStep = (options.percentStart ?? 0.3) * totalSteps - 1;
  const lastStep = totalSteps - 1;
  const anneal = (start: number, end: number, fraction: number) =>
    end + ((start - end) / 2) * (1 + Math.cos(Math.PI * fraction));
  return (step) => {
    if (step <= peakStep) return anneal(initial, maxLearningRate, peakStep <= 0 ? 1 : step / peakStep);
    const fraction = Math.min(1, (step - peakStep) / Math.max(1e-12, lastStep - peakStep));
    return anneal(maxLearningRate, final, fraction);
  };
}
