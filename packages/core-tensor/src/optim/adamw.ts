import { tf } from '../backend';
import type { TensorData } from '../nn/module';

export interface AdamWOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Decoupled weight decay λ (Loshchilov & Hutter 2019): θ ← θ − lr·λ·θ, applied outside the adaptive step. */
  weightDecay?: number;
  /** Which parameters decay; by default every parameter of rank ≥ 2 (weights, not biases or norm gains). */
  decay?: (name: string, variable: tf.Variable) => boolean;
}

interface Slots {
  firstMoment: tf.Variable;
  secondMoment: tf.Variable;
}

/**
 * AdamW (Loshchilov & Hutter 2019, Algorithm 2) over named tf.Variables, with its state exportable for
 * checkpoints so training resumes exactly.
 */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  learningRate: number;
  /** Number of updates applied so far (t in the paper). */
  step = 0;
  private readonly slots = new Map<string, Slots>();
  private readonly decay: (name: string, variable: tf.Variable) => boolean;

  constructor(options: AdamWOptions) {
    this.learningRate = options.learningRate;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    this.decay = options.decay ?? ((_name, variable) => variable.rank >= 2);
  }

  private slotsFor(name: string, variable: tf.Variable): Slots {
    let slots = this.slots.get(name);
    if (!slots) {
      slots = {
        firstMoment: tf.variable(tf.zerosLike(variable), false),
        secondMoment: tf.variable(tf.zerosLike(variable), false),
      };
      this.slots.set(name, slots);
    }
    return slots;
  }

  /**
   * Applies one update. `gradients` and `variables` are keyed by the same parameter names; parameters without a
   * gradient are left alone.
   */
  applyGradients(variables: Map<string, tf.Variable>, gradients: Record<string, tf.Tensor>): void {
    this.step += 1;
    const biasCorrection1 = 1 - this.beta1 ** this.step;
    const biasCorrection2 = 1 - this.beta2 ** this.step;
    tf.tidy(() => {
      for (const [name, variable] of variables) {
        const gradient = gradients[name];
        if (!gradient) continue;
        const { firstMoment, secondMoment } = this.slotsFor(name, variable);
        const m = tf.add(tf.mul(firstMoment, this.beta1), tf.mul(gradient, 1 - this.beta1));
        const v = tf.add(tf.mul(secondMoment, this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2));
        firstMoment.assign(m);
        secondMoment.assign(v);
        const adaptive = tf.div(
          tf.div(m, biasCorrection1),
          tf.add(tf.sqrt(tf.div(v, biasCorrection2)), this.epsilon),
        );
        let update = tf.mul(adaptive, this.learningRate);
        if (this.weightDecay > 0 && this.decay(name, variable)) {
          update = tf.add(update, tf.mul(variable, this.learningRate * this.weightDecay));
        }
        variable.assign(tf.sub(variable, update));
      }
    });
  }

  /** Moments as named tensors (`<param>.m`, `<param>.v`) for a checkpoint. */
  exportState(): Record<string, TensorData> {
    const state: Record<string, TensorData> = {};
    for (const [name, { firstMoment, secondMoment }] of this.slots) {
      state[`${name}.m`] = { shape: [...firstMoment.shape], data: firstMoment.dataSync() as Float32Array };
      state[`${name}.v`] = { shape: [...secondMoment.shape], data: secondMoment.dataSync() as Float32Array };
    }
    return state;
  }

  /** Restores moments and the step count written by exportState. */
  importState(state: Record<string, TensorData>, step: number): void {
    this.dispose();
    this.step = step;
    for (const [key, tensor] of Object.entries(state)) {
      const match = /^(.*)\.(m|v)$/.exec(key);
      if (!match) throw new Error(`AdamW.importState: unexpected slot "${key}"`);
      const [, name, kind] = match as unknown as [string, string, 'm' | 'v'];
      const variable = tf.variable(tf.tensor(tensor.data, tensor.shape, 'float32'), false);
      const slots = this.slots.get(name) ?? ({} as Slots);
      if (kind === 'm') slots.firstMoment = variable;
      else slots.secondMoment = variable;
      this.slots.set(name, slots);
    }
  }

  /** The hyper-parameters, for checkpoint metadata. */
  config(): Record<string, number> {
    return {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      weightDecay: this.weightDecay,
    };
  }

  dispose(): void {
    for (const { firstMoment, secondMoment } of this.slots.values()) {
      firstMoment?.dispose();
      secondMoment?.dispose();
    }
    this.slots.clear();
  }
}
