import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCatalogFolder } from '@cir/server';
// The server's test world: a 210-picture catalog and a tiny trained mini encoder, made in a few seconds.
import { createTinyWorld, type TinyWorld } from '@cir/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-helpers';

let world: TinyWorld;
let dataDir: string;

beforeAll(async () => {
  world = await createTinyWorld();
  dataDir = await mkdtemp(join(tmpdir(), 'cir-cli-collections-'));
}, 120_000);

afterAll(async () => {
  await world?.dispose();
});

const common = () => ['--encoder', world.encoderDirectory, '--data-dir', dataDir];

describe('cir index build / list, cir query', () => {
  it('builds a collection from a catalog folder and answers one- and multi-turn queries', async () => {
    const built = await runCli(
      'index',
      'build',
      ...common(),
      '--catalog',
      world.catalog,
      '--name',
      'shop',
      '--json',
    );
    expect(built.error).toBeUndefined();
    const record = JSON.parse(built.stdout);
    // No --model: the zero-shot sum fusion is the default method.
    expect(record).toMatchObject({ name: 'shop', items: 210, method: 'sum', status: 'ready' });

    const listed = JSON.parse((await runCli('index', 'list', ...common(), '--json')).stdout);
    expect(listed.collections.map((collection: { name: string }) => collection.name)).toEqual(['shop']);
    expect(listed.collections[0]).toMatchObject({ status: 'ready', items: 210 });
    // Without an encoder, the list comes from the collection files alone.
    const stored = JSON.parse((await runCli('index', 'list', '--data-dir', dataDir, '--json')).stdout);
    expect(stored.collections).toEqual([
      { name: 'shop', method: 'sum', items: 210, builtAt: record.builtAt, status: 'stored' },
    ]);

    const reference = (await readCatalogFolder(world.catalog))[0]!.id;
    const twoTurns = [
      ...common(),
      ...['--collection', 'shop', '--reference', reference, '--text', 'is red', '--text', 'has long sleeves'],
      ...['--limit', '3', '--json'],
    ];
    const answered = await runCli('query', ...twoTurns);
    expect(answered.error).toBeUndefined();
    const output = JSON.parse(answered.stdout);
    expect(output.turns.map((turn: { turn: number }) => turn.turn)).toEqual([1, 2]);
    for (const turn of output.turns) {
      expect(turn.results).toHaveLength(3);
      expect(typeof turn.results[0].caption).toBe('string');
    }
    // The same query through `cir index query` gives the same answer (sum fusion is deterministic).
    const again = await runCli('index', 'query', ...twoTurns);
    expect(JSON.parse(again.stdout).turns).toEqual(output.turns);
  }, 120_000);

  it('says what is wrong, with exit code 2, for an unknown collection, reference, method or encoder folder', async () => {
    const unknownCollection = await runCli(
      'query',
      ...common(),
      '--collection',
      'nope',
      '--reference',
      'x',
      '--text',
      'red',
    );
    expect(unknownCollection.error?.exitCode).toBe(2);
    expect(unknownCollection.error?.message).toMatch(/no collection "nope"/);
    const unknownReference = await runCli(
      'query',
      ...common(),
      '--collection',
      'shop',
      '--reference',
      'nope',
      '--text',
      'red',
    );
    expect(unknownReference.error?.message).toMatch(/no item "nope"/);
    const unknownMethod = await runCli(
      'index',
      'build',
      ...common(),
      '--catalog',
      world.catalog,
      '--name',
      'other',
      '--method',
      'magic',
    );
    expect(unknownMethod.error?.message).toMatch(/unknown method "magic".*sum/);
    const missingEncoder = await runCli(
      'index',
      'list',
      '--encoder',
      join(dataDir, 'missing'),
      '--data-dir',
      dataDir,
    );
    expect(missingEncoder.error?.message).toMatch(/encoder folder .* does not exist/);
    const noDemo = await runCli('serve', '--demo', '--demo-dir', join(dataDir, 'no-demo'));
    expect(noDemo.error?.message).toMatch(/no finished demo: run `cir demo --out/);
  }, 120_000);
});
