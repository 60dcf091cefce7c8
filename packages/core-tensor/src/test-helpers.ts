import { tf } from './backend';
import { Rng } from './rng';

/**
 * A trainable tensor of seeded normal values, for gradient checks of inputs. Typed with a free rank so tests
 * can pass it where a Tensor2D/3D is expected: the shape argument fixes the real rank.
 */
// biome-ignore lint/suspicious/noExplicitAny: see above.
export function randomVariable(shape: number[], seed: number, std = 1): tf.Variable<any> {
  const size = shape.reduce((product, value) => product * value, 1);
  return tf.variable(tf.tensor(new Rng(seed).normalArray(size, 0, std), shape, 'float32'));
}

/** Seeded normal values as a constant tensor (free rank, as randomVariable). */
// biome-ignore lint/suspicious/noExplicitAny: see randomVariable.
export function randomTensor(shape: number[], seed: number, std = 1): tf.Tensor<any> {
  const size = shape.reduce((product, value) => product * value, 1);
  return tf.tensor(new Rng(seed).normalArray(size, 0, std), shape, 'float32');
}

/** Σ output ⊙ R with R seeded: a scalar that depends on every output element differently. */
export function weightedSum(output: tf.Tensor, seed = 11): tf.Scalar {
  return tf.sum(tf.mul(output, randomTensor(output.shape, seed)));
}
