import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DirectoryReplaceStage } from '@cir/core-tensor';
import { EncoderMismatchError } from '@cir/encoders';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bruteForceSearch, expectSameHits, randomItems, randomQueries } from './__fixtures__/random-items';
import { ExactStore, loadExactStore } from './exact-store';
import { DuplicateIdError, InvalidItemError, StoreFormatError } from './store-errors';

const dim = 16;
const encoderId = 'test-encoder@1';

async function filledStore(count: number, seed = 1) {
  const items = randomItems(count, dim, seed);
  const store = new ExactStore({ encoderId, dim });
  await store.add(items);
  return { store, items };
}

describe('ExactStore search', () => {
  it('returns the brute-force top k with inner-product scores and metadata', async () => {
    const { store, items } = await filledStore(600);
    const queries = randomQueries(5, dim, 2);
    const results = await store.search(queries, 5, 10);
    expectSameHits(results, bruteForceSearch(items, queries, 5, 10));
    expect(results[0][0].metadata).toEqual(items.find((item) => item.id === results[0][0].id)?.metadata);
  });

  it('returns fewer hits when fewer items exist, and none from an empty store', async () => {
    const { store } = await filledStore(3);
    expect((await store.search(randomQueries(2, dim, 3), 2, 10)).map((hits) => hits.length)).toEqual([3, 3]);
    const empty = new ExactStore({ encoderId, dim });
    expect(await empty.search(randomQueries(2, dim, 3), 2, 10)).toEqual([[], []]);
  });

  it.each([
    ['selective (scores a copy of the matching rows)', { category: 'dress' }],
    ['broad (excludes the other rows)', { parity: 'even' }],
    ['on two keys', { category: 'dress', parity: 'odd' }],
  ])('applies a %s filter exactly', async (_, filter) => {
    const { store, items } = await filledStore(600);
    const queries = randomQueries(4, dim, 4);
    const results = await store.search(queries, 4, 10, { filter });
    const matches = (item: (typeof items)[number]) =>
      Object.entries(filter).every(([key, value]) => item.metadata?.[key] === value);
    expectSameHits(
      results,
      bruteForceSearch(items, queries, 4, 10, (_query, item) => matches(item)),
    );
  });

  it('drops excluded ids per query (lists or a predicate), together with a filter', async () => {
    const { store, items } = await filledStore(600);
    const queries = randomQueries(3, dim, 5);
    const filter = { category: 'shirt' };
    const firstPass = await store.search(queries, 3, 4, { filter });
    const excludeIds = firstPass.map((hits) => [hits[0].id, hits[2].id, 'unknown-id']);
    const keep = (query: number, item: (typeof items)[number]) =>
      item.metadata?.category === 'shirt' && !excludeIds[query].includes(item.id);
    const expected = bruteForceSearch(items, queries, 3, 4, keep);
    expectSameHits(await store.search(queries, 3, 4, { filter, excludeIds }), expected);
    const predicate = (query: number, id: string) => excludeIds[query].includes(id);
    expectSameHits(await store.search(queries, 3, 4, { filter, excludeIds: predicate }), expected);
  });

  it('rejects queries of the wrong shape or with NaN', async () => {
    const { store } = await filledStore(10);
    await expect(store.search(new Float32Array(dim + 1), 1, 5)).rejects.toThrow(/\[1, 16\]/);
    const queries = randomQueries(2, dim, 6);
    queries[dim + 3] = Number.NaN;
    await expect(store.search(queries, 2, 5)).rejects.toThrow(/query 1 has NaN at 3/);
    await expect(store.search(queries.subarray(0, dim), 1, 5, { excludeIds: [[], []] })).rejects.toThrow(
      /2 lists for 1 queries/,
    );
  });
});

describe('ExactStore add / upsert / delete', () => {
  it('refuses an existing id in add, naming it, and adds nothing of that batch', async () => {
    const { store, items } = await filledStore(5);
    const fresh = randomItems(7, dim, 9)[6];
    const error = await store.add([fresh, { ...items[2] }]).catch((caught) => caught);
    expect(error).toBeInstanceOf(DuplicateIdError);
    expect(error.message).toContain('"item-2"');
    expect(store.count()).toBe(5);
    expect(await store.get(fresh.id)).toBeUndefined();
  });

  it.each([
    [
      'a vector of the wrong length',
      { id: 'bad', vector: new Float32Array(dim - 1) },
      /"bad".*length 15.*dim 16/,
    ],
    ['a NaN', { id: 'bad', vector: new Float32Array(dim).fill(Number.NaN) }, /"bad".*vector\[0\] is NaN/],
    [
      'an infinite value',
      { id: 'bad', vector: new Float32Array(dim).fill(Number.POSITIVE_INFINITY) },
      /"bad".*Infinity/,
    ],
    ['an empty id', { id: '', vector: new Float32Array(dim) }, /non-empty/],
  ])('rejects %s with an error naming the item, changing nothing', async (_, badItem, message) => {
    const { store } = await filledStore(3);
    for (const operation of ['add', 'upsert'] as const) {
      const good = randomItems(5, dim, 11)[4];
      const error = await store[operation]([{ ...good, id: 'good' }, badItem]).catch((caught) => caught);
      expect(error).toBeInstanceOf(InvalidItemError);
      expect(error.message).toMatch(message);
      expect(store.count()).toBe(3);
    }
  });

  it('rejects an id given twice in one call', async () => {
    const store = new ExactStore({ encoderId, dim });
    const [item] = randomItems(1, dim, 12);
    await expect(store.upsert([item, item])).rejects.toThrow(/"item-0": appears more than once/);
  });

  it('upsert replaces existing items and inserts new ones', async () => {
    const { store, items } = await filledStore(20);
    const replacement = {
      id: 'item-4',
      vector: randomItems(1, dim, 13)[0].vector,
      metadata: { category: 'coat' },
    };
    const inserted = { id: 'new', vector: randomItems(1, dim, 14)[0].vector };
    await store.upsert([replacement, inserted]);
    expect(store.count()).toBe(21);
    expect(await store.get('item-4')).toEqual(replacement);
    expect(await store.get('new')).toEqual(inserted);
    const after = [...items.filter((item) => item.id !== 'item-4'), replacement, inserted];
    const queries = Float32Array.from([...replacement.vector, ...inserted.vector]);
    expectSameHits(await store.search(queries, 2, 5), bruteForceSearch(after, queries, 2, 5));
    expect((await store.search(inserted.vector, 1, 1, { filter: { category: 'coat' } }))[0][0].id).toBe(
      'item-4',
    );
  });

  it('delete returns how many ids existed and keeps the moved rows searchable', async () => {
    const { store, items } = await filledStore(50);
    expect(await store.delete(['item-3', 'missing', 'item-3', 'item-10'])).toBe(2);
    expect(await store.delete(['missing'])).toBe(0);
    expect(store.count()).toBe(48);
    expect(await store.get('item-3')).toBeUndefined();
    // item-49 and item-48 moved into the freed rows.
    expect(await store.get('item-49')).toEqual(items[49]);
    const remaining = items.filter((item) => item.id !== 'item-3' && item.id !== 'item-10');
    const queries = randomQueries(3, dim, 15);
    expectSameHits(await store.search(queries, 3, 8), bruteForceSearch(remaining, queries, 3, 8));
  });

  it('lets a search that started before a delete finish on the rows it started with', async () => {
    const { store, items } = await filledStore(300);
    const queries = randomQueries(2, dim, 16);
    const expected = bruteForceSearch(items, queries, 2, 10);
    const search = store.search(queries, 2, 10);
    const deletion = store.delete(expected.map((hits) => hits[0].id));
    expectSameHits(await search, expected);
    expect(await deletion).toBe(2);
  });
});

describe('ExactStore persistence', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'exact-store-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('round-trips vectors, ids and metadata', async () => {
    const { store, items } = await filledStore(200);
    await store.delete(['item-0']);
    await store.upsert([{ id: 'plain', vector: items[0].vector }]);
    const path = join(directory, 'gallery');
    await store.save(path);
    const loaded = await loadExactStore(path, { expectedEncoderId: encoderId });
    expect(loaded.count()).toBe(200);
    expect(await loaded.get('plain')).toEqual({ id: 'plain', vector: items[0].vector });
    expect(await loaded.get('item-7')).toEqual(items[7]);
    const queries = randomQueries(3, dim, 17);
    const filter = { category: 'bag' };
    expect(await loaded.search(queries, 3, 10, { filter })).toEqual(
      await store.search(queries, 3, 10, { filter }),
    );
  });

  it('round-trips an empty store', async () => {
    await new ExactStore({ encoderId, dim }).save(join(directory, 'empty'));
    expect((await loadExactStore(join(directory, 'empty'), { expectedEncoderId: encoderId })).count()).toBe(
      0,
    );
  });

  it('refuses to load for another encoder, or a directory that holds no store', async () => {
    const { store } = await filledStore(5);
    await store.save(join(directory, 'gallery'));
    const error = await loadExactStore(join(directory, 'gallery'), { expectedEncoderId: 'other@2' }).catch(
      (caught) => caught,
    );
    expect(error).toBeInstanceOf(EncoderMismatchError);
    expect(error.message).toContain('"test-encoder@1"');
    await expect(
      loadExactStore(join(directory, 'nothing'), { expectedEncoderId: encoderId }),
    ).rejects.toThrow(StoreFormatError);
  });

  it.each<[DirectoryReplaceStage, number]>([
    ['temporary-complete', 5],
    ['previous-moved-aside', 5],
    ['moved-into-place', 8],
  ])('a save killed after %s leaves a loadable store with %i items', async (stage, expectedCount) => {
    const path = join(directory, 'gallery');
    const { store } = await filledStore(5);
    await store.save(path);
    await store.upsert(randomItems(8, dim, 1).slice(5));
    const afterStage = (reached: DirectoryReplaceStage) => {
      if (reached === stage) throw new Error(`killed after ${stage}`);
    };
    await expect(store.save(path, { hooks: { afterStage } })).rejects.toThrow(/killed/);
    expect((await loadExactStore(path, { expectedEncoderId: encoderId })).count()).toBe(expectedCount);
    await store.save(path);
    expect(await readdir(directory)).toEqual(['gallery']);
    expect((await loadExactStore(path, { expectedEncoderId: encoderId })).count()).toBe(8);
  });
});
