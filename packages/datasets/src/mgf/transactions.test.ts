import { describe, expect, it } from 'vitest';
import { fashionMtKind } from '../formats/fashion-mt';
import { CATEGORY_ATTRIBUTES, type Product } from '../synthetic/attributes';
import { generateCatalog } from '../synthetic/catalog';
import { attributeChanges, parseModification } from './modification-text';
import { generateTransactions } from './transactions';

const catalog = generateCatalog({ count: 3000, seed: 7 });
const byId = new Map(catalog.map((product) => [product.id, product]));

function hamming(first: Product, second: Product): number {
  return CATEGORY_ATTRIBUTES[first.category].filter(
    (name) => first.attributes[name] !== second.attributes[name],
  ).length;
}

describe('generateTransactions', () => {
  const transactions = generateTransactions(catalog, { count: 400, seed: 1 });

  it('chains turns + 1 distinct products of one category, each a near neighbour of the previous', () => {
    expect(transactions).toHaveLength(400);
    for (const transaction of transactions) {
      const products = transaction.productIds.map((id) => byId.get(id)!);
      expect(products).toHaveLength(4);
      expect(new Set(transaction.productIds).size).toBe(4);
      for (const product of products) expect(product.category).toBe(transaction.category);
      for (let turn = 1; turn < 3; turn++) {
        expect(hamming(products[turn - 1]!, products[turn]!)).toBeGreaterThanOrEqual(1);
        expect(hamming(products[turn - 1]!, products[turn]!)).toBeLessThanOrEqual(3);
      }
      if (transaction.rollbackTurn !== undefined) {
        expect(hamming(products[transaction.rollbackTurn]!, products[3]!)).toBeLessThanOrEqual(3);
      }
    }
  });

  it('writes texts that say exactly what changes, and a retrospective last text of the recorded kind', () => {
    for (const transaction of transactions) {
      const products = transaction.productIds.map((id) => byId.get(id)!);
      transaction.texts.slice(0, -1).forEach((text, turn) => {
        expect(parseModification(transaction.category, text)).toEqual({
          keeps: [],
          changes: attributeChanges(
            transaction.category,
            products[turn]!.attributes,
            products[turn + 1]!.attributes,
          ),
        });
      });
      const last = parseModification(transaction.category, transaction.texts[2]!);
      expect(last.rollbackTurn).toBe(transaction.rollbackTurn);
      expect(last.keeps).toEqual(transaction.keeps);
      expect(fashionMtKind({ mod3: transaction.texts[2]! })).toBe(transaction.kind);
      for (const keep of transaction.keeps) {
        expect(products[keep.turn]!.attributes[keep.attribute]).toBe(products[3]!.attributes[keep.attribute]);
        expect(products[2]!.attributes[keep.attribute]).not.toBe(products[3]!.attributes[keep.attribute]);
      }
      expect(transaction.kind === 'combination').toBe(transaction.keeps.length > 0);
    }
  });

  it('splits kinds by rollbackShare', () => {
    const count = (share: number) =>
      generateTransactions(catalog, { count: 50, seed: 2, rollbackShare: share }).filter(
        (transaction) => transaction.kind === 'rollback',
      ).length;
    expect(count(0.5)).toBe(25);
    expect(count(0.2)).toBe(10);
    expect(count(0)).toBe(0);
  });

  it('is a function of the seed', () => {
    const options = { count: 30, seed: 'same', idPrefix: 'test' };
    expect(generateTransactions(catalog, options)).toEqual(generateTransactions(catalog, options));
    expect(generateTransactions(catalog, options)[0]!.id).toBe('test-000000');
    expect(generateTransactions(catalog, { ...options, seed: 'other' })).not.toEqual(
      generateTransactions(catalog, options),
    );
  });

  it('builds two- and four-turn transactions', () => {
    for (const turns of [2, 4]) {
      for (const transaction of generateTransactions(catalog, { count: 40, turns, seed: 3 })) {
        expect(transaction.productIds).toHaveLength(turns + 1);
        expect(transaction.texts).toHaveLength(turns);
        for (const keep of transaction.keeps) expect(keep.turn).toBeLessThan(turns - 1);
        if (transaction.rollbackTurn !== undefined) expect(transaction.rollbackTurn).toBeLessThan(turns - 1);
      }
    }
  });

  it('still works on a sparse catalog, with the nearest products it has', () => {
    const sparse = generateCatalog({ count: 60, seed: 4 });
    expect(generateTransactions(sparse, { count: 30, seed: 5 })).toHaveLength(30);
  });

  it('rejects impossible requests', () => {
    expect(() => generateTransactions(catalog, { count: 1, turns: 1, seed: 1 })).toThrow(/turns must be/);
    expect(() => generateTransactions(catalog, { count: 1, turns: 5, seed: 1 })).toThrow(/turns must be/);
    expect(() => generateTransactions(catalog, { count: 1, seed: 1, rollbackShare: 2 })).toThrow(
      /rollbackShare/,
    );
    expect(() => generateTransactions(catalog.slice(0, 3), { count: 1, seed: 1 })).toThrow(
      /distinct products/,
    );
  });
});
