import { checkGradients, initBackend, Rng, tf } from '@cir/core-tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  TINY_SIMILARITY_LOSS,
  tinyTurnEmbeddings,
  trainableTurnEmbeddings,
} from './__fixtures__/tiny-turn-embeddings';
import { naiveCrossModalLoss } from './naive-cross-modal-loss';
import { preFusionLoss } from './pre-fusion-loss';
import type { TurnEmbeddings } from './turn-embeddings';

beforeAll(async () => {
  await initBackend();
});

const value = (loss: tf.Tensor) => loss.dataSync()[0];

describe('preFusionLoss', () => {
  it('matches a hand computation (eq. 6)', () => {
    // Row 0: ([1, 1] + [0, 2])/4 = [.25, .75] · ([1/√2, 1/√2] + [1, 0])/2. Row 1: ([2, 0] + [1, 1])/4 · [.5, .5] = .5.
    const row0 = 0.25 * (Math.SQRT1_2 + 1) * 0.5 + 0.75 * Math.SQRT1_2 * 0.5;
    const preFusion = (1 - row0 + (1 - 0.5)) / 2;
    expect(value(preFusionLoss(tinyTurnEmbeddings()))).toBeCloseTo(TINY_SIMILARITY_LOSS + preFusion, 6);
  });

  it('is below L_naive by the modality-gap term of Proposition 1 (appendix 7.1) on random embeddings', () => {
    const rng = new Rng(1);
    const random = () => tf.tensor2d(rng.normalArray(6 * 5), [6, 5]);
    const embeddings: TurnEmbeddings = {
      referenceImage: random(),
      modificationText: random(),
      targetImage: random(),
      referenceCaption: random(),
      targetCaption: random(),
    };
    const unit = (x: tf.Tensor2D) => tf.div(x, tf.norm(x, 2, 1, true));
    const cosine = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.sum(tf.mul(unit(a), unit(b)), 1);
    const { referenceImage, targetImage, referenceCaption, targetCaption } = embeddings;
    const sameModality = tf.add(cosine(referenceImage, targetImage), cosine(referenceCaption, targetCaption));
    const crossModality = tf.add(
      cosine(referenceImage, targetCaption),
      cosine(referenceCaption, targetImage),
    );
    const gap = tf.div(tf.mean(tf.sub(sameModality, crossModality)), 8);
    expect(value(naiveCrossModalLoss(embeddings)) - value(preFusionLoss(embeddings))).toBeCloseTo(
      value(gap),
      5,
    );
  });

  it('gradient matches finite differences for every input', () => {
    const embeddings = trainableTurnEmbeddings(2);
    const result = checkGradients(() => preFusionLoss(embeddings), new Map(Object.entries(embeddings)));
    expect(result.maxRelativeError).toBeLessThan(1e-3);
  });
});
