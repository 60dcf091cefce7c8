import { tf } from '@cir/core-tensor';
import { rowDot, similarityTerm } from './similarity-loss';
import { ALL_EMBEDDINGS, normalizeEmbeddings, type TurnEmbeddings } from './turn-embeddings';

/**
 * MAI's naive cross-modal loss (eq. 5): L_sim plus the same constraint with each image swapped for its caption,
 *
 *   L_naive = L_sim + (1/B) Σ_i [ 1 − ½ ( (|v^r_i| + |m_i|)/2 · |c^t_i| + (|c^r_i| + |m_i|)/2 · |v^t_i| ) ].
 *
 * @param embeddings v^r, m, v^t, c^r, c^t, each `[batch, dim]`, normalised here
 * @returns scalar loss
 */
export function naiveCrossModalLoss(embeddings: TurnEmbeddings): tf.Scalar {
  return tf.tidy(() => {
    const { referenceImage, modificationText, targetImage, referenceCaption, targetCaption } =
      normalizeEmbeddings('naiveCrossModalLoss', embeddings, ALL_EMBEDDINGS);
    const imageToCaption = rowDot(tf.div(tf.add(referenceImage, modificationText), 2), targetCaption);
    const captionToImage = rowDot(tf.div(tf.add(referenceCaption, modificationText), 2), targetImage);
    const crossModal = tf.mean(tf.sub(1, tf.div(tf.add(imageToCaption, captionToImage), 2)));
    return tf.add(similarityTerm(referenceImage, modificationText, targetImage), crossModal) as tf.Scalar;
  });
}
