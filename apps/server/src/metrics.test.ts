import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyShop, type TinyShop } from './__fixtures__/tiny-world';
import { badRequest } from './errors';
import { ServerMetrics } from './metrics';
import type { CirServer } from './server';

let shop: TinyShop;
let app: CirServer;
const headers = { authorization: 'Bearer s3cret' };

beforeAll(async () => {
  shop = await createTinyShop({ token: 's3cret' });
  app = shop.app;
}, 120_000);

afterAll(async () => {
  await shop?.dispose();
});

/** The value of one sample line of the exposition, e.g. `cir_turns_total{collection="shop"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /v1/metrics', () => {
  it('counts turns, failed turns, their durations, sessions and collections, with the process metrics', async () => {
    const before = await app.inject({ method: 'GET', url: '/v1/metrics', headers });
    expect(before.statusCode).toBe(200);
    expect(before.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(before.body, 'cir_turns_total{collection="shop"}')).toBeUndefined();
    expect(sample(before.body, 'cir_collections{status="ready"}')).toBe(1);
    expect(sample(before.body, 'cir_collections{status="failed"}')).toBe(0);
    expect(sample(before.body, 'cir_sessions_open')).toBe(0);
    expect(sample(before.body, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    const { id } = (
      await app.inject({ method: 'POST', url: '/v1/sessions', headers, payload: { collection: 'shop' } })
    ).json() as { id: string };
    const item = app.collections.items('shop')[0]!.id;
    const turn = (payload: object) =>
      app.inject({ method: 'POST', url: `/v1/sessions/${id}/turns`, headers, payload });
    expect((await turn({ referenceId: item, text: 'is red' })).statusCode).toBe(200);
    expect((await turn({ text: 'has long sleeves' })).statusCode).toBe(200);
    expect((await turn({ referenceId: 'no-such-item', text: 'is blue' })).statusCode).toBe(400);
    // An unknown session has no collection: a 404, not counted.
    expect(
      (await app.inject({ method: 'POST', url: '/v1/sessions/nope/turns', headers, payload: { text: 'x' } }))
        .statusCode,
    ).toBe(404);

    const after = (await app.inject({ method: 'GET', url: '/v1/metrics', headers })).body;
    expect(sample(after, 'cir_turns_total{collection="shop"}')).toBe(2);
    expect(sample(after, 'cir_turn_errors_total{collection="shop",kind="client"}')).toBe(1);
    expect(sample(after, 'cir_turn_errors_total{collection="shop",kind="server"}')).toBeUndefined();
    expect(sample(after, 'cir_turn_duration_seconds_count{collection="shop"}')).toBe(2);
    expect(sample(after, 'cir_turn_duration_seconds_sum{collection="shop"}')).toBeGreaterThan(0);
    expect(sample(after, 'cir_turn_duration_seconds_bucket{le="+Inf",collection="shop"}')).toBe(2);
    expect(sample(after, 'cir_sessions_open')).toBe(1);
    await app.inject({ method: 'DELETE', url: `/v1/sessions/${id}`, headers });
  }, 60_000);

  it('needs the bearer token like the rest of /v1, and is in the API document', async () => {
    expect((await app.inject({ method: 'GET', url: '/v1/metrics' })).statusCode).toBe(401);
    const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, unknown>;
    };
    expect(document.paths['/v1/metrics']).toBeDefined();
  });

  it("tells a shopper's bad input (4xx) from the server's own failures", async () => {
    const metrics = new ServerMetrics({ list: () => [] } as never, { count: () => 0 } as never);
    metrics.observeTurn('c', 3);
    metrics.observeTurn('c', 1, badRequest('unknown referenceId'));
    metrics.observeTurn('c', 1, badRequest('first turn without a reference'));
    metrics.observeTurn('c', 2, new Error('the turn worker exited'));
    const text = await metrics.text();
    expect(sample(text, 'cir_turns_total{collection="c"}')).toBe(1);
    expect(sample(text, 'cir_turn_errors_total{collection="c",kind="client"}')).toBe(2);
    expect(sample(text, 'cir_turn_errors_total{collection="c",kind="server"}')).toBe(1);
  });
});
