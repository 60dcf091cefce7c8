import { Rng } from '@cir/core-tensor';
import { describe, expect, it } from 'vitest';
import { CATEGORY_ATTRIBUTES, type Product } from '../synthetic/attributes';
import { generateCatalog } from '../synthetic/catalog';
import { nearestProducts, similarGroups } from './similar-products';

const catalog = generateCatalog({ count: 1400, seed: 'similar' });

function hamming(first: Product, second: Product): number {
  return CATEGORY_ATTRIBUTES[first.category].filter(
    (name) => first.attributes[name] !== second.attributes[name],
  ).length;
}

describe('nearestProducts', () => {
  it('returns the seed, then distinct products of its category by increasing distance', () => {
    const seed = catalog[500]!;
    const nearest = nearestProducts(seed, catalog, 6, new Rng(1));
    expect(nearest[0]).toBe(seed);
    expect(new Set(nearest.map((product) => product.id)).size).toBe(6);
    const distances = nearest.map((product) => hamming(seed, product));
    expect(distances).toEqual([...distances].sort((first, second) => first - second));
    // No product left out is nearer than the farthest one kept.
    const kept = new Set(nearest.map((product) => product.id));
    const farthest = distances.at(-1)!;
    for (const product of catalog) {
      if (product.category === seed.category && !kept.has(product.id)) {
        expect(hamming(seed, product)).toBeGreaterThanOrEqual(farthest);
      }
    }
    for (const product of nearest) expect(product.category).toBe(seed.category);
  });

  it('returns fewer when the category is small', () => {
    const few = catalog.filter((product) => product.category === 'bag').slice(0, 3);
    expect(nearestProducts(few[0]!, few, 6, new Rng(1))).toHaveLength(3);
  });
});

describe('similarGroups', () => {
  it('draws groups only from categories large enough, and refuses when there are none', () => {
    const mixed = [
      ...catalog.filter((product) => product.category === 'bag').slice(0, 3),
      ...catalog.slice(0, 10),
    ];
    for (const group of similarGroups(mixed, 6, 20, new Rng(2))) {
      expect(group).toHaveLength(6);
      expect(group[0]!.category).toBe('shirt');
    }
    expect(() => similarGroups(mixed.slice(0, 3), 6, 1, new Rng(2))).toThrow(
      /no category has the 6 products/,
    );
  });
});
