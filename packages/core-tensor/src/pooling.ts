import { tf } from './backend';

/**
 * Differentiable pooling of token features [batch, tokens, dim] into one vector per row [batch, dim].
 * A mask [batch, tokens] marks real tokens with 1 and padding with 0 (float or int); a row without real tokens pools
 * to zeros. Gradients flow to the tokens, never to the mask. Selection is done by weighted sums rather than
 * gather, whose gradient is missing on tfjs-wasm.
 */

/** Mean over all tokens: [batch, tokens, dim] → [batch, dim]. */
export function meanPool(tokens: tf.Tensor3D): tf.Tensor2D {
  return tf.mean(tokens, 1);
}

/** Mean over the real tokens: tokens [batch, tokens, dim], mask [batch, tokens] → [batch, dim]. */
export function maskedMeanPool(tokens: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => weightedSum(tokens, tf.cast(mask, 'float32')));
}

/**
 * CIR-LVLM position-weighted mean: w_i = i / Σ_j j, where i = 1, 2, … numbers the real tokens in order, so later
 * tokens (which have attended to more of the prompt in a causal decoder) weigh more; padding weighs 0.
 * Counting real tokens rather than positions gives the same weights for left- and right-padded rows.
 * tokens [batch, tokens, dim], optional mask [batch, tokens] → [batch, dim].
 */
export function positionWeightedMeanPool(tokens: tf.Tensor3D, mask?: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const realTokens = realTokenMask(tokens, mask);
    return weightedSum(tokens, tf.mul(tf.cumsum(realTokens, 1), realTokens));
  });
}

/**
 * The last real token of each row (decoder embeddings read the final position), for left- or right-padded rows.
 * tokens [batch, tokens, dim], optional mask [batch, tokens] → [batch, dim]; without a mask, the last position.
 */
export function lastTokenPool(tokens: tf.Tensor3D, mask?: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const realTokens = realTokenMask(tokens, mask);
    const positions = tf.range(1, tokens.shape[1] + 1, 1, 'float32');
    const realPositions = tf.mul(realTokens, positions);
    // Equality with the row maximum rather than argMax + oneHot: tfjs-wasm's OneHot with dtype float32 writes int32
    // bits (1 reads back as 1.4e-45).
    // Multiplying by the mask leaves a row without real tokens (all positions 0) with no selection.
    const selection = tf.mul(
      tf.cast(tf.equal(realPositions, tf.max(realPositions, 1, true)), 'float32'),
      realTokens,
    );
    return tf.sum(tf.mul(tokens, tf.expandDims(selection, 2)), 1);
  });
}

function realTokenMask(tokens: tf.Tensor3D, mask: tf.Tensor2D | undefined): tf.Tensor2D {
  const [batch, tokenCount] = tokens.shape;
  return mask ? tf.cast(mask, 'float32') : tf.ones([batch, tokenCount]);
}

/** Σ_i w_i x_i / Σ_i w_i with weights [batch, tokens]; rows whose weights are all 0 give zeros. */
function weightedSum(tokens: tf.Tensor3D, weights: tf.Tensor2D): tf.Tensor2D {
  const total = tf.maximum(tf.sum(weights, 1, true), 1e-12);
  const normalized = tf.div(weights, total);
  return tf.sum(tf.mul(tokens, tf.expandDims(normalized, 2)), 1);
}
