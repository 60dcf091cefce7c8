import { l2NormalizeTensor, matMul2d, tf } from '@cir/core-tensor';

/**
 * The logit scale: fixed (MAI's released code, CLIP4Cir and SPRC multiply cosine similarities by 100), or a
 * temperature τ dividing them, which may be a trainable tensor.
 */
export type BatchClassificationOptions = { logitScale?: number } | { temperature: tf.Tensor | number };

export const DEFAULT_LOGIT_SCALE = 100;

/**
 * Batch-based classification loss (MAI eq. 8), the in-batch InfoNCE of CIR:
 *
 *   L_B(r_q, r_t) = (1/B) Σ_i −log [ exp(s·κ(r_q^i, r_t^i)) / Σ_j exp(s·κ(r_q^i, r_t^j)) ]
 *
 * with κ the cosine similarity (both inputs are L2-normalised here, so callers pass raw embeddings) and s the
 * logit scale (default 100) or 1/temperature. One direction only: row i of the queries must pick target i among
 * the batch, as in the reference code.
 *
 * @param query r_q `[batch, dim]`
 * @param target r_t `[batch, dim]`
 * @returns scalar loss
 */
export function batchClassificationLoss(
  query: tf.Tensor2D,
  target: tf.Tensor2D,
  options: BatchClassificationOptions = {},
): tf.Scalar {
  if (query.shape.join() !== target.shape.join() || query.shape[0] === 0) {
    throw new RangeError(
      `batchClassificationLoss: query [${query.shape.join(', ')}] and target [${target.shape.join(', ')}] must have the same non-empty [batch, dim]`,
    );
  }
  if ('temperature' in options && 'logitScale' in options) {
    throw new Error('batchClassificationLoss: give a logitScale or a temperature, not both');
  }
  return tf.tidy(() => {
    const cosine = matMul2d(l2NormalizeTensor(query), l2NormalizeTensor(target), false, true);
    const logits =
      'temperature' in options
        ? tf.div(cosine, options.temperature)
        : tf.mul(cosine, options.logitScale ?? DEFAULT_LOGIT_SCALE);
    // The diagonal is read out of the same logits, so a perfect match cannot score a negative loss by rounding.
    const matching = tf.sum(tf.mul(logits, tf.eye(query.shape[0])), 1);
    return tf.mean(tf.sub(tf.logSumExp(logits, 1), matching)) as tf.Scalar;
  });
}
