import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectError, expectHealthy, waitUntilBuilt } from './__fixtures__/requests';
import type { StallStage } from './__fixtures__/stalled-rebuild';
import { createTinyWorld, type TinyWorld } from './__fixtures__/tiny-world';
import { multipart, solidPng } from './__fixtures__/uploads';
import { CollectionRegistry } from './collections';
import { type CirServer, createServer } from './server';

let world: TinyWorld;
/** A data folder holding collection "shop" (the world's 210 items), built once and copied per test. */
let template: string;
let builtAt: string;
let dataDir: string;
const servers: CirServer[] = [];

beforeAll(async () => {
  world = await createTinyWorld();
  template = await mkdtemp(join(tmpdir(), 'cir-server-template-'));
  const app = await createServer({ dataDir: template, provider: world.provider });
  await app.inject({
    method: 'POST',
    url: '/v1/collections',
    payload: { name: 'shop', catalog: world.catalog },
  });
  const record = await waitUntilBuilt(app, 'shop');
  expect(record.status).toBe('ready');
  builtAt = record.builtAt;
  await app.close();
});

afterAll(async () => {
  await rm(template, { recursive: true, force: true });
  await world?.dispose();
});

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cir-server-data-'));
  await cp(template, dataDir, { recursive: true });
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await rm(dataDir, { recursive: true, force: true });
});

async function start(): Promise<CirServer> {
  const server = await createServer({ dataDir, provider: world.provider });
  servers.push(server);
  return server;
}

/** The previous state is served: same items, same build time, and a turn from one of its items works. */
async function expectPreviousState(app: CirServer): Promise<void> {
  const record = (await app.inject({ method: 'GET', url: '/v1/collections/shop' })).json();
  expect(record).toEqual({ name: 'shop', method: 'mai', items: 210, status: 'ready', builtAt });
  const items = (await app.inject({ method: 'GET', url: '/v1/collections/shop/items?limit=500' })).json();
  expect(items.items.some((item: { id: string }) => item.id === 'late')).toBe(false);
  const session = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { collection: 'shop' } });
  const turn = await app.inject({
    method: 'POST',
    url: `/v1/sessions/${session.json().id}/turns`,
    payload: { referenceId: items.items[7].id, text: 'in red' },
  });
  expect(turn.statusCode).toBe(200);
  expect(turn.json().results).toHaveLength(10);
  const image = await app.inject({ method: 'GET', url: turn.json().results[0].imageUrl });
  expect(image.statusCode).toBe(200);
}

describe('persistence', () => {
  it('reloads every collection after a restart and serves it', async () => {
    await expectPreviousState(await start());
  });

  it('deletes at start the folders kept for the sessions of a replaced state (sessions end with the process)', async () => {
    const collections = join(dataDir, 'collections');
    // One of a served collection, and one left by a collection deleted while its sessions remained.
    await cp(join(collections, 'shop'), join(collections, 'shop.retired-abc'), { recursive: true });
    await cp(join(collections, 'shop'), join(collections, 'gone.retired-abc'), { recursive: true });
    expect(await CollectionRegistry.readStored(dataDir)).toEqual([
      { name: 'shop', method: 'mai', items: 210, builtAt },
    ]);
    const app = await start();
    expect(await readdir(collections)).toEqual(['shop']);
    await expectPreviousState(app);
  });

  it('reads a stored collection and its items from the files alone (no model), naming what is missing', async () => {
    expect(await CollectionRegistry.readStored(dataDir)).toEqual([
      { name: 'shop', method: 'mai', items: 210, builtAt },
    ]);
    const items = await CollectionRegistry.readStoredItems(dataDir, 'shop');
    expect(items).toHaveLength(210);
    expect(items[0]).toEqual({
      id: expect.any(String),
      caption: expect.any(String),
      image: `images/${items[0]!.id}.png`,
    });
    await expect(CollectionRegistry.readStoredItems(dataDir, 'absent')).rejects.toThrow(
      join(dataDir, 'collections', 'absent', 'collection.json'),
    );
    const file = join(dataDir, 'collections', 'broken', 'collection.json');
    await mkdir(join(dataDir, 'collections', 'broken'));
    await writeFile(file, '{ "name": ');
    const broken = (await CollectionRegistry.readStored(dataDir)).find((stored) => stored.name === 'broken')!;
    expect(broken).toMatchObject({ method: 'unknown', items: 0 });
    // One line, naming the file once.
    expect(broken.error!.split(file)).toHaveLength(2);
    expect(broken.error).not.toContain('\n');
    await expect(CollectionRegistry.readStoredItems(dataDir, '../shop')).rejects.toThrow(
      /"\.\.\/shop" is not a collection name/,
    );
  });

  it('refuses a name that is not a collection name from a library caller too, writing nothing', async () => {
    const app = await start();
    const before = await readdir(dataDir);
    for (const name of ['', '..', '../escaped', 'a/b', 'Shop', 'a b', '.hidden']) {
      await expect(app.collections.createFromCatalog({ name, catalog: world.catalog })).rejects.toThrow(
        `"${name}" is not a collection name`,
      );
      expect(() => app.collections.addImages(name, { directory: dataDir, images: [] })).toThrow(
        `"${name}" is not a collection name`,
      );
    }
    expect(await readdir(dataDir)).toEqual(before);
    expect(await readdir(join(dataDir, 'collections'))).toEqual(['shop']);
    await expectPreviousState(app);
  });

  it('reports a collection folder that cannot be loaded as failed, and serves the others', async () => {
    await cp(join(dataDir, 'collections', 'shop'), join(dataDir, 'collections', 'broken'), {
      recursive: true,
    });
    await writeFile(join(dataDir, 'collections', 'broken', 'collection.json'), '{"name": "broken", ');
    await cp(join(dataDir, 'collections', 'shop'), join(dataDir, 'collections', 'emptied'), {
      recursive: true,
    });
    await rm(join(dataDir, 'collections', 'emptied', 'retriever'), { recursive: true });
    const app = await start();
    const { collections } = (await app.inject({ method: 'GET', url: '/v1/collections' })).json();
    expect(
      collections.map((collection: { name: string; status: string }) => [collection.name, collection.status]),
    ).toEqual([
      ['broken', 'failed'],
      ['emptied', 'failed'],
      ['shop', 'ready'],
    ]);
    expect(collections[0].error).toMatch(/cannot load .*broken/);
    expectError(
      await app.inject({ method: 'POST', url: '/v1/sessions', payload: { collection: 'broken' } }),
      409,
      /no usable state/,
    );
    await expectHealthy(app);
    await expectPreviousState(app);
    // Rebuilding a failed collection from its own images repairs it.
    const upload = await multipart([{ name: 'extra.png', bytes: await solidPng(32, [9, 9, 9]) }]);
    await app.inject({ method: 'POST', url: '/v1/collections/emptied/images', ...upload });
    expect(await waitUntilBuilt(app, 'emptied')).toMatchObject({ status: 'ready', items: 211 });
    // One whose collection.json cannot be read has lost its item table: the upload alone, with the default method.
    await app.inject({ method: 'POST', url: '/v1/collections/broken/images', ...upload });
    expect(await waitUntilBuilt(app, 'broken')).toMatchObject({ status: 'ready', items: 1 });
  });

  it('puts back the previous folder when a swap was interrupted between its two renames', async () => {
    const collections = join(dataDir, 'collections');
    await rename(join(collections, 'shop'), join(collections, 'shop.old-0123456789ab'));
    await mkdir(join(collections, 'shop.tmp-ba9876543210', 'images'), { recursive: true });
    const app = await start();
    await expectPreviousState(app);
    expect(await readdir(collections)).toEqual(['shop']);
  });

  it.each<StallStage>(['saved'])(
    'a server killed with SIGKILL mid-rebuild (%s) restarts on the previous state',
    async (stage) => {
      const child = spawn(
        process.execPath,
        [
          fileURLToPath(new URL('./__fixtures__/stalled-rebuild-child.mjs', import.meta.url)),
          dataDir,
          world.encoderDirectory,
          stage,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
      let output = '';
      child.stderr.on('data', (chunk) => {
        output += chunk;
      });
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk) => {
          output += chunk;
          if (output.includes(`stalled at ${stage}`)) resolve();
        });
        child.on('exit', () => reject(new Error(`the child exited before stalling: ${output}`)));
      });
      expect(output).toContain('rebuild started');
      // The build's temporary folder is there, half done.
      expect(
        (await readdir(join(dataDir, 'collections'))).some((entry) => entry.startsWith('shop.tmp-')),
      ).toBe(true);
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');

      const app = await start();
      await expectPreviousState(app);
      expect(await readdir(join(dataDir, 'collections'))).toEqual(['shop']);
      expect(await readdir(dataDir)).toEqual(['collections']);
    },
  );
});
