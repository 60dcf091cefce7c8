import { describe, expect, it } from 'vitest';
import {
  ATTRIBUTE_VALUES,
  attributeKey,
  CATEGORIES,
  CATEGORY_ATTRIBUTES,
  categoryCapacity,
} from './attributes';
import { generateCatalog } from './catalog';

describe('generateCatalog', () => {
  it('spreads products evenly over the categories, the remainder going to the first ones', () => {
    const products = generateCatalog({ count: 23, seed: 1 });
    const counts = CATEGORIES.map(
      (category) => products.filter((product) => product.category === category).length,
    );
    expect(counts).toEqual([4, 4, 3, 3, 3, 3, 3]);
    expect(products[0]!.id).toBe('shirt-000000');
    expect(products.filter((product) => product.category === 'dress').map((product) => product.id)).toEqual([
      'dress-000000',
      'dress-000001',
      'dress-000002',
      'dress-000003',
    ]);
  });

  it('gives each product exactly one valid value per attribute of its category', () => {
    for (const product of generateCatalog({ count: 700, seed: 2 })) {
      const names = CATEGORY_ATTRIBUTES[product.category];
      expect(Object.keys(product.attributes).sort()).toEqual([...names].sort());
      for (const name of names) {
        expect(ATTRIBUTE_VALUES[name] as readonly string[]).toContain(product.attributes[name]);
      }
      expect(product.caption.length).toBeGreaterThan(0);
    }
  });

  it('never repeats an attribute combination, even at full capacity', () => {
    const capacity = categoryCapacity('pants');
    const products = generateCatalog({ count: capacity, seed: 3, categories: ['pants'] });
    const keys = new Set(products.map((product) => attributeKey(product.category, product.attributes)));
    expect(keys.size).toBe(capacity);
  });

  it('samples values uniformly', () => {
    const products = generateCatalog({ count: 3000, seed: 4, categories: ['dress'] });
    for (const name of CATEGORY_ATTRIBUTES.dress) {
      const values = ATTRIBUTE_VALUES[name];
      const expected = products.length / values.length;
      for (const value of values) {
        const observed = products.filter((product) => product.attributes[name] === value).length;
        // Five standard deviations of a binomial count: fails on a biased sampler, not on chance.
        expect(Math.abs(observed - expected)).toBeLessThan(5 * Math.sqrt(expected));
      }
    }
  });

  it('is deterministic for a seed and varies with it', () => {
    expect(generateCatalog({ count: 50, seed: 'a' })).toEqual(generateCatalog({ count: 50, seed: 'a' }));
    expect(generateCatalog({ count: 50, seed: 'a' })).not.toEqual(generateCatalog({ count: 50, seed: 'b' }));
  });

  it('keeps a category the same whatever other categories the catalog has, and only appends when it grows', () => {
    const alone = generateCatalog({ count: 10, seed: 5, categories: ['bag'] });
    const together = generateCatalog({ count: 20, seed: 5, categories: ['shoes', 'bag'] });
    expect(together.filter((product) => product.category === 'bag')).toEqual(alone);
    const larger = generateCatalog({ count: 25, seed: 5, categories: ['bag'] });
    expect(larger.slice(0, 10)).toEqual(alone);
  });

  it('refuses more products than a category can hold', () => {
    expect(() => generateCatalog({ count: 1801, seed: 6, categories: ['bag'] })).toThrow(
      /cannot generate 1801 bag products: its attributes allow only 1800 distinct ones/,
    );
    expect(() => generateCatalog({ count: -1, seed: 6 })).toThrow(RangeError);
  });
});
