import { l2NormalizeInPlace, Rng } from '@cir/core-tensor';
import { expect } from 'vitest';
import type { SearchHit, VectorItem } from '../vector-store';

const categories = ['shirt', 'dress', 'pants', 'shoes', 'bag'];

/** `count` items with normalised random vectors; item i has category categories[i % 5] and parity even/odd. */
export function randomItems(count: number, dim: number, seed: number): VectorItem[] {
  const vectors = l2NormalizeInPlace(new Rng(seed).normalArray(count * dim), count, dim);
  return Array.from({ length: count }, (_, index) => ({
    id: `item-${index}`,
    vector: vectors.slice(index * dim, (index + 1) * dim),
    metadata: { category: categories[index % categories.length], parity: index % 2 === 0 ? 'even' : 'odd' },
  }));
}

/** [count, dim] normalised random queries. */
export function randomQueries(count: number, dim: number, seed: number): Float32Array {
  return l2NormalizeInPlace(new Rng(seed).normalArray(count * dim), count, dim);
}

/** Reference search: every item scored in float64, sorted by score. */
export function bruteForceSearch(
  items: readonly VectorItem[],
  queries: Float32Array,
  queryCount: number,
  k: number,
  keep: (queryIndex: number, item: VectorItem) => boolean = () => true,
): SearchHit[][] {
  const dim = queries.length / queryCount;
  return Array.from({ length: queryCount }, (_, query) =>
    items
      .filter((item) => keep(query, item))
      .map((item) => {
        let score = 0;
        for (let index = 0; index < dim; index++) score += item.vector[index] * queries[query * dim + index];
        return { id: item.id, score };
      })
      .sort((left, right) => right.score - left.score)
      .slice(0, k),
  );
}

export function hitIds(results: SearchHit[][]): string[][] {
  return results.map((hits) => hits.map((hit) => hit.id));
}

/** Same ids in the same order, and scores equal to 5 decimals. */
export function expectSameHits(actual: SearchHit[][], expected: SearchHit[][]): void {
  expect(hitIds(actual)).toEqual(hitIds(expected));
  for (const [query, hits] of actual.entries()) {
    for (const [rank, hit] of hits.entries()) expect(hit.score).toBeCloseTo(expected[query][rank].score, 5);
  }
}
