import { l2NormalizeTensor, type tf } from '@cir/core-tensor';

/**
 * The embeddings of one turn in MAI §4.3, each `[batch, dim]` at any scale: the losses of eqs. 4–6 L2-normalise
 * them (the paper's |x| = x / ‖x‖).
 */
export interface TurnEmbeddings {
  /** v^r, the reference image. */
  referenceImage: tf.Tensor2D;
  /** m, the modification text. */
  modificationText: tf.Tensor2D;
  /** v^t, the target image. */
  targetImage: tf.Tensor2D;
  /** c^r, the reference image's caption. */
  referenceCaption: tf.Tensor2D;
  /** c^t, the target image's caption. */
  targetCaption: tf.Tensor2D;
}

/** Row-wise L2-normalised copies of the `keys` embeddings, after checking that they share one [batch, dim]. */
export function normalizeEmbeddings<Key extends keyof TurnEmbeddings>(
  caller: string,
  embeddings: Pick<TurnEmbeddings, Key>,
  keys: readonly Key[],
): Record<Key, tf.Tensor2D> {
  const shape = embeddings[keys[0]].shape.join(', ');
  const normalized = {} as Record<Key, tf.Tensor2D>;
  for (const key of keys) {
    const tensor = embeddings[key];
    if (tensor.shape.join(', ') !== shape) {
      throw new RangeError(`${caller}: ${key} is [${tensor.shape.join(', ')}], expected [${shape}]`);
    }
    normalized[key] = l2NormalizeTensor(tensor);
  }
  return normalized;
}

/** The keys of all five embeddings, for the losses that use them all. */
export const ALL_EMBEDDINGS = [
  'referenceImage',
  'modificationText',
  'targetImage',
  'referenceCaption',
  'targetCaption',
] as const;
