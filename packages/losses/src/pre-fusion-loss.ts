import { tf } from '@cir/core-tensor';
import { rowDot, similarityTerm } from './similarity-loss';
import { ALL_EMBEDDINGS, normalizeEmbeddings, type TurnEmbeddings } from './turn-embeddings';

/**
 * MAI's pre-fusion loss (eq. 6): L_sim plus a constraint between the image–caption fusions of both sides,
 *
 *   L_pre = L_sim + (1/B) Σ_i ( 1 − ((|v^r_i| + |m_i|) + (|c^r_i| + |m_i|))/4 · (|v^t_i| + |c^t_i|)/2 ).
 *
 * Proposition 1: L_naive − L_pre = (1/8B) Σ_i [ |v^r|·|v^t| + |c^r|·|c^t| − |v^r|·|c^t| − |c^r|·|v^t| ], positive when
 * each modality is closer to itself than to the other.
 *
 * @param embeddings v^r, m, v^t, c^r, c^t, each `[batch, dim]`, normalised here
 * @returns scalar loss
 */
export function preFusionLoss(embeddings: TurnEmbeddings): tf.Scalar {
  return tf.tidy(() => {
    const { referenceImage, modificationText, targetImage, referenceCaption, targetCaption } =
      normalizeEmbeddings('preFusionLoss', embeddings, ALL_EMBEDDINGS);
    const referenceSide = tf.div(
      tf.add(tf.add(referenceImage, modificationText), tf.add(referenceCaption, modificationText)),
      4,
    );
    const targetSide = tf.div(tf.add(targetImage, targetCaption), 2);
    const preFusion = tf.mean(tf.sub(1, rowDot(referenceSide, targetSide)));
    return tf.add(similarityTerm(referenceImage, modificationText, targetImage), preFusion) as tf.Scalar;
  });
}
