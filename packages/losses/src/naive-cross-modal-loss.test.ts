import { checkGradients, initBackend, tf } from '@cir/core-tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  TINY_SIMILARITY_LOSS,
  tinyTurnEmbeddings,
  trainableTurnEmbeddings,
} from './__fixtures__/tiny-turn-embeddings';
import { naiveCrossModalLoss } from './naive-cross-modal-loss';

beforeAll(async () => {
  await initBackend();
});

describe('naiveCrossModalLoss', () => {
  it('matches a hand computation (eq. 5)', () => {
    // Row 0: ½([.5, .5]·c^t + ((c^r + m)/2 = [0, 1])·v^t) = ½(0.5 + 1/√2).
    // Row 1: ½([1, 0]·c^t + ((c^r + m)/2 = [.5, .5])·v^t) = ½(1 + 0.5).
    const crossModal = (1 - (0.5 + Math.SQRT1_2) / 2 + (1 - 0.75)) / 2;
    expect(naiveCrossModalLoss(tinyTurnEmbeddings()).dataSync()[0]).toBeCloseTo(
      TINY_SIMILARITY_LOSS + crossModal,
      6,
    );
  });

  it('gradient matches finite differences for every input', () => {
    const embeddings = trainableTurnEmbeddings(2);
    const result = checkGradients(() => naiveCrossModalLoss(embeddings), new Map(Object.entries(embeddings)));
    expect(result.maxRelativeError).toBeLessThan(1e-3);
  });

  it('rejects embeddings of different shapes', () => {
    const embeddings = { ...tinyTurnEmbeddings(), targetCaption: tf.zeros([2, 3]) as tf.Tensor2D };
    expect(() => naiveCrossModalLoss(embeddings)).toThrow(/targetCaption is \[2, 3\]/);
  });
});
