import { tf } from '@cir/core-tensor';
import { type SelectTokensOptions, validateSelection } from './select-tokens';

/**
 * `selectTokens` in tfjs ops, for token sets that live on a tfjs backend: the same DPC-kNN rule (eqs. 2–3), the
 * same tie rules, no gradient (the result is a set of indices).
 *
 * tfjs computes in float32, so this agrees with the float64 typed-array version except where two densities or two
 * scores differ by less than float32 rounding — rare for real tokens, but common for isotropic noise in high
 * dimension, where all pairwise distances concentrate around the same value.
 *
 * @param tokens `[batch, n, dim]`
 * @returns int32 `[batch, keep]` token indices, highest score first, equal scores by lower index
 */
export function selectTokensTensor(
  tokens: tf.Tensor3D,
  keep: number,
  options: SelectTokensOptions = {},
): tf.Tensor2D {
  const [batch, count, dim] = tokens.shape;
  const neighbours = validateSelection('selectTokensTensor', tokens.shape, keep, options);
  if (keep === 0) return tf.zeros([batch, 0], 'int32');
  return tf.tidy(() => {
    const gram = tf.matMul(tokens, tokens, false, true);
    // Norms from the Gram diagonal itself, so identical tokens are at distance exactly 0 (as in the typed version).
    const norms = tf.sum(tf.mul(gram, tf.eye(count)), 2);
    const sumOfNorms = tf.add(tf.expandDims(norms, 2), tf.expandDims(norms, 1));
    const squaredDistances = tf.relu(tf.sub(sumOfNorms, tf.mul(gram, 2))); // ‖x_i − x_j‖², 1/dim applied below
    // topk of −‖·‖² gives the k smallest in ascending order, so identical rows sum identically.
    const nearest = tf.topk(tf.neg(squaredDistances), neighbours).values;
    const densities = tf.exp(tf.div(tf.sum(nearest, 2), neighbours * dim)); // eq. 2: exp(−mean D²)
    const higher = tf.greater(tf.expandDims(densities, 1), tf.expandDims(densities, 2)); // [b, i, j]: ρ_j > ρ_i
    const infinity = tf.fill(squaredDistances.shape, Number.POSITIVE_INFINITY);
    const closestHigher = tf.min(tf.where(higher, squaredDistances, infinity), 2);
    const largest = tf.broadcastTo(tf.reshape(tf.max(squaredDistances, [1, 2]), [batch, 1]), [batch, count]);
    const deltaSquared = tf.where(tf.any(higher, 2), closestHigher, largest);
    const scores = tf.mul(densities, tf.sqrt(tf.div(deltaSquared, dim))); // eq. 3
    return tf.topk(scores, keep).indices as tf.Tensor2D;
  });
}
