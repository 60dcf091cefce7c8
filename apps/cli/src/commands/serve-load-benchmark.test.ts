import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CirServer, createServer } from '@cir/server';
// The server's test world: a 210-picture catalog and a tiny trained mini encoder, made in a few seconds.
import { createTinyWorld, type TinyWorld } from '@cir/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadedCollection } from './serve-load-benchmark';

let world: TinyWorld;
let dataDir: string;
let app: CirServer;
let url: string;

beforeAll(async () => {
  world = await createTinyWorld();
  dataDir = await mkdtemp(join(tmpdir(), 'cir-serve-load-'));
  app = await createServer({ dataDir, provider: world.provider });
  // The demo collection, with the server's default method (mai).
  await app.inject({
    method: 'POST',
    url: '/v1/collections',
    payload: { name: 'demo', catalog: world.catalog },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  await app?.close();
  await rm(dataDir, { recursive: true, force: true });
  await world?.dispose();
});

describe('cir bench serve-load --method', () => {
  it('loads the demo collection, or builds the demo catalog once as "demo-<method>" for another method', async () => {
    // The demo collection may still be building: wait until it is ready.
    for (
      let tries = 0;
      app.collections.list().find((record) => record.name === 'demo')?.status !== 'ready';
      tries++
    ) {
      expect(tries).toBeLessThan(600);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await loadedCollection(url, world.catalog)).toMatchObject({
      name: 'demo',
      method: 'mai',
      items: 210,
    });
    expect(await loadedCollection(url, world.catalog, 'mai')).toMatchObject({ name: 'demo' });

    // The test server's provider knows mai and mai-concat (the CLI's also knows sum, text-only, image-only).
    const concat = await loadedCollection(url, world.catalog, 'mai-concat');
    expect(concat).toMatchObject({
      name: 'demo-mai-concat',
      method: 'mai-concat',
      items: 210,
      status: 'ready',
    });
    // The second time it is reused, not rebuilt.
    expect(await loadedCollection(url, world.catalog, 'mai-concat')).toEqual(concat);

    await expect(loadedCollection(url, world.catalog, 'bogus')).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/--method bogus: the demo server knows mai, mai-concat/),
    });
  }, 120_000);
});
