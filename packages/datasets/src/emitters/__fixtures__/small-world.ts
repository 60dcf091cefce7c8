import { generateTransactions } from '../../mgf/transactions';
import { generateCatalog } from '../../synthetic/catalog';
import type { SyntheticWorld } from '../synthetic-world';

/**
 * A small world for emitter tests, rooted at `root` (no pictures are rendered: emitters only name them). Every fifth
 * product is held out for the test split.
 */
export function smallWorld(root: string, turns = 3): SyntheticWorld {
  const catalog = generateCatalog({ count: 700, seed: 'emitters' });
  const train = catalog.filter((_, index) => index % 5 !== 0);
  const test = catalog.filter((_, index) => index % 5 === 0);
  return {
    root,
    catalog,
    train: {
      products: train,
      transactions: generateTransactions(train, { count: 40, turns, seed: 1, idPrefix: 'train' }),
    },
    test: {
      products: test,
      transactions: generateTransactions(test, { count: 10, turns, seed: 2, idPrefix: 'test' }),
    },
    seed: 'emitters',
  };
}
