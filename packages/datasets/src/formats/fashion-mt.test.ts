import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  fashionMtKind,
  loadFashionMtTransactions,
  loadIndexNames,
  numberedItems,
  parseRollback,
  ROLLBACK_PREFIXES,
} from './fashion-mt';

const root = fileURLToPath(new URL('./__fixtures__/fashion-mt/', import.meta.url));
const transactionsFile = join(root, 'Mini_test_cap.json');

describe('loadFashionMtTransactions', () => {
  it('throws on a transaction with an empty field, naming file and record', async () => {
    await expect(loadFashionMtTransactions(transactionsFile)).rejects.toThrow(
      `${transactionsFile} record 3: "mod2" must be a non-empty string`,
    );
  });

  it('keeps valid transactions and tells their kinds apart', async () => {
    const result = await loadFashionMtTransactions(transactionsFile, { mode: 'skip' });
    expect(result.records.map(fashionMtKind)).toEqual(['rollback', 'combination', 'plain']);
    expect(result.invalid.map((issue) => issue.location)).toEqual([{ record: 3 }]);
  });

  it('reads the gallery of index names', async () => {
    expect(await loadIndexNames(join(root, 'Mini_index_names.txt'))).toHaveLength(13);
  });
});

describe('parseRollback', () => {
  it.each([
    ['Compared to this one I prefer the FIRST, and 1. is red', 0, ROLLBACK_PREFIXES[0], '1. is red'],
    ['I would rather choose the SECOND, and 1. is red', 1, ROLLBACK_PREFIXES[1], '1. is red'],
    ['I prefer the THIRD, and  1. is red 2. is long', 2, ROLLBACK_PREFIXES[2], '1. is red 2. is long'],
    ['I like the FIRST better, and 1. has laces', 0, ROLLBACK_PREFIXES[3], '1. has laces'],
  ])('reads %j', (text, turn, prefix, rest) => {
    expect(parseRollback(text)).toEqual({ turn, prefix, rest });
  });

  it.each([
    ['a lower-case word', 'I prefer the first, and 1. is red'],
    ['no ", and"', 'I prefer the FIRST 1. is red'],
    ['an unknown prefix', 'I want the FIRST, and 1. is red'],
    ['a combination', "1. is red 2. keep the FIRST's collar design"],
  ])('does not read %s as a rollback', (_case, text) => {
    expect(parseRollback(text)).toBeUndefined();
  });
});

describe('fashionMtKind', () => {
  it('finds a numbered "keep the" item in any case', () => {
    expect(fashionMtKind({ mod3: "1. is red 2. is long 3. Keep The SECOND's sleeves" })).toBe('combination');
    expect(fashionMtKind({ mod3: '1. is red and keep the collar' })).toBe('plain');
  });
});

describe('numberedItems', () => {
  it('splits "1. … 2. … 3. …" into trimmed items', () => {
    expect(numberedItems('1.is red 2. is 2.5 inches longer  3. has a collar ')).toEqual([
      'is red',
      'is 2.5 inches longer',
      'has a collar',
    ]);
  });

  it('needs a space after the number of every item but the first', () => {
    expect(numberedItems('1. is red 2.is long')).toEqual(['is red 2.is long']);
  });

  it('finds nothing in unnumbered text', () => {
    expect(numberedItems('is a red dress')).toEqual([]);
  });
});
