import { tf } from '@cir/core-tensor';
import { normalizeEmbeddings, type TurnEmbeddings } from './turn-embeddings';

/**
 * MAI's similarity loss (eq. 4): the reference image plus the modification should land on the target image,
 *
 *   L_sim = (1/B) Σ_i ( 1 − (|v^r_i| + |m_i|)/2 · |v^t_i| ).
 *
 * @param embeddings v^r, m, v^t, each `[batch, dim]`, normalised here
 * @returns scalar loss
 */
export function similarityLoss(
  embeddings: Pick<TurnEmbeddings, 'referenceImage' | 'modificationText' | 'targetImage'>,
): tf.Scalar {
  return tf.tidy(() => {
    const normalized = normalizeEmbeddings('similarityLoss', embeddings, [
      'referenceImage',
      'modificationText',
      'targetImage',
    ]);
    return similarityTerm(normalized.referenceImage, normalized.modificationText, normalized.targetImage);
  });
}

/** Eq. 4 on already normalised `[batch, dim]` embeddings. */
export function similarityTerm(
  referenceImage: tf.Tensor,
  modificationText: tf.Tensor,
  targetImage: tf.Tensor,
): tf.Scalar {
  return tf.mean(
    tf.sub(1, rowDot(tf.div(tf.add(referenceImage, modificationText), 2), targetImage)),
  ) as tf.Scalar;
}

/** Row-wise inner products of `[batch, dim]` tensors → `[batch]`. */
export function rowDot(a: tf.Tensor, b: tf.Tensor): tf.Tensor1D {
  return tf.sum(tf.mul(a, b), 1) as tf.Tensor1D;
}
