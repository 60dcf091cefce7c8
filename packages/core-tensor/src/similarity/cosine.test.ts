import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../backend';
import { Rng } from '../rng';
import { cosineMatrix, cosineSimilarityMatrix } from './cosine';

beforeAll(async () => {
  await initBackend();
});

describe('cosineMatrix', () => {
  it('gives hand-computed similarities and 0 for a zero row', () => {
    const a = new Float32Array([1, 0, 2, 2, 0, 0]);
    const b = new Float32Array([3, 0, 1, 1, 0, -5]);
    const similarity = cosineMatrix(a, 3, b, 3, 2);
    const expected = [1, Math.SQRT1_2, 0, Math.SQRT1_2, 1, -Math.SQRT1_2, 0, 0, 0].map(Math.fround);
    Array.from(similarity).forEach((value, i) => {
      expect(value).toBeCloseTo(expected[i], 6);
    });
  });

  it('handles dims that are not a multiple of the unroll width', () => {
    const rng = new Rng(3);
    const dim = 7;
    const a = rng.normalArray(4 * dim);
    const b = rng.normalArray(5 * dim);
    const similarity = cosineMatrix(a, 4, b, 5, dim);
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 5; j++) {
        let dot = 0;
        let aNorm = 0;
        let bNorm = 0;
        for (let d = 0; d < dim; d++) {
          dot += a[i * dim + d] * b[j * dim + d];
          aNorm += a[i * dim + d] ** 2;
          bNorm += b[j * dim + d] ** 2;
        }
        expect(similarity[i * 5 + j]).toBeCloseTo(dot / Math.sqrt(aNorm * bNorm), 5);
      }
    }
  });
});

describe('cosineSimilarityMatrix', () => {
  it('matches the typed-array version', () => {
    const rng = new Rng(4);
    const a = rng.normalArray(3 * 16);
    const b = rng.normalArray(6 * 16);
    const tensor = cosineSimilarityMatrix(tf.tensor2d(a, [3, 16]), tf.tensor2d(b, [6, 16]));
    expect(tensor.shape).toEqual([3, 6]);
    const expected = cosineMatrix(a, 3, b, 6, 16);
    Array.from(tensor.dataSync()).forEach((value, i) => {
      expect(value).toBeCloseTo(expected[i], 5);
    });
  });
});
