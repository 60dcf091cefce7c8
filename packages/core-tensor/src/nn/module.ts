import { tf } from '../backend';
import { Rng } from '../rng';

/** A tensor with its shape, as stored in checkpoints. */
export interface TensorData {
  shape: number[];
  data: Float32Array;
}

/**
 * Base class of every trainable block: a tree of named parameters (`attention.query.weight`), so that
 * checkpoints, optimizers and LoRA freezing can address parameters by name.
 */
export abstract class Module {
  private readonly ownParameters = new Map<string, tf.Variable>();
  private readonly childModules = new Map<string, Module>();

  /** Registers a child block under `name`; returns it for use in constructors. */
  protected addModule<T extends Module>(name: string, module: T): T {
    if (this.childModules.has(name) || this.ownParameters.has(name)) {
      throw new Error(`${this.constructor.name}: "${name}" is registered twice`);
    }
    this.childModules.set(name, module);
    return module;
  }

  /** Registers a parameter under `name` from initial values; returns the variable. */
  protected addParameter(name: string, values: tf.Tensor, trainable = true): tf.Variable {
    if (this.childModules.has(name) || this.ownParameters.has(name)) {
      throw new Error(`${this.constructor.name}: "${name}" is registered twice`);
    }
    const variable = tf.variable(values, trainable);
    values.dispose();
    this.ownParameters.set(name, variable);
    return variable;
  }

  /** Every parameter in the tree, keyed by its dotted path. */
  namedParameters(prefix = ''): Map<string, tf.Variable> {
    const result = new Map<string, tf.Variable>();
    for (const [name, variable] of this.ownParameters) result.set(prefix + name, variable);
    for (const [name, child] of this.childModules) {
      for (const [childName, variable] of child.namedParameters(`${prefix}${name}.`)) {
        result.set(childName, variable);
      }
    }
    return result;
  }

  /** Trainable parameters only, keyed by dotted path. */
  trainableParameters(): Map<string, tf.Variable> {
    return new Map([...this.namedParameters()].filter(([, variable]) => variable.trainable));
  }

  /** Total number of scalars in the parameters. */
  parameterCount(trainableOnly = false): number {
    let count = 0;
    for (const variable of (trainableOnly ? this.trainableParameters() : this.namedParameters()).values()) {
      count += variable.size;
    }
    return count;
  }

  /** Marks every parameter in the tree as (not) trainable, e.g. to freeze a base model under LoRA. */
  setTrainable(trainable: boolean): void {
    for (const variable of this.namedParameters().values()) variable.trainable = trainable;
  }

  /** Copies the parameters out, for checkpoints. */
  exportParameters(): Record<string, TensorData> {
    const result: Record<string, TensorData> = {};
    for (const [name, variable] of this.namedParameters()) {
      result[name] = { shape: [...variable.shape], data: variable.dataSync() as Float32Array };
    }
    return result;
  }

  /** Loads parameters by name; shapes must match and every parameter must be present unless `strict` is false. */
  importParameters(parameters: Record<string, TensorData>, options: { strict?: boolean } = {}): void {
    const strict = options.strict ?? true;
    const own = this.namedParameters();
    for (const [name, variable] of own) {
      const stored = parameters[name];
      if (!stored) {
        if (strict) throw new Error(`importParameters: parameter "${name}" is missing`);
        continue;
      }
      if (stored.shape.join(',') !== variable.shape.join(',')) {
        throw new Error(
          `importParameters: parameter "${name}" has shape [${stored.shape}] but the model expects [${variable.shape}]`,
        );
      }
      variable.assign(tf.tensor(stored.data, variable.shape, 'float32'));
    }
    if (strict) {
      const unknown = Object.keys(parameters).filter((name) => !own.has(name));
      if (unknown.length > 0) throw new Error(`importParameters: unknown parameters ${unknown.join(', ')}`);
    }
  }

  dispose(): void {
    for (const variable of this.ownParameters.values()) variable.dispose();
    for (const child of this.childModules.values()) child.dispose();
  }
}

/** Deterministic initialisers: every value comes from a seeded `Rng`, identical on every backend. */
export const init = {
  /** Glorot/Xavier uniform for a `[fanIn, fanOut]` weight. */
  glorotUniform(rng: Rng, shape: [number, number]): tf.Tensor {
    const limit = Math.sqrt(6 / (shape[0] + shape[1]));
    return tf.tensor(rng.uniformArray(shape[0] * shape[1], -limit, limit), shape, 'float32');
  },
  /** Normal with the given standard deviation (e.g. 0.02 for embeddings and learned queries). */
  normal(rng: Rng, shape: number[], std: number): tf.Tensor {
    const size = shape.reduce((product, value) => product * value, 1);
    return tf.tensor(rng.normalArray(size, 0, std), shape, 'float32');
  },
  zeros(shape: number[]): tf.Tensor {
    return tf.zeros(shape, 'float32');
  },
  ones(shape: number[]): tf.Tensor {
    return tf.ones(shape, 'float32');
  },
};

/** Accepts a seed or a generator, so blocks can be built from one seed or share a parent's generator. */
export function toRng(seedOrRng: number | Rng | undefined, label: string): Rng {
  if (seedOrRng instanceof Rng) return seedOrRng.fork(label);
  return new Rng(seedOrRng ?? 0).fork(label);
}
