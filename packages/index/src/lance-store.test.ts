import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EncoderMismatchError } from '@cir/encoders';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  bruteForceSearch,
  expectSameHits,
  hitIds,
  randomItems,
  randomQueries,
} from './__fixtures__/random-items';
import {
  type BuildLanceStoreOptions,
  buildLanceStore,
  type LanceBuildStage,
  type LanceIndexOptions,
  LanceStore,
} from './lance-store';
import { DuplicateIdError, InvalidItemError } from './store-errors';
import type { SearchHit, VectorItem } from './vector-store';

const dim = 16;
const encoderId = 'test-encoder@1';
const options: BuildLanceStoreOptions = { encoderId, dim, metadataColumns: ['category', 'parity'] };

let directory: string;
let storePath: string;
const opened: LanceStore[] = [];

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'lance-store-'));
  storePath = join(directory, 'gallery');
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
  await rm(directory, { recursive: true, force: true });
});

async function build(items: readonly VectorItem[], extra: Partial<BuildLanceStoreOptions> = {}) {
  const store = await buildLanceStore(storePath, items, { ...options, ...extra });
  opened.push(store);
  return store;
}

async function open(expectedEncoderId = encoderId) {
  const store = await LanceStore.open(storePath, { expectedEncoderId });
  opened.push(store);
  return store;
}

function recall(actual: SearchHit[][], expected: SearchHit[][]): number {
  const found = actual.reduce(
    (total, hits, query) =>
      total + hits.filter((hit) => hitIds([expected[query]])[0].includes(hit.id)).length,
    0,
  );
  return found / expected.reduce((total, hits) => total + hits.length, 0);
}

describe('LanceStore search', () => {
  it('without an index returns the exact top k with inner-product scores and metadata', async () => {
    const items = randomItems(400, dim, 1);
    const store = await build(items);
    expect(store.index).toBeNull();
    const queries = randomQueries(5, dim, 2);
    const results = await store.search(queries, 5, 10);
    expectSameHits(results, bruteForceSearch(items, queries, 5, 10));
    expect(results[0][0].metadata).toEqual(items.find((item) => item.id === results[0][0].id)?.metadata);
  });

  it('filters on metadata columns, quoting values safely, and refuses undeclared keys', async () => {
    const items = randomItems(300, dim, 3);
    const store = await build(items);
    const queries = randomQueries(3, dim, 4);
    const filter = { category: 'dress', parity: 'odd' };
    const matches = (_query: number, item: VectorItem) =>
      item.metadata?.category === 'dress' && item.metadata.parity === 'odd';
    expectSameHits(
      await store.search(queries, 3, 5, { filter }),
      bruteForceSearch(items, queries, 3, 5, matches),
    );

    const quoted = { id: 'quoted', vector: items[0].vector, metadata: { category: "it's \\ 'x'" } };
    await store.upsert([quoted]);
    const hits = await store.search(quoted.vector, 1, 5, { filter: { category: quoted.metadata.category } });
    expect(hitIds(hits)).toEqual([['quoted']]);
    await expect(store.search(quoted.vector, 1, 5, { filter: { color: 'red' } })).rejects.toThrow(
      /"color" is not a metadata column of this store \(columns: category, parity\)/,
    );
  });

  it('drops excluded ids per query, asking for more candidates when the first batch runs short', async () => {
    const items = randomItems(300, dim, 5);
    const store = await build(items);
    const queries = randomQueries(2, dim, 6);
    const firstPass = await store.search(queries, 2, 25);
    const excludeIds = firstPass.map((hits) => hits.slice(0, 15).map((hit) => hit.id));
    const expected = bruteForceSearch(
      items,
      queries,
      2,
      10,
      (query, item) => !excludeIds[query].includes(item.id),
    );
    expectSameHits(await store.search(queries, 2, 10, { excludeIds }), expected);
    // A predicate starts with 2k candidates: excluding 15 forces a second round.
    const predicate = (query: number, id: string) => excludeIds[query].includes(id);
    expectSameHits(await store.search(queries, 2, 10, { excludeIds: predicate }), expected);
  });

  it('returns empty lists from an empty store and rejects malformed queries', async () => {
    const store = await build([]);
    expect(await store.search(randomQueries(2, dim, 7), 2, 5)).toEqual([[], []]);
    await expect(store.search(new Float32Array(dim).fill(Number.NaN), 1, 5)).rejects.toThrow(
      /query 0 has NaN/,
    );
  });
});

describe('LanceStore add / upsert / delete', () => {
  it('refuses an existing id in add, naming it, and adds nothing of that batch', async () => {
    const items = randomItems(10, dim, 8);
    const store = await build(items.slice(0, 5));
    const error = await store.add([items[7], items[2]]).catch((caught) => caught);
    expect(error).toBeInstanceOf(DuplicateIdError);
    expect(error.message).toContain('"item-2"');
    expect(store.count()).toBe(5);
    expect(await store.get('item-7')).toBeUndefined();
    await store.add(items.slice(5));
    expect(store.count()).toBe(10);
    expect(await store.get('item-7')).toEqual(items[7]);
  });

  it('rejects a bad vector with an error naming the item', async () => {
    const store = await build(randomItems(3, dim, 9));
    const nan = { id: 'bad', vector: new Float32Array(dim).fill(Number.NaN) };
    await expect(store.upsert([nan])).rejects.toThrow(InvalidItemError);
    await expect(store.add([{ id: 'short', vector: new Float32Array(3) }])).rejects.toThrow(
      /"short".*length 3/,
    );
    expect(store.count()).toBe(3);
  });

  it('upsert replaces existing items and inserts new ones; delete counts what existed', async () => {
    const items = randomItems(20, dim, 10);
    const store = await build(items);
    const replacement = {
      id: 'item-4',
      vector: randomItems(1, dim, 11)[0].vector,
      metadata: { category: 'coat' },
    };
    const inserted = { id: 'new', vector: randomItems(1, dim, 12)[0].vector };
    await store.upsert([replacement, inserted]);
    expect(store.count()).toBe(21);
    expect(await store.get('item-4')).toEqual(replacement);
    expect(await store.get('new')).toEqual(inserted);
    expect(hitIds(await store.search(inserted.vector, 1, 1, { filter: { category: 'coat' } }))).toEqual([
      ['item-4'],
    ]);

    expect(await store.delete(['item-1', 'missing', 'item-1', 'new'])).toBe(2);
    expect(await store.delete(['missing'])).toBe(0);
    expect(store.count()).toBe(19);
    const remaining = [...items.filter((item) => item.id !== 'item-1' && item.id !== 'item-4'), replacement];
    const queries = randomQueries(2, dim, 13);
    expectSameHits(await store.search(queries, 2, 30), bruteForceSearch(remaining, queries, 2, 30));
  });
});

describe('LanceStore persistence and index', () => {
  it('reopens with its contents, and refuses another encoder', async () => {
    const items = randomItems(50, dim, 14);
    const built = await build(items);
    await built.delete(['item-0']);
    const reopened = await open();
    expect(reopened.count()).toBe(49);
    expect(await reopened.get('item-9')).toEqual(items[9]);
    const error = await LanceStore.open(storePath, { expectedEncoderId: 'other@2' }).catch(
      (caught) => caught,
    );
    expect(error).toBeInstanceOf(EncoderMismatchError);
    expect(error.message).toContain('"test-encoder@1"');
  });

  it.each<[LanceIndexOptions, { nprobes?: number; refineFactor?: number; ef?: number }, number]>([
    [{ type: 'ivf-flat', numPartitions: 4 }, { nprobes: 4 }, 1],
    [{ type: 'ivf-pq', numPartitions: 4, numSubVectors: 2 }, { nprobes: 4, refineFactor: 10 }, 0.8],
    [{ type: 'ivf-hnsw-sq', numPartitions: 1 }, { nprobes: 1, ef: 100 }, 0.9],
  ])('builds a %o index and searches it with its parameters', async (index, search, minimumRecall) => {
    const items = randomItems(2000, dim, 15);
    const store = await build(items, { index, search });
    expect(await readdir(join(storePath, 'items.lance', '_indices'))).toHaveLength(1);
    expect(store.searchParameters).toEqual(search);
    const queries = randomQueries(20, dim, 16);
    const results = await store.search(queries, 20, 10);
    expect(recall(results, bruteForceSearch(items, queries, 20, 10))).toBeGreaterThanOrEqual(minimumRecall);
  });
});

describe('buildLanceStore atomicity', () => {
  const previous = randomItems(5, dim, 17);

  it.each<[LanceBuildStage, number]>([
    ['table-written', 5],
    ['temporary-complete', 5],
    ['previous-moved-aside', 5],
    ['moved-into-place', 8],
  ])('a build that throws after %s leaves a store with %i items', async (stage, expectedCount) => {
    await (await build(previous)).close();
    const afterStage = (reached: LanceBuildStage) => {
      if (reached === stage) throw new Error(`killed after ${stage}`);
    };
    await expect(build(randomItems(8, dim, 18), { hooks: { afterStage } })).rejects.toThrow(/killed/);
    const store = await open();
    expect(store.count()).toBe(expectedCount);
    expect(await store.get(expectedCount === 5 ? 'item-4' : 'item-7')).toBeDefined();
    await store.close();
    await build(randomItems(3, dim, 19));
    expect(await readdir(directory)).toEqual(['gallery']);
  });

  it.each<[LanceBuildStage, string]>([
    ['table-written', 'item-0'],
    ['previous-moved-aside', 'item-0'],
    ['moved-into-place', 'new-0'],
  ])('a build process killed with SIGKILL at %s leaves a store holding %s', async (stage, expectedId) => {
    await (await build(previous)).close();
    const child = spawn(
      process.execPath,
      [
        fileURLToPath(new URL('./__fixtures__/build-lance-store-child.mjs', import.meta.url)),
        storePath,
        stage,
        '30',
        String(dim),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
    let output = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        output += chunk;
        if (output.includes(`stopped at ${stage}`)) resolve();
      });
      child.on('exit', () => reject(new Error(`child exited before ${stage}: ${output}`)));
    });
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const store = await open();
    expect(store.count()).toBe(expectedId === 'item-0' ? 5 : 30);
    expect(await store.get(expectedId)).toBeDefined();
  });
});
