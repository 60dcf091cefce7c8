import { initBackend, tf } from '@cir/core-tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { normalizeEmbeddings } from './turn-embeddings';

beforeAll(async () => {
  await initBackend();
});

describe('normalizeEmbeddings', () => {
  it('normalises the requested embeddings only', () => {
    const embeddings = { referenceImage: tf.tensor2d([[3, 4]]), targetImage: tf.tensor2d([[0, 2]]) };
    const normalized = normalizeEmbeddings('test', embeddings, ['referenceImage']);
    expect(Object.keys(normalized)).toEqual(['referenceImage']);
    expect(Array.from(normalized.referenceImage.dataSync())).toEqual([
      expect.closeTo(0.6, 6),
      expect.closeTo(0.8, 6),
    ]);
  });

  it('rejects embeddings of different shapes, naming the culprit', () => {
    expect(() =>
      normalizeEmbeddings(
        'someLoss',
        { referenceImage: tf.zeros([2, 3]) as tf.Tensor2D, targetImage: tf.zeros([2, 4]) as tf.Tensor2D },
        ['referenceImage', 'targetImage'],
      ),
    ).toThrow('someLoss: targetImage is [2, 4], expected [2, 3]');
  });
});
