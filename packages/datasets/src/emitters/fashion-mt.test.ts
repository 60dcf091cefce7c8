import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fashionMtKind, loadFashionMtTransactions, loadIndexNames } from '../formats/fashion-mt';
import { smallWorld } from './__fixtures__/small-world';
import { emitFashionMt } from './fashion-mt';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'emit-fashion-mt-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('emitFashionMt', () => {
  it('round-trips through the FashionMT loaders', async () => {
    const world = smallWorld(root);
    const folder = join(root, 'fashionmt');
    const emission = await emitFashionMt(world, folder);
    const [trainFile, testFile, indexFile] = emission.files as [string, string, string];
    expect((await loadFashionMtTransactions(trainFile)).records).toEqual(emission.train);
    expect((await loadFashionMtTransactions(testFile)).records).toEqual(emission.test);
    expect(await loadIndexNames(indexFile)).toEqual(emission.indexNames);
    expect(emission.train).toHaveLength(40);
    expect(emission.indexNames).toHaveLength(world.catalog.length);
  });

  it('writes paths into the gallery, captions of the named images and the kinds the loader infers', async () => {
    const world = smallWorld(root);
    const emission = await emitFashionMt(world, join(root, 'fashionmt'));
    const [first] = emission.train;
    const transaction = world.train.transactions[0]!;
    expect(first!.ref).toBe(`../images/${transaction.productIds[0]}.png`);
    expect(first!.cap3).toBe(
      world.catalog.find((product) => product.id === transaction.productIds[3])!.caption,
    );
    const gallery = new Set(emission.indexNames);
    for (const record of [...emission.train, ...emission.test]) {
      for (const image of [record.ref, record.tar1, record.tar2, record.tar3])
        expect(gallery.has(image)).toBe(true);
    }
    expect(emission.train.map(fashionMtKind)).toEqual(world.train.transactions.map((entry) => entry.kind));
  });

  it('refuses transactions of another length', async () => {
    await expect(emitFashionMt(smallWorld(root, 2), join(root, 'two-turns'))).rejects.toThrow(/3 turns/);
  });
});
