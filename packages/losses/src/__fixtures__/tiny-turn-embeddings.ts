import { Rng, tf } from '@cir/core-tensor';
import type { TurnEmbeddings } from '../turn-embeddings';

/**
 * Two rows of 2-D embeddings whose normalised forms are axis vectors or their diagonal:
 * row 0: v^r = [1, 0], m = [0, 1], v^t = [1, 1]/√2, c^r = [0, 1], c^t = [1, 0]
 * row 1: v^r = [1, 0], m = [1, 0], v^t = [0, 1],    c^r = [0, 1], c^t = [1, 0]
 */
export function tinyTurnEmbeddings(): TurnEmbeddings {
  return {
    referenceImage: tf.tensor2d([
      [2, 0],
      [1, 0],
    ]),
    modificationText: tf.tensor2d([
      [0, 3],
      [4, 0],
    ]),
    targetImage: tf.tensor2d([
      [1, 1],
      [0, 7],
    ]),
    referenceCaption: tf.tensor2d([
      [0, 5],
      [0, 2],
    ]),
    targetCaption: tf.tensor2d([
      [2, 0],
      [3, 0],
    ]),
  };
}

/** L_sim of `tinyTurnEmbeddings` by hand. Row 0: (v^r + m)/2 = [.5, .5] · v^t = 1/√2. Row 1: [1, 0] · v^t = 0. */
export const TINY_SIMILARITY_LOSS = (1 - Math.SQRT1_2 + (1 - 0)) / 2;

/** Seeded trainable embeddings [2, 4] for gradient checks (few values keep float32 round-off below the bound). */
export function trainableTurnEmbeddings(seed: number): Record<keyof TurnEmbeddings, tf.Variable<tf.Rank.R2>> {
  const rng = new Rng(seed);
  const variable = () => tf.variable(tf.tensor2d(rng.normalArray(2 * 4), [2, 4]));
  return {
    referenceImage: variable(),
    modificationText: variable(),
    targetImage: variable(),
    referenceCaption: variable(),
    targetCaption: variable(),
  };
}
