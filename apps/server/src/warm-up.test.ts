import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyShop, type TinyShop, type TinyWorld } from './__fixtures__/tiny-world';
import { solidPng } from './__fixtures__/uploads';
import type { CirServer } from './server';
import { warmUp } from './warm-up';

let shop: TinyShop;
let world: TinyWorld;
let app: CirServer;
let dataDir: string;

beforeAll(async () => {
  shop = await createTinyShop({ token: 't0k' });
  ({ world, app, dataDir } = shop);
}, 120_000);

afterAll(async () => {
  await shop?.dispose();
});

describe('warmUp', () => {
  it('runs every session’s turns through each ready collection and deletes its sessions', async () => {
    const report = await warmUp(app, { sessions: 3, turns: 4, token: 't0k' });
    expect(report.error).toBeUndefined();
    expect(report.collections).toEqual(['shop']);
    expect(report.turns).toBe(12);
    expect(report.ms).toBeGreaterThan(0);
    expect(app.sessions.count()).toBe(0);
  }, 60_000);

  it('waits until the retriever is ready before its first session', async () => {
    const { retriever } = app.collections.servedForSession('shop');
    const events: string[] = [];
    const openSession = retriever.openSession.bind(retriever);
    retriever.whenReady = () =>
      new Promise<void>((resolve) => setTimeout(resolve, 30)).then(() => {
        events.push('ready');
      });
    retriever.openSession = () => {
      events.push('session');
      return openSession();
    };
    try {
      const report = await warmUp(app, { sessions: 2, turns: 1, token: 't0k' });
      expect(report.error).toBeUndefined();
      expect(events).toEqual(['ready', 'session', 'session']);
    } finally {
      delete retriever.whenReady;
      retriever.openSession = openSession;
    }
  });

  it('reports a failure instead of throwing, and leaves no session behind', async () => {
    const refused = await warmUp(app, { sessions: 2, turns: 2, token: 'wrong' });
    expect(refused.turns).toBe(0);
    expect(refused.error).toMatch(/POST \/v1\/sessions → 401/);
    expect(app.sessions.count()).toBe(0);
  });

  it('warms only the collections asked for', async () => {
    await app.collections.createFromCatalog({ name: 'other', catalog: world.catalog });
    await app.collections.whenIdle('other');
    try {
      const report = await warmUp(app, { sessions: 2, turns: 1, token: 't0k', collections: ['other'] });
      expect(report).toMatchObject({ collections: ['other'], turns: 2 });
      expect(report.error).toBeUndefined();
    } finally {
      app.collections.delete('other');
    }
  }, 60_000);

  it('tells onBuilt listeners when a build serves, once its status is ready, and not when it fails', async () => {
    const built: { name: string; status: string }[] = [];
    const stop = app.collections.onBuilt((name) => {
      built.push({ name, status: app.collections.record(name).status });
    });
    try {
      await app.collections.createFromCatalog({ name: 'fresh', catalog: world.catalog });
      await app.collections.whenIdle('fresh');
      expect(built).toEqual([{ name: 'fresh', status: 'ready' }]);
      // A listener that throws is logged; the build and the other listeners are unaffected.
      const failing = app.collections.onBuilt(() => {
        throw new Error('listener failed');
      });
      await app.collections.createFromCatalog({ name: 'fresh-2', catalog: world.catalog });
      await app.collections.whenIdle('fresh-2');
      failing();
      expect(app.collections.record('fresh-2').status).toBe('ready');
      expect(built.map((event) => event.name)).toEqual(['fresh', 'fresh-2']);
      // A failed build (a corrupt image) calls nobody.
      const corrupt = join(dataDir, 'corrupt-catalog');
      await mkdir(corrupt);
      await writeFile(join(corrupt, 'good.png'), await solidPng(32, [1, 2, 3]));
      await writeFile(join(corrupt, 'bad.png'), Buffer.from('\x89PNG\r\n\x1a\n broken'));
      await app.collections.createFromCatalog({ name: 'broken', catalog: corrupt });
      await app.collections.whenIdle('broken');
      expect(app.collections.record('broken')).toMatchObject({ status: 'failed' });
      expect(built.map((event) => event.name)).toEqual(['fresh', 'fresh-2']);
      stop();
      await app.collections.createFromCatalog({ name: 'unheard', catalog: world.catalog });
      await app.collections.whenIdle('unheard');
      expect(built.map((event) => event.name)).toEqual(['fresh', 'fresh-2']);
    } finally {
      stop();
      for (const name of ['fresh', 'fresh-2', 'broken', 'unheard']) {
        try {
          app.collections.delete(name);
        } catch {
          // never created
        }
      }
    }
  }, 120_000);

  it('skips collections that are not ready', async () => {
    app.collections.delete('shop');
    const report = await warmUp(app, { token: 't0k' });
    expect(report).toMatchObject({ collections: [], turns: 0 });
    expect(report.error).toBeUndefined();
  });
});
