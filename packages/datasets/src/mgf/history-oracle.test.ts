import { Rng } from '@cir/core-tensor';
import { describe, expect, it } from 'vitest';
import { generateCatalog } from '../synthetic/catalog';
import { historyReport } from './history-oracle';
import { attributeChanges, modificationText } from './modification-text';
import { generateTransactions, type Transaction } from './transactions';

const catalog = generateCatalog({ count: 3000, seed: 11 });

describe('historyReport', () => {
  it('finds that generated targets need the history: the last turn alone fails, the full history succeeds', () => {
    const report = historyReport(generateTransactions(catalog, { count: 1000, seed: 12 }), catalog);
    expect(report.rollback.count + report.combination.count).toBe(1000);
    for (const rates of [report.rollback, report.combination]) {
      expect(rates.count).toBeGreaterThan(0);
      expect(rates.lastTurnOnlyRate).toBeLessThanOrEqual(0.7);
      expect(rates.fullHistoryRate).toBeGreaterThanOrEqual(0.95);
      expect(rates.lastTurnOnlyRate).toBe(rates.lastTurnOnlyIdentified / rates.count);
    }
  });

  it('counts a last text that ignores the history as identified from the last turn alone', () => {
    const [first, second, third, target] = catalog.filter((product) => product.category === 'dress');
    const ids = [first!, second!, third!, target!].map((product) => product.id);
    const rng = new Rng(1);
    const plain = (from: typeof first, to: typeof first) =>
      modificationText(
        'dress',
        { keeps: [], changes: attributeChanges('dress', from!.attributes, to!.attributes) },
        rng,
      );
    const transaction: Transaction = {
      id: 'plain',
      kind: 'combination',
      category: 'dress',
      productIds: ids,
      texts: [plain(first, second), plain(second, third), plain(third, target)],
      keeps: [],
    };
    expect(historyReport([transaction], catalog).combination).toEqual({
      count: 1,
      lastTurnOnlyIdentified: 1,
      fullHistoryIdentified: 1,
      lastTurnOnlyRate: 1,
      fullHistoryRate: 1,
    });
  });

  it('names a product that is not in the catalog', () => {
    const [transaction] = generateTransactions(catalog, { count: 1, seed: 1 });
    expect(() => historyReport([transaction!], catalog.slice(0, 10))).toThrow(/not in the catalog/);
  });
});
