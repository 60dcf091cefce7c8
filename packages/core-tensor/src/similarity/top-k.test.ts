import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { javascriptScorer, onnxruntimeScorer } from './score-block';
import { topK } from './top-k';

/** Reference: score everything, sort by descending score then ascending index, pad with -1 / -Infinity. */
function bruteForceTopK(
  queries: Float32Array,
  queryCount: number,
  gallery: Float32Array,
  galleryCount: number,
  dim: number,
  k: number,
  exclude?: (queryIndex: number, galleryIndex: number) => boolean,
) {
  const indices = new Int32Array(queryCount * k).fill(-1);
  const scores = new Float32Array(queryCount * k).fill(-Infinity);
  for (let query = 0; query < queryCount; query++) {
    const candidates: { index: number; score: number }[] = [];
    for (let index = 0; index < galleryCount; index++) {
      if (exclude?.(query, index)) continue;
      let score = 0;
      for (let d = 0; d < dim; d++) score += queries[query * dim + d] * gallery[index * dim + d];
      candidates.push({ index, score: Math.fround(score) });
    }
    candidates.sort((x, y) => y.score - x.score || x.index - y.index);
    candidates.slice(0, k).forEach((candidate, rank) => {
      indices[query * k + rank] = candidate.index;
      scores[query * k + rank] = candidate.score;
    });
  }
  return { indices, scores };
}

/** Vectors with few distinct small-integer values, so many scores tie exactly in every summation order. */
const tiedVectors = (rng: Rng, length: number) => Float32Array.from({ length }, () => rng.int(3) - 1);

describe('topK', () => {
  it('matches a brute-force sort over several sizes and block sizes, with both scorers', async () => {
    const rng = new Rng(8);
    const cases = [
      { queryCount: 5, galleryCount: 50, dim: 8, k: 3, blockRows: 7 },
      { queryCount: 3, galleryCount: 10, dim: 5, k: 15, blockRows: 4 }, // k > galleryCount
      { queryCount: 17, galleryCount: 300, dim: 12, k: 10, blockRows: 64 },
      { queryCount: 2, galleryCount: 31, dim: 3, k: 31, blockRows: 1 },
      { queryCount: 4, galleryCount: 200, dim: 16, k: 5, blockRows: undefined },
    ];
    for (const { queryCount, galleryCount, dim, k, blockRows } of cases) {
      for (const vectors of [
        (length: number) => rng.normalArray(length),
        (length: number) => tiedVectors(rng, length),
      ]) {
        const queries = vectors(queryCount * dim);
        const gallery = vectors(galleryCount * dim);
        const expected = bruteForceTopK(queries, queryCount, gallery, galleryCount, dim, k);
        // The onnxruntime scorer twice: with its native block selection, and as a bare score function.
        const scorers = [
          { name: 'javascript', scorer: javascriptScorer },
          { name: 'onnxruntime+TopK', scorer: onnxruntimeScorer() },
          { name: 'onnxruntime scores', scorer: onnxruntimeScorer().scoreBlock },
        ];
        for (const { name, scorer } of scorers) {
          const result = await topK(queries, queryCount, gallery, galleryCount, dim, k, {
            blockRows,
            scorer,
          });
          const label = `${name} ${JSON.stringify({ queryCount, galleryCount, dim, k, blockRows })}`;
          expect(Array.from(result.indices), label).toEqual(Array.from(expected.indices));
          result.scores.forEach((score, i) => {
            if (Number.isFinite(expected.scores[i])) expect(score, label).toBeCloseTo(expected.scores[i], 4);
            else expect(score, label).toBe(-Infinity);
          });
        }
      }
    }
  });

  it('breaks ties toward the lower gallery index across blocks', async () => {
    const gallery = new Float32Array([1, 2, 2, 1, 2, 0, 2]);
    const result = await topK(new Float32Array([1]), 1, gallery, 7, 1, 4, { blockRows: 2 });
    expect(Array.from(result.indices)).toEqual([1, 2, 4, 6]);
    expect(Array.from(result.scores)).toEqual([2, 2, 2, 2]);
  });

  it('skips excluded candidates, such as the reference image in CIRR', async () => {
    const rng = new Rng(9);
    const dim = 6;
    const queries = rng.normalArray(4 * dim);
    const gallery = rng.normalArray(40 * dim);
    const references = [3, 17, 25, 39];
    const exclude = (queryIndex: number, galleryIndex: number) => references[queryIndex] === galleryIndex;
    const result = await topK(queries, 4, gallery, 40, dim, 40, { blockRows: 9, exclude });
    const expected = bruteForceTopK(queries, 4, gallery, 40, dim, 40, exclude);
    for (const scorer of [javascriptScorer, onnxruntimeScorer()]) {
      const small = await topK(queries, 4, gallery, 40, dim, 3, { blockRows: 20, exclude, scorer });
      const smallExpected = bruteForceTopK(queries, 4, gallery, 40, dim, 3, exclude);
      expect(Array.from(small.indices), scorer.name).toEqual(Array.from(smallExpected.indices));
    }
    expect(Array.from(result.indices)).toEqual(Array.from(expected.indices));
    for (let query = 0; query < 4; query++) {
      expect(result.indices[query * 40 + 39]).toBe(-1);
      expect(Array.from(result.indices.subarray(query * 40, query * 40 + 40))).not.toContain(
        references[query],
      );
    }
  });

  it('stays exact when exclude removes more candidates than the native selection margin', async () => {
    const rng = new Rng(10);
    const dim = 4;
    const queries = rng.normalArray(3 * dim);
    const gallery = rng.normalArray(200 * dim);
    const exclude = (_query: number, galleryIndex: number) => galleryIndex % 3 !== 0;
    const expected = bruteForceTopK(queries, 3, gallery, 200, dim, 5, exclude);
    const result = await topK(queries, 3, gallery, 200, dim, 5, {
      blockRows: 50,
      exclude,
      scorer: onnxruntimeScorer(),
    });
    expect(Array.from(result.indices)).toEqual(Array.from(expected.indices));
  });

  it('returns padded or empty results for empty inputs and rejects a bad k', async () => {
    const empty = await topK(new Float32Array(4), 2, new Float32Array(0), 0, 2, 3);
    expect(Array.from(empty.indices)).toEqual([-1, -1, -1, -1, -1, -1]);
    expect((await topK(new Float32Array(2), 1, new Float32Array(2), 1, 2, 0)).indices.length).toBe(0);
    await expect(topK(new Float32Array(2), 1, new Float32Array(2), 1, 2, 1.5)).rejects.toThrow(RangeError);
  });
});
