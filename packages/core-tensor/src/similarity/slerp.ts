import { tf } from '../backend';

/** Below this sin θ the slerp weights are 0/0; normalised lerp agrees with slerp to O(θ³) there. */
const SMALL_SINE = 1e-6;
/**
 * The tensor version clamps cos θ this far inside [-1, 1] because acos' derivative is infinite at ±1; the weights
 * depend on θ only to second order near 0, so the clamp costs ~θ²/8 ≈ 2.5e-7 relative error.
 */
const COSINE_MARGIN = 1e-6;

/**
 * Spherical linear interpolation between unit vectors `a` and `b` [dim]: the point at fraction `alpha` of the great
 * arc from `a` (alpha 0) to `b` (alpha 1), still of unit norm. Returns a new array.
 *
 * θ comes from 2·atan2(‖a − b‖, ‖a + b‖), which stays accurate at both ends where acos(a·b) loses digits.
 * For θ ≈ 0 it returns the normalised lerp. Antipodal vectors have no unique arc: it takes the one through the
 * coordinate axis on which `a` is smallest, so the result is deterministic and finite.
 */
export function slerp(a: Float32Array, b: Float32Array, alpha: number): Float32Array {
  if (a.length !== b.length) throw new RangeError(`slerp: vectors of length ${a.length} and ${b.length}`);
  const dim = a.length;
  let dot = 0;
  let differenceSquared = 0;
  let sumSquared = 0;
  for (let i = 0; i < dim; i++) {
    dot += a[i] * b[i];
    differenceSquared += (a[i] - b[i]) ** 2;
    sumSquared += (a[i] + b[i]) ** 2;
  }
  const angle = 2 * Math.atan2(Math.sqrt(differenceSquared), Math.sqrt(sumSquared));
  const sine = Math.sin(angle);
  const out = new Float32Array(dim);
  if (sine > SMALL_SINE) {
    const weightA = Math.sin((1 - alpha) * angle) / sine;
    const weightB = Math.sin(alpha * angle) / sine;
    for (let i = 0; i < dim; i++) out[i] = weightA * a[i] + weightB * b[i];
    return out;
  }
  if (dot >= 0) {
    let squaredNorm = 0;
    for (let i = 0; i < dim; i++) {
      out[i] = (1 - alpha) * a[i] + alpha * b[i];
      squaredNorm += out[i] * out[i];
    }
    const inverseNorm = squaredNorm > 0 ? 1 / Math.sqrt(squaredNorm) : 0;
    for (let i = 0; i < dim; i++) out[i] *= inverseNorm;
    return out;
  }
  const perpendicular = perpendicularUnit(a);
  const cosine = Math.cos(alpha * Math.PI);
  const sinePart = Math.sin(alpha * Math.PI);
  for (let i = 0; i < dim; i++) out[i] = cosine * a[i] + sinePart * perpendicular[i];
  return out;
}

/** A unit vector orthogonal to the unit vector `a`: the axis on which `a` is smallest, minus its projection on `a`. */
function perpendicularUnit(a: Float32Array): Float64Array {
  let axis = 0;
  for (let i = 1; i < a.length; i++) if (Math.abs(a[i]) < Math.abs(a[axis])) axis = i;
  const perpendicular = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) perpendicular[i] = -a[axis] * a[i];
  perpendicular[axis] += 1;
  let squaredNorm = 0;
  for (let i = 0; i < a.length; i++) squaredNorm += perpendicular[i] * perpendicular[i];
  const inverseNorm = squaredNorm > 0 ? 1 / Math.sqrt(squaredNorm) : 0;
  for (let i = 0; i < a.length; i++) perpendicular[i] *= inverseNorm;
  return perpendicular;
}

/**
 * Differentiable slerp of row pairs of unit vectors `a` [batch, dim] and `b` [batch, dim] → [batch, dim]
 * (CoLLM synthesises a reference embedding between an image and its in-batch nearest neighbour with alpha 0.5).
 *
 * cos θ is clamped inside (-1, 1) so that values and gradients stay finite: identical rows give `a` (to ~1e-7).
 * Exactly antipodal rows give a near-zero vector instead of a unit one, as the arc between them is undefined.
 */
export function slerpTensor(a: tf.Tensor2D, b: tf.Tensor2D, alpha: number): tf.Tensor2D {
  return tf.tidy(() => {
    const cosine = tf.clipByValue(tf.sum(tf.mul(a, b), 1, true), -1 + COSINE_MARGIN, 1 - COSINE_MARGIN);
    const angle = tf.acos(cosine);
    const inverseSine = tf.reciprocal(tf.sin(angle));
    const weightA = tf.mul(tf.sin(tf.mul(angle, 1 - alpha)), inverseSine);
    const weightB = tf.mul(tf.sin(tf.mul(angle, alpha)), inverseSine);
    return tf.add(tf.mul(weightA, a), tf.mul(weightB, b));
  });
}
