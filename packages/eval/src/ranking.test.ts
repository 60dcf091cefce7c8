import { javascriptScorer, Rng } from '@cir/core-tensor';
import { describe, expect, it } from 'vitest';
import { targetRanks } from './ranking';

function bruteForceRank(
  queries: Float32Array,
  gallery: Float32Array,
  dim: number,
  query: number,
  target: number,
  excluded: number,
) {
  const norm = (data: Float32Array, row: number) => Math.hypot(...data.subarray(row * dim, (row + 1) * dim));
  const score = (row: number) => {
    let dot = 0;
    for (let d = 0; d < dim; d++) dot += queries[query * dim + d]! * gallery[row * dim + d]!;
    return dot / (norm(queries, query) * norm(gallery, row));
  };
  const targetScore = score(target);
  let rank = 0;
  for (let row = 0; row < gallery.length / dim; row++) {
    if (row !== target && row !== excluded && score(row) > targetScore) rank++;
  }
  return rank;
}

describe('targetRanks', () => {
  it('matches a brute-force count over several blocks, with and without an excluded item', async () => {
    const rng = new Rng(3);
    const dim = 8;
    const queries = rng.normalArray(20 * dim);
    const gallery = rng.normalArray(101 * dim);
    const targets = Int32Array.from({ length: 20 }, () => rng.int(101));
    const exclude = Int32Array.from({ length: 20 }, (_value, query) => (query % 3 === 0 ? -1 : rng.int(101)));
    for (const scorer of [undefined, javascriptScorer.scoreBlock]) {
      const { ranks } = await targetRanks(queries, 20, gallery, 101, dim, targets, {
        exclude,
        blockRows: 17,
        scorer,
      });
      for (let query = 0; query < 20; query++) {
        expect(ranks[query]).toBe(
          bruteForceRank(queries, gallery, dim, query, targets[query]!, exclude[query]!),
        );
      }
    }
  });

  it('gives -1 without a target and the gallery size when the target itself is excluded', async () => {
    const gallery = Float32Array.of(1, 0, 0, 1, 1, 1);
    const { ranks } = await targetRanks(Float32Array.of(1, 0, 0, 1), 2, gallery, 3, 2, Int32Array.of(-1, 1), {
      exclude: Int32Array.of(-1, 1),
    });
    expect(Array.from(ranks)).toEqual([-1, 3]);
  });
});
