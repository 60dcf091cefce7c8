import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { readCatalogFolder } from '@cir/server';
// The server's test world: a 210-picture catalog and a tiny trained mini encoder, made in a few seconds.
import { createTinyWorld, type TinyWorld } from '@cir/server/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
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

  it('finds items by words with `cir index items`, from the collection files or, before the demo collection exists, the demo catalog', async () => {
    const ids = (await readCatalogFolder(world.catalog)).map((image) => image.id);
    const category = ids[0]!.split('-')[0]!;
    const inCategory = ids.filter((id) => id.startsWith(`${category}-`));
    expect(inCategory.length).toBeGreaterThan(1);
    expect(inCategory.length).toBeLessThan(ids.length);
    const items = async (...args: string[]) => {
      const run = await runCli('index', 'items', '--data-dir', dataDir, '--collection', 'shop', ...args);
      expect(run.error).toBeUndefined();
      return JSON.parse(run.stdout);
    };
    const found = await items('--find', category.toUpperCase(), '--limit', '500', '--json');
    expect(found).toMatchObject({
      collection: 'shop',
      find: category.toUpperCase(),
      total: inCategory.length,
      offset: 0,
    });
    expect(found.items.map((item: { id: string }) => item.id)).toEqual(inCategory);
    expect(typeof found.items[0].caption).toBe('string');
    expect(await items('--find', category, '--offset', '1', '--limit', '1', '--json')).toMatchObject({
      total: inCategory.length,
      offset: 1,
      items: [found.items[1]],
    });
    expect(await items('--find', 'no such product', '--json')).toMatchObject({ total: 0, items: [] });
    expect((await items('--json')).total).toBe(ids.length);
    // Without --json: the first line says what was found.
    const header = async (...args: string[]) =>
      (await runCli('index', 'items', '--data-dir', dataDir, '--collection', 'shop', ...args)).stdout.split(
        '\n',
      )[0];
    expect(await header('--find', ' - ')).toBe(`"shop": items 1–20 of ${ids.length}`);
    expect(await header('--find', category, '--limit', '2')).toBe(
      `"shop": items 1–2 of ${inCategory.length} matching "${category}"`,
    );

    const missing = await runCli('index', 'items', '--data-dir', dataDir, '--collection', 'nope');
    expect(missing.error?.exitCode).toBe(2);
    expect(missing.error?.message).toMatch(/no collection "nope" in .* \(it has: shop\)/);

    // A finished demo whose collection was never built: the ids come from its catalog folder.
    const demoDirectory = await mkdtemp(join(tmpdir(), 'cir-cli-demo-'));
    await writeFile(
      join(demoDirectory, 'demo.json'),
      JSON.stringify({
        world: world.catalog,
        encoder: world.encoderDirectory,
        model: '',
        report: '',
        quick: true,
      }),
    );
    const fromCatalog = await runCli(
      'index',
      'items',
      '--demo',
      '--demo-dir',
      demoDirectory,
      '--find',
      category,
      '--limit',
      '500',
      '--json',
    );
    expect(fromCatalog.error).toBeUndefined();
    const corrupt = await mkdtemp(join(tmpdir(), 'cir-cli-demo-'));
    await writeFile(join(corrupt, 'demo.json'), '{ world');
    const unreadable = await runCli('index', 'items', '--demo', '--demo-dir', corrupt);
    expect(unreadable.error?.exitCode).toBe(1);
    expect(unreadable.error?.message).toMatch(
      /demo\.json: not a demo manifest \(.*JSON.*\); run `cir demo` again/,
    );
    await writeFile(join(corrupt, 'demo.json'), '{}');
    expect((await runCli('index', 'items', '--demo', '--demo-dir', corrupt)).error?.message).toMatch(
      /demo\.json: "world" is missing/,
    );
    expect(JSON.parse(fromCatalog.stdout)).toMatchObject({
      collection: 'demo',
      dataDir: join(world.catalog, 'server'),
      total: inCategory.length,
      items: found.items,
    });
  }, 120_000);

  it('runs `cir query --interactive` from piped lines: find, ref, a turn, history, two errors, quit', async () => {
    const ids = (await readCatalogFolder(world.catalog)).map((image) => image.id);
    const category = ids[0]!.split('-')[0]!;
    const lines = [
      `find ${category}`,
      `ref ${ids[0]}`,
      'is red',
      '',
      'history',
      'ref nope',
      'find',
      'back two',
      'quit',
      'is blue',
    ];
    const stdin = Object.getOwnPropertyDescriptor(process, 'stdin')!;
    Object.defineProperty(process, 'stdin', {
      value: Readable.from([`${lines.join('\n')}\n`]),
      configurable: true,
    });
    // The prompts and errors go to stderr; runCli restores this spy with its own.
    let stderr = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += chunk.toString();
      return true;
    });
    let run: Awaited<ReturnType<typeof runCli>>;
    try {
      run = await runCli('query', ...common(), '--collection', 'shop', '--interactive', '--limit', '2');
    } finally {
      Object.defineProperty(process, 'stdin', stdin);
    }
    expect(run.error).toBeUndefined();
    const out = run.stdout.split('\n');
    const inCategory = ids.filter((id) => id.startsWith(`${category}-`));
    expect(out[0]).toBe(
      `${inCategory.length} items match "${category}", the first 2 (ref <id> starts from one):`,
    );
    expect(out[1]).toMatch(new RegExp(`^  ${inCategory[0]} `));
    expect(out[2]).toMatch(new RegExp(`^  ${inCategory[1]} `));
    // Every line after find was read, although they all arrived at once: one turn, its history, nothing after quit.
    expect(out[3]).toBe('turn 1:');
    expect(out.filter((line) => /^ +\d+\. \S+ +-?\d\.\d{3} /.test(line))).toHaveLength(2);
    expect(out).toContain(`  1. [${ids[0]}] is red`);
    // A bare "find" is a mistake, not a second turn's text.
    expect(run.stdout).not.toContain('turn 2');
    expect(stderr).toContain('error: no item "nope" in this collection: try find <words>');
    expect(stderr).toContain('error: usage: find <words>');
    expect(stderr).toContain('"two" is not a turn number');
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
    expect(unknownReference.error?.message).toMatch(/no item "nope" .*cir index items --find/);
    // --interactive checks its starting item too, before reading any line.
    const unknownStart = await runCli(
      'query',
      ...common(),
      ...['--collection', 'shop', '--reference', 'nope', '--interactive'],
    );
    expect(unknownStart.error?.exitCode).toBe(2);
    expect(unknownStart.error?.message).toMatch(/no item "nope"/);
    const reference = (await readCatalogFolder(world.catalog))[0]!.id;
    const shop = [...common(), '--collection', 'shop', '--reference', reference];
    for (const [args, message] of [
      [
        ['--interactive', '--text', 'red'],
        '--interactive reads its turns from the terminal: drop --text and --json',
      ],
      [
        ['--interactive', '--json'],
        '--interactive reads its turns from the terminal: drop --text and --json',
      ],
      [['--text', 'red', '--text', '  '], '--text is empty: describe a change'],
      [[], 'give at least one --text (or --interactive)'],
    ] as const) {
      const refused = await runCli('query', ...shop, ...args);
      expect(refused.error?.exitCode).toBe(2);
      expect(refused.error?.message).toBe(message);
    }
    const noWorld = await runCli('train', 'mai', '--data', join(dataDir, 'no-world'));
    expect(noWorld.error?.exitCode).toBe(2);
    expect(noWorld.error?.message).toMatch(/no-world does not exist: make a world with `cir data generate/);
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
    const build = (name: string) =>
      runCli('index', 'build', ...common(), '--catalog', world.catalog, '--name', name);
    const existing = await build('shop');
    expect(existing.error?.exitCode).toBe(2);
    expect(existing.error?.message).toMatch(
      /collection "shop" already exists in .*; add --replace to rebuild it/,
    );
    for (const name of ['', '..', '../escaped', 'Shop']) {
      const refused = await build(name);
      expect(refused.error?.exitCode).toBe(2);
      expect(refused.error?.message).toContain(`"${name}" is not a collection name`);
    }
    const listedAfter = JSON.parse((await runCli('index', 'list', '--data-dir', dataDir, '--json')).stdout);
    expect(listedAfter.collections.map((collection: { name: string }) => collection.name)).toEqual(['shop']);
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
