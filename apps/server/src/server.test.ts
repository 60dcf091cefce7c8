import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, expectHealthy, waitUntilBuilt } from './__fixtures__/requests';
import { createTinyWorld, type TinyWorld } from './__fixtures__/tiny-world';
import { multipart, pngBomb, solidPng } from './__fixtures__/uploads';
import { type CirServer, createServer } from './server';

let world: TinyWorld;
let dataDir: string;
let app: CirServer;
/** Ids of the world's catalog, as the server lists them. */
let catalogIds: string[];
const scratchFolders: string[] = [];

/** A temporary folder removed after the file's tests. */
async function scratch(prefix: string): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), prefix));
  scratchFolders.push(folder);
  return folder;
}

beforeAll(async () => {
  world = await createTinyWorld();
  dataDir = await mkdtemp(join(tmpdir(), 'cir-server-'));
  app = await createServer({ dataDir, provider: world.provider });
  const created = await app.inject({
    method: 'POST',
    url: '/v1/collections',
    payload: { name: 'shop', catalog: world.catalog },
  });
  expect(created.statusCode).toBe(202);
  expect((await waitUntilBuilt(app, 'shop')).status).toBe('ready');
  const items = await app.inject({ method: 'GET', url: '/v1/collections/shop/items?limit=500' });
  catalogIds = items.json().items.map((item: { id: string }) => item.id);
});

afterAll(async () => {
  await app?.close();
  await Promise.all(
    [dataDir, ...scratchFolders].map((folder) => rm(folder, { recursive: true, force: true })),
  );
  await world?.dispose();
});

async function openSession(collection = 'shop'): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { collection } });
  expect(response.statusCode).toBe(201);
  return response.json().id;
}

describe('a shopper’s conversation', () => {
  it('builds a collection, takes three turns with a click-through, rolls back, reads the history, deletes', async () => {
    const methods = await app.inject({ method: 'GET', url: '/v1/methods' });
    expect(methods.json()).toEqual({ methods: ['mai', 'mai-concat'], default: 'mai' });

    const created = await app.inject({
      method: 'POST',
      url: '/v1/collections',
      payload: { name: 'happy', catalog: world.catalog, method: 'mai-concat' },
    });
    expect(created.statusCode).toBe(202);
    expect(created.json()).toEqual({ name: 'happy', status: 'building' });
    const record = await waitUntilBuilt(app, 'happy');
    expect(record).toEqual({
      name: 'happy',
      method: 'mai-concat',
      items: 210,
      status: 'ready',
      builtAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    const listed = (await app.inject({ method: 'GET', url: '/v1/collections' })).json().collections;
    expect(listed.map((collection: { name: string }) => collection.name)).toEqual(['happy', 'shop']);

    const page = (
      await app.inject({ method: 'GET', url: '/v1/collections/happy/items?offset=2&limit=5' })
    ).json();
    expect(page.total).toBe(210);
    expect(page.items).toHaveLength(5);
    expect(page.items[0]).toEqual({
      id: catalogIds[2],
      caption: expect.any(String),
      imageUrl: expect.stringMatching(
        new RegExp(`^/v1/collections/happy/images/${catalogIds[2]}\\?v=[0-9a-z]+$`),
      ),
    });
    // The catalog filter: words of the id or caption, paged like the whole table.
    const category = catalogIds[2]!.split('-')[0]!;
    const inCategory = catalogIds.filter((catalogId) => catalogId.startsWith(`${category}-`));
    const filtered = (
      await app.inject({
        method: 'GET',
        url: `/v1/collections/happy/items?q=${category.toUpperCase()}&limit=500`,
      })
    ).json();
    expect(inCategory.length).toBeGreaterThan(0);
    expect(inCategory.length).toBeLessThan(210);
    expect(filtered.total).toBe(inCategory.length);
    expect(filtered.items.map((item: { id: string }) => item.id)).toEqual(inCategory);
    expect(
      (
        await app.inject({ method: 'GET', url: `/v1/collections/happy/items?q=${category}&offset=1&limit=1` })
      ).json(),
    ).toEqual({ total: inCategory.length, items: [filtered.items[1]] });
    expect(
      (await app.inject({ method: 'GET', url: '/v1/collections/happy/items?q=no%20such%20product' })).json(),
    ).toEqual({ total: 0, items: [] });
    const image = await app.inject({ method: 'GET', url: page.items[0].imageUrl });
    expect(image.statusCode).toBe(200);
    expect(image.headers['content-type']).toBe('image/png');
    expect(image.rawPayload).toEqual(await readFile(join(world.catalog, 'images', `${catalogIds[2]}.png`)));

    const session = await app.inject({
      method: 'POST',
      url: '/v1/sessions',
      payload: { collection: 'happy' },
    });
    expect(session.statusCode).toBe(201);
    const { id } = session.json();
    expect(session.json()).toEqual({ id: expect.any(String), collection: 'happy' });
    const turn = (body: object) =>
      app.inject({ method: 'POST', url: `/v1/sessions/${id}/turns`, payload: body });

    const first = await turn({ referenceId: page.items[0].id, text: 'make it red' });
    expect(first.statusCode).toBe(200);
    expect(first.json().turn).toBe(1);
    expect(first.json().results).toHaveLength(10);
    expect(first.json().results[0]).toEqual({
      id: expect.any(String),
      score: expect.any(Number),
      imageUrl: expect.stringMatching(/^\/v1\/collections\/happy\/images\//),
      caption: expect.any(String),
    });
    const clicked = first.json().results[3].id;
    const second = await turn({ referenceId: clicked, text: 'with long sleeves', limit: 5 });
    expect(second.json().turn).toBe(2);
    expect(second.json().results).toHaveLength(5);
    const third = await turn({ text: 'in blue' });
    expect(third.json().turn).toBe(3);

    const history = (await app.inject({ method: 'GET', url: `/v1/sessions/${id}` })).json();
    expect(history.id).toBe(id);
    expect(history.collection).toBe('happy');
    expect(history.turns.map((entry: { referenceId: string }) => entry.referenceId)).toEqual([
      page.items[0].id,
      clicked,
      second.json().results[0].id,
    ]);
    expect(history.turns[2].text).toBe('in blue');
    expect(history.turns[1].results).toEqual(second.json().results);
    // Only a text that returns to an earlier item says which one the turn started from.
    expect(history.turns.some((entry: object) => 'returnedTo' in entry)).toBe(false);
    const back = await turn({ text: 'go back to the first one, in red' });
    expect(back.json()).toMatchObject({ turn: 4, returnedTo: page.items[0].id });
    const afterBack = (await app.inject({ method: 'GET', url: `/v1/sessions/${id}` })).json();
    expect(afterBack.turns[3]).toMatchObject({
      returnedTo: page.items[0].id,
      text: 'go back to the first one, in red',
    });

    const rollback = await app.inject({
      method: 'POST',
      url: `/v1/sessions/${id}/rollback`,
      payload: { turn: 1 },
    });
    expect(rollback.statusCode).toBe(200);
    expect(rollback.json().turn).toBe(1);
    expect(rollback.json().turns).toEqual([history.turns[0]]);
    // Replaying the same second turn after the rollback gives the same ranking: the memory was rolled back too.
    const replayed = await turn({ referenceId: clicked, text: 'with long sleeves', limit: 5 });
    expect(replayed.json()).toEqual(second.json());
    const emptied = await app.inject({
      method: 'POST',
      url: `/v1/sessions/${id}/rollback`,
      payload: { turn: 0 },
    });
    expect(emptied.json()).toEqual({ turn: 0, turns: [] });

    expect((await app.inject({ method: 'DELETE', url: `/v1/sessions/${id}` })).statusCode).toBe(204);
    expectError(await app.inject({ method: 'GET', url: `/v1/sessions/${id}` }), 404);
    const served = app.collections.servedForSession('happy');
    expect((await app.inject({ method: 'DELETE', url: '/v1/collections/happy' })).statusCode).toBe(204);
    // No session left on it: the deleted collection's retriever (its model's tensors) is freed at once.
    expect(served.lease.isDisposed).toBe(true);
    expectError(await app.inject({ method: 'GET', url: '/v1/collections/happy' }), 404);
    await app.collections.whenIdle('happy');
    await expect(readFile(join(dataDir, 'collections', 'happy', 'collection.json'))).rejects.toThrow(
      /ENOENT/,
    );
  });

  it('serves the previous state while a rebuild runs, then the rebuilt one; frees the old one after its last session', async () => {
    const previous = app.collections.servedForSession('shop');
    const { payload, headers } = await multipart(
      [{ name: 'red square.png', bytes: await solidPng(32, [220, 20, 20]) }],
      {
        caption: 'a plain red square',
      },
    );
    const upload = await app.inject({ method: 'POST', url: '/v1/collections/shop/images', payload, headers });
    expect(upload.statusCode).toBe(202);
    const during = (await app.inject({ method: 'GET', url: '/v1/collections/shop' })).json();
    expect(during).toMatchObject({ status: 'building', items: 210 });
    const id = await openSession('shop');
    const turn = await app.inject({
      method: 'POST',
      url: `/v1/sessions/${id}/turns`,
      payload: { referenceId: catalogIds[0], text: 'darker' },
    });
    expect(turn.statusCode).toBe(200);

    expect(await waitUntilBuilt(app, 'shop')).toMatchObject({ status: 'ready', items: 211 });
    const items = (await app.inject({ method: 'GET', url: '/v1/collections/shop/items?offset=210' })).json();
    expect(items.items).toEqual([
      {
        id: 'red-square',
        caption: 'a plain red square',
        imageUrl: `/v1/collections/shop/images/red-square?v=${app.collections.version('shop')}`,
      },
    ]);
    const newSession = await openSession('shop');
    const withNewItem = await app.inject({
      method: 'POST',
      url: `/v1/sessions/${newSession}/turns`,
      payload: { referenceId: 'red-square', text: 'in blue' },
    });
    expect(withNewItem.statusCode).toBe(200);

    // The session opened during the rebuild stays on the previous state, which stays allocated until it ends.
    expect(app.collections.servedForSession('shop')).not.toBe(previous);
    expect(previous.lease.isDisposed).toBe(false);
    const onPrevious = await app.inject({
      method: 'POST',
      url: `/v1/sessions/${id}/turns`,
      payload: { text: 'lighter' },
    });
    expect(onPrevious.statusCode).toBe(200);
    expect((await app.inject({ method: 'DELETE', url: `/v1/sessions/${id}` })).statusCode).toBe(204);
    await new Promise((resolve) => setImmediate(resolve));
    expect(previous.lease.isDisposed).toBe(true);
  });
});

describe('uploads', () => {
  it('creates a collection from uploaded images with their captions and serves the stored files', async () => {
    const red = await solidPng(32, [200, 30, 30]);
    const blue = await solidPng(40, [30, 30, 200]);
    const { payload, headers } = await multipart(
      [
        { name: 'red.png', bytes: red },
        { name: 'blue.png', bytes: blue },
      ],
      { caption: 'a square', 'caption:blue.png': 'a blue square' },
    );
    const upload = await app.inject({
      method: 'POST',
      url: '/v1/collections/uploaded/images',
      payload,
      headers,
    });
    expect(upload.statusCode).toBe(202);
    expect(upload.json()).toEqual({ name: 'uploaded', status: 'building', added: ['red', 'blue'] });
    expect(await waitUntilBuilt(app, 'uploaded')).toMatchObject({ method: 'mai', items: 2, status: 'ready' });
    const items = (await app.inject({ method: 'GET', url: '/v1/collections/uploaded/items' })).json().items;
    expect(items.map((item: { id: string; caption: string }) => [item.id, item.caption])).toEqual([
      ['red', 'a square'],
      ['blue', 'a blue square'],
    ]);
    const served = await app.inject({ method: 'GET', url: '/v1/collections/uploaded/images/blue' });
    expect(served.headers['content-type']).toBe('image/png');
    expect(served.rawPayload).toEqual(Buffer.from(blue));
    expect(await readFile(join(dataDir, 'collections', 'uploaded', 'images', 'blue.png'))).toEqual(
      Buffer.from(blue),
    );
  });

  it('keeps the pictures of a session opened before a rebuild until it ends, at URLs browsers may cache', async () => {
    const red = await solidPng(16, [200, 30, 30]);
    const green = await solidPng(16, [30, 200, 30]);
    const upload = async (bytes: Uint8Array) => {
      const { payload, headers } = await multipart([{ name: 'square.png', bytes }]);
      const url = '/v1/collections/versions/images';
      expect((await app.inject({ method: 'POST', url, payload, headers })).statusCode).toBe(202);
      expect((await waitUntilBuilt(app, 'versions')).status).toBe('ready');
    };
    const image = (url: string) => app.inject({ method: 'GET', url });
    await upload(red);
    const id = await openSession('versions');
    const turn = await app.inject({
      method: 'POST',
      url: `/v1/sessions/${id}/turns`,
      payload: { referenceId: 'square', text: 'in green' },
    });
    const before = turn.json().results[0].imageUrl as string;
    expect(before).toBe(`/v1/collections/versions/images/square?v=${app.collections.version('versions')}`);

    // The upload replaces the picture of "square": the session's URL still gives the one it was shown.
    await upload(green);
    const after = (await app.inject({ method: 'GET', url: '/v1/collections/versions/items' })).json().items[0]
      .imageUrl as string;
    expect(after).not.toBe(before);
    const old = await image(before);
    expect(old.statusCode).toBe(200);
    expect(old.rawPayload).toEqual(Buffer.from(red));
    expect(old.headers['cache-control']).toBe('max-age=31536000, immutable');
    const current = await image(after);
    expect(current.rawPayload).toEqual(Buffer.from(green));
    expect(current.headers['cache-control']).toBe('max-age=31536000, immutable');
    // Without a version, or with an unknown one: the served picture, which may change.
    for (const url of [
      '/v1/collections/versions/images/square',
      '/v1/collections/versions/images/square?v=zz',
    ]) {
      const unversioned = await image(url);
      expect(unversioned.rawPayload).toEqual(Buffer.from(green));
      expect(unversioned.headers['cache-control']).toBe('no-cache');
    }
    const folders = async () =>
      (await readdir(join(dataDir, 'collections'))).filter((entry) => entry.startsWith('versions'));
    expect(await folders()).toEqual(['versions', `versions.retired-${before.split('?v=')[1]}`]);
    // The session's turn history keeps its URLs too.
    const history = (await app.inject({ method: 'GET', url: `/v1/sessions/${id}` })).json();
    expect(history.turns[0].results[0].imageUrl).toBe(before);

    // Its last session over, the old state's folder goes, and its URL falls back to the served picture.
    expect((await app.inject({ method: 'DELETE', url: `/v1/sessions/${id}` })).statusCode).toBe(204);
    await new Promise((resolve) => setImmediate(resolve));
    await app.collections.whenIdle('versions');
    expect(await folders()).toEqual(['versions']);
    const gone = await image(before);
    expect(gone.rawPayload).toEqual(Buffer.from(green));
    expect(gone.headers['cache-control']).toBe('no-cache');
    expectError(await image('/v1/collections/versions/images/square?v=NOT-A-VERSION'), 400);
  });

  it('refuses a file over the byte limit with 413 naming the file and the limit', async () => {
    const big = new Uint8Array(10 * 1024 * 1024 + 10);
    big.set(await solidPng(8, [1, 2, 3]));
    const { payload, headers } = await multipart([{ name: 'huge.png', bytes: big }]);
    const response = await app.inject({
      method: 'POST',
      url: '/v1/collections/limits/images',
      payload,
      headers,
    });
    expectError(response, 413, /"huge\.png" is over the upload limit of 10 MiB/);
    expectError(await app.inject({ method: 'GET', url: '/v1/collections/limits' }), 404);
    await expectHealthy(app);
  });

  it('refuses an image with too many pixels from its header, before decoding it (413)', async () => {
    const { payload, headers } = await multipart([{ name: 'bomb.png', bytes: pngBomb(60_000, 60_000) }]);
    const started = performance.now();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/collections/limits/images',
      payload,
      headers,
    });
    expectError(response, 413, /"bomb\.png" has 60000×60000 = 3\.6e9 pixels, over the limit of 4e7/);
    // Decoding 3.6e9 pixels would take minutes and ~10 GB.
    expect(performance.now() - started).toBeLessThan(5000);
    await expectHealthy(app);
  });

  it('refuses corrupt files and files that are not images with 400 naming the file', async () => {
    const png = await solidPng(16, [10, 200, 10]);
    const truncated = png.slice(0, png.length - 30);
    const cases = [
      { name: 'truncated.png', bytes: truncated, message: /"truncated\.png" is truncated or corrupt/ },
      {
        name: 'notes.png',
        bytes: new TextEncoder().encode('not an image'),
        message: /"notes\.png" is not a PNG/,
      },
      { name: 'empty.jpg', bytes: new Uint8Array(0), message: /"empty\.jpg" is empty/ },
    ];
    for (const { name, bytes, message } of cases) {
      const { payload, headers } = await multipart([
        { name: 'fine.png', bytes: png },
        { name, bytes },
      ]);
      const response = await app.inject({
        method: 'POST',
        url: '/v1/collections/shop/images',
        payload,
        headers,
      });
      expectError(response, 400, message);
      expect(response.json().error.code).toBe('invalid_image');
      expect(response.json().error.message).not.toContain('\n');
      await expectHealthy(app);
    }
    expect((await app.inject({ method: 'GET', url: '/v1/collections/shop' })).json().status).not.toBe(
      'building',
    );
    // A body that is not multipart at all, or stops in the middle of a file: 400, not a fault of the server.
    const { payload: whole, headers: multipartHeaders } = await multipart([{ name: 'fine.png', bytes: png }]);
    for (const [payload, headers] of [
      ['garbage', { 'content-type': 'multipart/form-data' }],
      ['garbage', { 'content-type': 'multipart/form-data; boundary=xyz' }],
      [whole.subarray(0, whole.length - 100), multipartHeaders],
    ] as const) {
      expectError(
        await app.inject({ method: 'POST', url: '/v1/collections/shop/images', payload, headers }),
        400,
        /the upload is not valid multipart\/form-data: /,
      );
    }
    const empty = await multipart([], { caption: 'no file' });
    expectError(
      await app.inject({ method: 'POST', url: '/v1/collections/shop/images', ...empty }),
      400,
      /no image file/,
    );
    expectError(
      await app.inject({
        method: 'POST',
        url: '/v1/collections/shop/images',
        payload: { image: 'x' },
      }),
      415,
    );
    await expectHealthy(app);
  });
});

describe('bad input', () => {
  it('answers unknown sessions and collections with 404', async () => {
    expectError(await app.inject({ method: 'GET', url: '/v1/sessions/nope' }), 404, /session "nope"/);
    expectError(
      await app.inject({ method: 'POST', url: '/v1/sessions/nope/turns', payload: { text: 'red' } }),
      404,
    );
    expectError(
      await app.inject({ method: 'POST', url: '/v1/sessions/nope/rollback', payload: { turn: 0 } }),
      404,
    );
    expectError(await app.inject({ method: 'DELETE', url: '/v1/sessions/nope' }), 404);
    expectError(
      await app.inject({ method: 'GET', url: '/v1/collections/nope' }),
      404,
      /"nope" does not exist/,
    );
    expectError(await app.inject({ method: 'GET', url: '/v1/collections/nope/items' }), 404);
    expectError(await app.inject({ method: 'GET', url: '/v1/collections/nope/images/x' }), 404);
    expectError(await app.inject({ method: 'DELETE', url: '/v1/collections/nope' }), 404);
    expectError(
      await app.inject({ method: 'POST', url: '/v1/sessions', payload: { collection: 'nope' } }),
      404,
    );
    expectError(await app.inject({ method: 'GET', url: '/v1/nothing-here' }), 404, /no route GET/);
    await expectHealthy(app);
  });

  it('answers invalid JSON and schema violations with 400 naming the problem', async () => {
    const invalid = await app.inject({
      method: 'POST',
      url: '/v1/sessions',
      headers: { 'content-type': 'application/json' },
      payload: '{"collection": ',
    });
    expectError(invalid, 400, /not valid JSON/);
    expect(invalid.json().error.code).toBe('invalid_json');
    await expectHealthy(app);

    const badName = await app.inject({
      method: 'POST',
      url: '/v1/collections',
      payload: { name: 'Bad Name', catalog: world.catalog },
    });
    expectError(badName, 400, /body\.name must match pattern/);
    expect(badName.json().error.code).toBe('invalid_request');
    expectError(
      await app.inject({ method: 'POST', url: '/v1/collections', payload: { name: 'x' } }),
      400,
      /must have required property 'catalog'/,
    );
    expectError(
      await app.inject({
        method: 'POST',
        url: '/v1/collections',
        payload: { name: 'x', catalog: world.catalog, colour: 'red' },
      }),
      400,
      /additional properties: "colour"/,
    );
    const id = await openSession();
    expectError(
      await app.inject({ method: 'POST', url: `/v1/sessions/${id}/turns`, payload: { referenceId: 'a' } }),
      400,
      /must have required property 'text'/,
    );
    expectError(
      await app.inject({
        method: 'POST',
        url: `/v1/sessions/${id}/turns`,
        payload: { referenceId: catalogIds[0], text: 'red', limit: 1000 },
      }),
      400,
      /body\.limit must be <= 100/,
    );
    expectError(
      await app.inject({
        method: 'POST',
        url: `/v1/sessions/${id}/turns`,
        payload: { referenceId: catalogIds[0], text: ' \t ' },
      }),
      400,
      /body\.text must match pattern/,
    );
    // Body types are not coerced (the query string's are: it is text).
    for (const [url, payload, message] of [
      [
        `/v1/sessions/${id}/turns`,
        { referenceId: catalogIds[0], text: 'red', limit: '5' },
        /body\.limit must be integer/,
      ],
      [`/v1/sessions/${id}/rollback`, { turn: '1' }, /body\.turn must be integer/],
      [
        '/v1/collections',
        { name: 'x', catalog: world.catalog, replace: 'true' },
        /body\.replace must be boolean/,
      ],
      ['/v1/collections', { name: 1, catalog: world.catalog }, /body\.name must be string/],
    ] as const) {
      expectError(await app.inject({ method: 'POST', url, payload }), 400, message);
    }
    const form = await app.inject({
      method: 'POST',
      url: '/v1/sessions',
      payload: 'collection=shop',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectError(form, 415, /send the body as application\/json/);
    expectError(
      await app.inject({ method: 'GET', url: '/v1/collections/shop/items?limit=-1' }),
      400,
      /querystring\.limit must be >= 1/,
    );
    expectError(
      await app.inject({ method: 'GET', url: `/v1/collections/shop/items?q=${'x'.repeat(201)}` }),
      400,
      /querystring\.q must NOT have more than 200 characters/,
    );
    await expectHealthy(app);
  });

  it('refuses a first turn without reference, an unknown reference and a rollback past the last turn', async () => {
    const id = await openSession();
    const turn = (body: object) =>
      app.inject({ method: 'POST', url: `/v1/sessions/${id}/turns`, payload: body });
    expectError(await turn({ text: 'in red' }), 400, /first turn needs a referenceId/);
    expectError(await turn({ referenceId: 'no-such-item', text: 'in red' }), 400, /"no-such-item"/);
    expect((await turn({ referenceId: catalogIds[5], text: 'in red' })).statusCode).toBe(200);
    expect((await turn({ text: 'shorter' })).statusCode).toBe(200);
    const rollback = await app.inject({
      method: 'POST',
      url: `/v1/sessions/${id}/rollback`,
      payload: { turn: 3 },
    });
    expectError(rollback, 400, /session has 2 turns/);
    expectError(
      await app.inject({ method: 'POST', url: `/v1/sessions/${id}/rollback`, payload: { turn: -1 } }),
      400,
      /body\.turn must be >= 0/,
    );
    expect((await app.inject({ method: 'GET', url: `/v1/sessions/${id}` })).json().turns).toHaveLength(2);
    await expectHealthy(app);
  });

  it('names the catalog file of an image that fails to decode in a build, not its copy in the temporary folder', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'cir-corrupt-catalog-'));
    scratchFolders.push(folder);
    await writeFile(join(folder, 'fine.png'), await solidPng(16, [200, 10, 10]));
    await writeFile(join(folder, 'broken.png'), 'not a picture at all');
    await app.inject({
      method: 'POST',
      url: '/v1/collections',
      payload: { name: 'corrupt', catalog: folder },
    });
    const record = await waitUntilBuilt(app, 'corrupt');
    expect(record.status).toBe('failed');
    expect(record.error).toContain(join(folder, 'broken.png'));
    expect(record.error).not.toContain('.tmp-');
    expect(record.error).not.toContain('\n');
    await app.inject({ method: 'DELETE', url: '/v1/collections/corrupt' });
  });

  it('checks collection requests: unknown method, existing name, missing catalog, first build running', async () => {
    const unknownMethod = await app.inject({
      method: 'POST',
      url: '/v1/collections',
      payload: { name: 'other', catalog: world.catalog, method: 'clip' },
    });
    expectError(unknownMethod, 400, /unknown method "clip"; known methods: mai, mai-concat/);
    expectError(
      await app.inject({
        method: 'POST',
        url: '/v1/collections',
        payload: { name: 'shop', catalog: world.catalog },
      }),
      409,
      /already exists/,
    );
    expectError(
      await app.inject({
        method: 'POST',
        url: '/v1/collections',
        payload: { name: 'other', catalog: join(world.root, 'missing') },
      }),
      400,
      /does not exist/,
    );
    expectError(
      await app.inject({
        method: 'POST',
        url: '/v1/collections',
        payload: { name: 'other', catalog: world.root },
      }),
      400,
      /holds no png, jpg, jpeg or webp image/,
    );

    const created = await app.inject({
      method: 'POST',
      url: '/v1/collections',
      payload: { name: 'first-build', catalog: world.catalog },
    });
    expect(created.statusCode).toBe(202);
    expectError(
      await app.inject({ method: 'POST', url: '/v1/sessions', payload: { collection: 'first-build' } }),
      409,
      /still building for the first time/,
    );
    expect((await app.inject({ method: 'GET', url: '/v1/collections/first-build/items' })).json()).toEqual({
      total: 0,
      items: [],
    });
    await waitUntilBuilt(app, 'first-build');
    const replaced = await app.inject({
      method: 'POST',
      url: '/v1/collections',
      payload: { name: 'first-build', catalog: world.catalog, method: 'mai-concat', replace: true },
    });
    expect(replaced.statusCode).toBe(202);
    expect(await waitUntilBuilt(app, 'first-build')).toMatchObject({ method: 'mai-concat', status: 'ready' });

    // A rebuild that fails (here on a corrupt image) leaves the previous state served, and says why.
    const corrupt = await scratch('cir-corrupt-catalog-');
    await writeFile(join(corrupt, 'good.png'), await solidPng(32, [1, 2, 3]));
    await writeFile(join(corrupt, 'bad.png'), Buffer.from('\x89PNG\r\n\x1a\n broken'));
    const failing = await app.inject({
      method: 'POST',
      url: '/v1/collections',
      payload: { name: 'first-build', catalog: corrupt, replace: true },
    });
    expect(failing.statusCode).toBe(202);
    const afterFailure = await waitUntilBuilt(app, 'first-build');
    expect(afterFailure).toMatchObject({ method: 'mai-concat', status: 'ready', items: 210 });
    expect(afterFailure.error).toMatch(/build failed: .*bad\.png/);
    expect(
      (await app.inject({ method: 'POST', url: '/v1/sessions', payload: { collection: 'first-build' } }))
        .statusCode,
    ).toBe(201);
    await app.inject({ method: 'DELETE', url: '/v1/collections/first-build' });
    await expectHealthy(app);
  });

  it('serves images only by their id in the item table: traversal attempts are 404 or 400', async () => {
    const probes = [
      '/v1/collections/shop/images/..%2F..%2Fcollection.json',
      '/v1/collections/shop/images/..%2Fcollection.json',
      '/v1/collections/shop/images/%2E%2E',
      `/v1/collections/shop/images/images%2F${catalogIds[0]}.png`,
      `/v1/collections/shop/images/${catalogIds[0]}.png`,
      '/v1/collections/shop/images/../../../../etc/passwd',
      '/v1/collections/shop/images/%2Fetc%2Fpasswd',
    ];
    for (const url of probes) {
      const response = await app.inject({ method: 'GET', url });
      expect([400, 404], url).toContain(response.statusCode);
      expect(response.json().error, url).toBeDefined();
    }
    expectError(await app.inject({ method: 'GET', url: '/v1/collections/..%2Fshop/images/x' }), 400);
    expectError(await app.inject({ method: 'GET', url: '/v1/collections/.shop/items' }), 400);
    // Long ids reach the schemas (and their 400 or the item table's 404), not the router's 414.
    expectError(
      await app.inject({ method: 'GET', url: `/v1/collections/shop/images/${'l'.repeat(300)}` }),
      404,
    );
    expectError(
      await app.inject({ method: 'GET', url: `/v1/collections/shop/images/${'l'.repeat(513)}` }),
      400,
      /params\.id must NOT have more than 512 characters/,
    );
    expectError(
      await app.inject({ method: 'GET', url: `/v1/sessions/${'s'.repeat(101)}` }),
      400,
      /params\.id must NOT have more than 100 characters/,
    );
    // A %-escape that does not decode: the same error shape.
    for (const url of ['/v1/sessions/%', '/v1/sessions/%FF%C0%AF']) {
      expectError(await app.inject({ method: 'GET', url }), 400, /the URL is not valid/);
    }
    expect(
      (await app.inject({ method: 'GET', url: `/v1/collections/shop/images/${catalogIds[0]}` })).statusCode,
    ).toBe(200);
    await expectHealthy(app);
  });
});

describe('the rest of the surface', () => {
  it('reports health without auth and publishes an OpenAPI 3 document of every route', async () => {
    const health = (await app.inject({ method: 'GET', url: '/health' })).json();
    expect(health).toEqual({
      status: 'ok',
      collections: expect.any(Number),
      sessions: expect.any(Number),
      uptimeSeconds: expect.any(Number),
    });
    const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.paths).sort()).toEqual([
      '/health',
      '/v1/collections',
      '/v1/collections/{name}',
      '/v1/collections/{name}/images',
      '/v1/collections/{name}/images/{id}',
      '/v1/collections/{name}/items',
      '/v1/methods',
      '/v1/metrics',
      '/v1/sessions',
      '/v1/sessions/{id}',
      '/v1/sessions/{id}/rollback',
      '/v1/sessions/{id}/turns',
    ]);
    expect(
      document.paths['/v1/sessions/{id}/turns'].post.requestBody.content['application/json'].schema.required,
    ).toEqual(['text']);
  });

  it('with a token, answers /v1 requests without it or with a wrong one 401, and /health still', async () => {
    const secured = await createServer({
      dataDir: await scratch('cir-server-auth-'),
      provider: world.provider,
      token: 's3cret',
    });
    try {
      const missing = await secured.inject({ method: 'GET', url: '/v1/collections' });
      expectError(missing, 401, /Authorization: Bearer/);
      expect(missing.json().error.code).toBe('unauthorized');
      expectError(
        await secured.inject({
          method: 'GET',
          url: '/v1/collections',
          headers: { authorization: 'Bearer wrong' },
        }),
        401,
        /not valid/,
      );
      expectError(
        await secured.inject({
          method: 'POST',
          url: '/v1/sessions',
          payload: { collection: 'x' },
          headers: { authorization: 'Basic czNjcmV0' },
        }),
        401,
      );
      const allowed = await secured.inject({
        method: 'GET',
        url: '/v1/collections',
        headers: { authorization: 'Bearer s3cret' },
      });
      expect(allowed.statusCode).toBe(200);
      await expectHealthy(secured);
      expect((await secured.inject({ method: 'GET', url: '/' })).statusCode).toBe(200);
      const document = (await secured.inject({ method: 'GET', url: '/openapi.json' })).json();
      expect(document.components.securitySchemes.bearerAuth).toEqual({ type: 'http', scheme: 'bearer' });
    } finally {
      await secured.close();
    }
  });

  it('serves the web page, its files, and a fallback page when the folder is missing', async () => {
    const folder = await scratch('cir-web-');
    await writeFile(join(folder, 'index.html'), '<!doctype html><title>page</title>');
    await writeFile(join(folder, 'app.css'), 'body { color: red }');
    const withPage = await createServer({
      dataDir: await scratch('cir-server-web-'),
      provider: world.provider,
      webFolder: folder,
    });
    const withoutPage = await createServer({
      dataDir: await scratch('cir-server-web-'),
      provider: world.provider,
      webFolder: join(folder, 'missing'),
    });
    try {
      const page = await withPage.inject({ method: 'GET', url: '/' });
      expect(page.headers['content-type']).toMatch(/text\/html/);
      expect(page.body).toContain('<title>page</title>');
      const style = await withPage.inject({ method: 'GET', url: '/web/app.css' });
      expect(style.headers['content-type']).toMatch(/text\/css/);
      expect((await withPage.inject({ method: 'GET', url: '/web/../server.ts' })).statusCode).toBe(404);
      expectError(await withPage.inject({ method: 'GET', url: '/web/missing.js' }), 404);
      const fallback = await withoutPage.inject({ method: 'GET', url: '/' });
      expect(fallback.statusCode).toBe(200);
      expect(fallback.body).toContain('not installed');
      expectError(await withoutPage.inject({ method: 'GET', url: '/web/app.js' }), 404);
      // The default folder is the package's own src/web when it exists.
      expect((await app.inject({ method: 'GET', url: '/' })).statusCode).toBe(200);
    } finally {
      await withPage.close();
      await withoutPage.close();
    }
  });
});
