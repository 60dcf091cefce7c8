import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyWorld, type TinyWorld } from './__fixtures__/tiny-world';
import { parsePrometheusText, processCpuMs, runLoadTest, serverWindowMetrics } from './load-test';
import { type StartedServer, startServer } from './server';

let world: TinyWorld;
let server: StartedServer;
let dataDir: string;

beforeAll(async () => {
  world = await createTinyWorld();
  dataDir = await mkdtemp(join(tmpdir(), 'cir-load-'));
  server = await startServer({
    dataDir,
    provider: world.provider,
    port: 0,
    handleSignals: false,
    token: 't0k',
  });
  await server.app.collections.createFromCatalog({ name: 'shop', catalog: world.catalog });
  await server.app.collections.whenIdle('shop');
}, 120_000);

afterAll(async () => {
  await server?.close();
  await world?.dispose();
  await rm(dataDir, { recursive: true, force: true });
});

describe('runLoadTest', () => {
  it('drives concurrent sessions through turns, click-throughs and deletions without errors', async () => {
    const result = await runLoadTest({
      url: server.url,
      collection: 'shop',
      sessions: 4,
      durationMs: 1500,
      turnsPerSession: 3,
      token: 't0k',
      serverPid: process.pid,
    });
    expect(result.errorSamples).toEqual([]);
    expect(result.errors).toBe(0);
    expect(result.turns).toBeGreaterThan(4);
    expect(result.p99Ms).toBeGreaterThanOrEqual(result.p50Ms);
    expect(result.peakRssMb).toBeGreaterThan(10);
    // The server runs in this process here, so its CPU per turn includes the generator's.
    expect(result.cpuMsPerTurn!.generator).toBeGreaterThan(0);
    expect(result.cpuMsPerTurn!.server).toBeGreaterThanOrEqual(result.cpuMsPerTurn!.generator * 0.5);
    // Deleted sessions are gone: at most one open session per shopper remains.
    expect(server.app.sessions.size).toBeLessThanOrEqual(4);
    // The server's own view of the window, from its /v1/metrics: about the turns the client counted.
    const own = result.server!;
    expect(own.turns).toBeGreaterThanOrEqual(result.turns - 4);
    expect(own.turns).toBeLessThanOrEqual(result.turns + 4);
    expect(own.turnMsMean).toBeGreaterThan(0);
    expect(own.turnMsMean).toBeLessThan(result.p99Ms + 1);
    expect(own.gc.minor.count).toBeGreaterThanOrEqual(0);
    expect(own.eventLoopLagP99Ms).toBeGreaterThan(0);
  }, 60_000);

  it('reads the window from two scrapes of the server metrics', () => {
    const start = parsePrometheusText(
      [
        '# HELP cir_turns_total Turns answered, by collection.',
        'cir_turns_total{collection="shop"} 10',
        'cir_turns_total{collection="other"} 99',
        'cir_turn_duration_seconds_sum{collection="shop"} 0.1',
        'nodejs_gc_duration_seconds_count{kind="minor"} 3',
        'nodejs_gc_duration_seconds_sum{kind="minor"} 0.006',
        'nodejs_eventloop_lag_p99_seconds 0.5',
        '',
      ].join('\n'),
    );
    expect(start.get('cir_turns_total{collection="other"}')).toBe(99);
    const end = parsePrometheusText(
      [
        'cir_turns_total{collection="shop"} 30',
        'cir_turns_total{collection="other"} 120',
        'cir_turn_duration_seconds_sum{collection="shop"} 0.5',
        'nodejs_gc_duration_seconds_count{kind="minor"} 7',
        'nodejs_gc_duration_seconds_sum{kind="minor"} 0.026',
        'nodejs_gc_duration_seconds_count{kind="major"} 1',
        'nodejs_gc_duration_seconds_sum{kind="major"} 0.012',
        'nodejs_eventloop_lag_p99_seconds 0.021',
      ].join('\n'),
    );
    const window = serverWindowMetrics(start, end, 'shop');
    // 20 turns in 0.4 s: 20 ms each; 4 scavenges in 20 ms; one mark-compact of 12 ms (none before).
    expect(window.turns).toBe(20);
    expect(window.turnMsMean).toBeCloseTo(20, 9);
    expect(window.gc.minor).toEqual({ count: 4, ms: expect.closeTo(20, 9) });
    expect(window.gc.major).toEqual({ count: 1, ms: expect.closeTo(12, 9) });
    expect(window.gc.incremental).toEqual({ count: 0, ms: 0 });
    expect(window.eventLoopLagP99Ms).toBeCloseTo(21, 9);
  });

  it('measures only after the warm-up: the window, its turns and its CPU', async () => {
    const result = await runLoadTest({
      url: server.url,
      collection: 'shop',
      sessions: 2,
      durationMs: 600,
      warmUpMs: 900,
      token: 't0k',
    });
    expect(result.errors).toBe(0);
    expect(result.warmUpSeconds).toBe(0.9);
    // The measured window is the 0.6 s (plus the turns in flight at its end), not the 1.5 s of the whole run.
    expect(result.seconds).toBeGreaterThanOrEqual(0.6);
    expect(result.seconds).toBeLessThan(1.2);
    expect(result.turns).toBeGreaterThan(0);
    expect(result.turnsPerSecond).toBeCloseTo(result.turns / result.seconds, 6);
  }, 60_000);

  it.skipIf(process.platform !== 'linux')(
    'reads a process’s CPU time from /proc, and nothing for a process that does not exist',
    () => {
      const before = processCpuMs(process.pid)!;
      let spin = 0;
      for (const started = Date.now(); Date.now() - started < 60; ) spin++;
      expect(spin).toBeGreaterThan(0);
      // Clock ticks are 10 ms: 60 ms of spinning shows as at least 30.
      expect(processCpuMs(process.pid)! - before).toBeGreaterThanOrEqual(30);
      expect(processCpuMs(2 ** 30)).toBeUndefined();
    },
  );

  it('counts failures instead of hiding them (a wrong token answers 401 on every turn)', async () => {
    await expect(
      runLoadTest({ url: server.url, collection: 'shop', sessions: 1, durationMs: 200, token: 'wrong' }),
    ).rejects.toThrow(/401/);
  });
});
