import { tf } from './backend';
import { Rng } from './rng';

export interface GradientCheckOptions {
  /** Random directions tried per variable. */
  directions?: number;
  /**
   * Largest step along a unit-norm direction. Steps epsilon, epsilon/2, … epsilon/16 are tried and the estimate
   * where two successive steps agree best is kept: large steps suffer truncation, small ones float32 round-off,
   * and which one wins depends on the function (a sharp softmax needs a smaller step than a matMul).
   */
  epsilon?: number;
  /**
   * Errors are relative to max(|analytic|, |numeric|, floor · ‖∇L‖), where ‖∇L‖ is the norm of the whole gradient:
   * a parameter whose true gradient is zero (e.g. a key bias under softmax) is then judged against the scale of
   * the problem instead of 0/0, and float32 round-off (~1e-5 of ‖∇L‖ here) does not dominate tiny directional
   * derivatives. Default 1e-2, well below the typical ‖∇L‖/√n of a random unit direction.
   */
  floor?: number;
  seed?: number;
}

export interface GradientCheckEntry {
  name: string;
  direction: number;
  analytic: number;
  numeric: number;
  relativeError: number;
}

export interface GradientCheckResult {
  maxRelativeError: number;
  /** ‖analytic − numeric‖ / ‖analytic‖ over all entries: a floor-free summary. */
  aggregateRelativeError: number;
  entries: GradientCheckEntry[];
}

/**
 * Compares autodiff gradients with finite differences along random unit directions v.
 *
 * The checked scalar is L = Σ output ⊙ R with R fixed and seeded, so a wrong gradient in any output position
 * shows. The analytic side is the autodiff gᵀv; the numeric side is the fourth-order central difference
 * [−L(x+2hv) + 8L(x+hv) − 8L(x−hv) + L(x−2hv)] / 12h at the best of several steps h, with L summed in float64 from the float32 outputs so that
 * only the per-element float32 round-off remains.
 */
export function checkGradients(
  output: () => tf.Tensor,
  variables: Map<string, tf.Variable>,
  options: GradientCheckOptions = {},
): GradientCheckResult {
  const directions = options.directions ?? 3;
  const largestStep = options.epsilon ?? 2e-1;
  const floor = options.floor ?? 1e-2;
  const rng = new Rng(options.seed ?? 7);
  const names = [...variables.keys()];
  const variableList = names.map((name) => variables.get(name)!);
  const probe = tf.tidy(() => output());
  const projection = new Rng((options.seed ?? 7) + 1).normalArray(probe.size);
  const projectionTensor = tf.tensor(projection, probe.shape, 'float32');
  probe.dispose();
  const { grads } = tf.variableGrads(
    () => tf.sum(tf.mul(output(), projectionTensor)) as tf.Scalar,
    variableList,
  );
  const gradientNorm = Math.sqrt(
    Object.values(grads).reduce(
      (total, gradient) => total + tf.tidy(() => tf.sum(tf.square(gradient)).dataSync()[0]!),
      0,
    ),
  );
  const absoluteFloor = Math.max(floor * gradientNorm, 1e-12);
  const evaluate = () => {
    const values = tf.tidy(() => output()).dataSync();
    let total = 0;
    for (let i = 0; i < values.length; i++) total += values[i]! * projection[i]!;
    return total;
  };
  const entries: GradientCheckEntry[] = [];
  for (const [index, name] of names.entries()) {
    const variable = variableList[index]!;
    const gradient = grads[variable.name]!;
    const original = tf.keep(variable.clone());
    for (let direction = 0; direction < directions; direction++) {
      const raw = rng.normalArray(variable.size);
      let norm = 0;
      for (const value of raw) norm += value * value;
      norm = Math.sqrt(norm);
      const unit = tf.tensor(
        raw.map((value) => value / norm),
        variable.shape,
        'float32',
      );
      const analytic = tf.tidy(() => tf.sum(tf.mul(gradient, unit)).dataSync()[0]!);
      const at = (step: number) => {
        tf.tidy(() => variable.assign(tf.add(original, tf.mul(unit, step))));
        return evaluate();
      };
      const centralDifference = (step: number) =>
        (-at(2 * step) + 8 * at(step) - 8 * at(-step) + at(-2 * step)) / (12 * step);
      const estimates = [1, 2, 4, 8, 16].map((divisor) => centralDifference(largestStep / divisor));
      let numeric = estimates[1]!;
      let bestAgreement = Number.POSITIVE_INFINITY;
      for (let i = 1; i < estimates.length; i++) {
        const agreement = Math.abs(estimates[i]! - estimates[i - 1]!);
        if (agreement < bestAgreement) {
          bestAgreement = agreement;
          numeric = estimates[i]!;
        }
      }
      tf.tidy(() => variable.assign(original));
      unit.dispose();
      const relativeError =
        Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), absoluteFloor);
      entries.push({ name, direction, analytic, numeric, relativeError });
    }
    original.dispose();
  }
  projectionTensor.dispose();
  for (const gradient of Object.values(grads)) gradient.dispose();
  let differenceSquares = 0;
  let analyticSquares = 0;
  for (const entry of entries) {
    differenceSquares += (entry.analytic - entry.numeric) ** 2;
    analyticSquares += entry.analytic ** 2;
  }
  return {
    maxRelativeError: Math.max(0, ...entries.map((entry) => entry.relativeError)),
    aggregateRelativeError: Math.sqrt(differenceSquares / Math.max(analyticSquares, 1e-30)),
    entries,
  };
}

/** Largest |a[i] − b[i]|, for comparing two implementations of one computation; throws when the lengths differ. */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length)
    throw new RangeError(`maxAbsDifference: lengths ${a.length} and ${b.length} differ`);
  let worst = 0;
  for (let index = 0; index < a.length; index++) worst = Math.max(worst, Math.abs(a[index]! - b[index]!));
  return worst;
}
