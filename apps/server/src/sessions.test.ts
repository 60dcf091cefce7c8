import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fakeProvider } from './__fixtures__/fake-provider';
import { expectError, expectHealthy, waitUntilBuilt } from './__fixtures__/requests';
import { multipart, solidPng } from './__fixtures__/uploads';
import type { ServedCollection } from './collections';
import { RetrieverLease } from './retriever-lease';
import { type CirServer, createServer, type ServerOptions, startServer } from './server';
import { SessionRegistry } from './sessions';

const folders: string[] = [];
const servers: { close(): Promise<unknown> }[] = [];
let upload: Awaited<ReturnType<typeof multipart>>;

beforeAll(async () => {
  upload = await multipart(
    await Promise.all(
      ['red', 'green', 'blue'].map(async (name, index) => ({
        name: `${name}.png`,
        bytes: await solidPng(16, [index * 100, 50, 200 - index * 100]),
      })),
    ),
  );
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await Promise.all(folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
});

/** A server over a fake retriever with collection "colours" (red, green, blue) built. */
async function serverWithCollection(options: Partial<ServerOptions> = {}): Promise<CirServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cir-server-sessions-'));
  folders.push(dataDir);
  const app = await createServer({ dataDir, provider: fakeProvider(), ...options });
  servers.push(app);
  await app.inject({ method: 'POST', url: '/v1/collections/colours/images', ...upload });
  expect(await waitUntilBuilt(app, 'colours')).toMatchObject({ status: 'ready', items: 3, method: 'fake' });
  return app;
}

async function openSession(app: CirServer): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/sessions',
    payload: { collection: 'colours' },
  });
  expect(response.statusCode).toBe(201);
  return response.json().id;
}

const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** A served state of the fake retriever, for the registry alone (no server). */
async function fakeServedCollection(): Promise<ServedCollection> {
  const retriever = await fakeProvider().create('fake');
  return {
    name: 'c',
    method: 'fake',
    builtAt: '',
    version: '0',
    directory: '',
    items: [],
    byId: new Map(),
    retriever,
    lease: new RetrieverLease(retriever),
  };
}

describe('session lifetime', () => {
  it('evicts a session unused for longer than the TTL, and keeps one that is used', async () => {
    const app = await serverWithCollection({ sessionTtlMs: 300 });
    const idle = await openSession(app);
    const busy = await openSession(app);
    for (let step = 0; step < 5; step++) {
      await sleep(100);
      // Every use restarts the busy session's clock.
      expect((await app.inject({ method: 'GET', url: `/v1/sessions/${busy}` })).statusCode).toBe(200);
    }
    expectError(await app.inject({ method: 'GET', url: `/v1/sessions/${idle}` }), 404, /expired/);
    expect((await app.inject({ method: 'GET', url: '/health' })).json().sessions).toBe(1);
    await expectHealthy(app);
  });

  it('sweeps expired sessions on a timer, without any request', async () => {
    let now = 0;
    const registry = new SessionRegistry({ ttlMs: 40, now: () => now });
    const collection = await fakeServedCollection();
    const { retriever } = collection;
    registry.open(collection);
    registry.open(collection);
    expect(registry.size).toBe(2);
    // The collection let go of this state (a rebuild): its sessions still hold it.
    collection.lease.retire();
    expect(collection.lease.isDisposed).toBe(false);
    now = 100;
    await sleep(60);
    expect(registry.size).toBe(0);
    // Swept: the last users are gone, so the retriever is freed.
    expect(collection.lease.isDisposed).toBe(true);
    expect((retriever as { disposals?: number }).disposals).toBe(1);
    registry.close();
  });

  it('releases an expired session found by a request before any sweep', async () => {
    let now = 0;
    // The clock passes the TTL by hand; the request finds the session expired before the timer (every 30 s) sweeps.
    const registry = new SessionRegistry({ ttlMs: 60_000, now: () => now });
    const collection = await fakeServedCollection();
    const { lease } = collection;
    const { id } = registry.open(collection);
    lease.retire();
    now = 120_000;
    expect(() => registry.view(id)).toThrow(/may have expired/);
    await new Promise((resolve) => setImmediate(resolve));
    expect(lease.isDisposed).toBe(true);
    registry.close();
  });

  it('answers 503 once maxSessions sessions are open, and accepts again after one is deleted', async () => {
    const app = await serverWithCollection({ maxSessions: 2 });
    const first = await openSession(app);
    await openSession(app);
    const refused = await app.inject({
      method: 'POST',
      url: '/v1/sessions',
      payload: { collection: 'colours' },
    });
    expectError(refused, 503, /maximum of 2 sessions/);
    await expectHealthy(app);
    expect((await app.inject({ method: 'DELETE', url: `/v1/sessions/${first}` })).statusCode).toBe(204);
    await openSession(app);
  });

  it('forgets the sessions of a deleted collection', async () => {
    const app = await serverWithCollection();
    const id = await openSession(app);
    await app.inject({ method: 'DELETE', url: '/v1/collections/colours' });
    expectError(await app.inject({ method: 'GET', url: `/v1/sessions/${id}` }), 404);
  });

  it('runs the turns of one session one at a time, in order', async () => {
    const app = await serverWithCollection({ provider: fakeProvider({ turnDelayMs: 30 }) });
    const id = await openSession(app);
    const turns = await Promise.all(
      ['a', 'b', 'c'].map((text) =>
        app.inject({
          method: 'POST',
          url: `/v1/sessions/${id}/turns`,
          payload: { referenceId: 'red', text },
        }),
      ),
    );
    expect(turns.map((turn) => turn.json().turn)).toEqual([1, 2, 3]);
    const history = (await app.inject({ method: 'GET', url: `/v1/sessions/${id}` })).json();
    expect(history.turns.map((turn: { text: string }) => turn.text)).toEqual(['a', 'b', 'c']);
  });
});

describe('graceful shutdown', () => {
  it('lets an in-flight request complete, then refuses connections', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cir-server-shutdown-'));
    folders.push(dataDir);
    const server = await startServer({
      dataDir,
      provider: fakeProvider({ turnDelayMs: 400 }),
      port: 0,
      handleSignals: false,
    });
    const app = server.app;
    await app.inject({ method: 'POST', url: '/v1/collections/colours/images', ...upload });
    await waitUntilBuilt(app, 'colours');
    const id = await openSession(app);
    const inFlight = fetch(`${server.url}/v1/sessions/${id}/turns`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ referenceId: 'green', text: 'slow turn' }),
    });
    await sleep(100);
    const closed = server.close();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { turn: number }).turn).toBe(1);
    await closed;
    await expect(fetch(`${server.url}/health`)).rejects.toThrow();
  });

  it('waits for a queued build before closing', async () => {
    const app = await serverWithCollection();
    const more = await multipart([{ name: 'grey.png', bytes: await solidPng(16, [128, 128, 128]) }]);
    expect(
      (await app.inject({ method: 'POST', url: '/v1/collections/colours/images', ...more })).statusCode,
    ).toBe(202);
    await app.close();
    servers.splice(servers.indexOf(app), 1);
    const reopened = await createServer({ dataDir: folders[0]!, provider: fakeProvider() });
    servers.push(reopened);
    expect((await reopened.inject({ method: 'GET', url: '/v1/collections/colours' })).json()).toMatchObject({
      status: 'ready',
      items: 4,
    });
  });
});
