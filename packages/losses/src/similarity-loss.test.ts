import { checkGradients, initBackend } from '@cir/core-tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  TINY_SIMILARITY_LOSS,
  tinyTurnEmbeddings,
  trainableTurnEmbeddings,
} from './__fixtures__/tiny-turn-embeddings';
import { similarityLoss } from './similarity-loss';

beforeAll(async () => {
  await initBackend();
});

describe('similarityLoss', () => {
  it('matches a hand computation (eq. 4)', () => {
    expect(similarityLoss(tinyTurnEmbeddings()).dataSync()[0]).toBeCloseTo(TINY_SIMILARITY_LOSS, 6);
  });

  it('gradient matches finite differences', () => {
    const { referenceImage, modificationText, targetImage } = trainableTurnEmbeddings(2);
    const variables = new Map(Object.entries({ referenceImage, modificationText, targetImage }));
    const result = checkGradients(
      () => similarityLoss({ referenceImage, modificationText, targetImage }),
      variables,
    );
    expect(result.maxRelativeError).toBeLessThan(1e-3);
  });
});
