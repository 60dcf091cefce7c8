import { readFileSync } from 'node:fs';
import { median, Rng } from '@cir/core-tensor';
import { Pool } from 'undici';
import { SAMPLE_TURN_TEXTS } from './sample-texts';

export interface LoadTestOptions {
  /** Server address, e.g. http://127.0.0.1:8080 */
  url: string;
  collection: string;
  /** Concurrent shopper sessions (default 32). */
  sessions?: number;
  /** How long to measure (default 60 s). */
  durationMs?: number;
  /**
   * The same load before the measured window, not measured (default 0). The first seconds of a new load generator
   * and of a server that has just started answer turns up to ~2× slower (JIT compilation, first allocations):
   * they say how the server starts, not how it serves. Failures during it still count as errors.
   */
  warmUpMs?: number;
  /** Turns before a session is deleted and a new one opened (default 5). */
  turnsPerSession?: number;
  /**
   * Mean pause between a session's turns, as a shopper reading results would (default 0: as fast as answered).
   * Each pause is drawn uniformly from 0.5–1.5 × this, and each shopper starts after a random part of it, so that
   * shoppers do not act in lockstep.
   */
  thinkTimeMs?: number;
  /** Modification texts drawn at random (default: a few of every kind MAI reads, rollback and combination too). */
  texts?: readonly string[];
  token?: string;
  /** The server's process id: its peak RSS (VmHWM, Linux) is reported. */
  serverPid?: number;
  seed?: number;
}

export interface LoadTestResult {
  sessions: number;
  /** The measured window (after the warm-up). */
  seconds: number;
  /** The unmeasured warm-up before it. */
  warmUpSeconds: number;
  /** Turns answered with 200 in the measured window. */
  turns: number;
  turnsPerSecond: number;
  /** Requests that failed (non-2xx or network), warm-up included, with a few samples. */
  errors: number;
  errorSamples: string[];
  /** Turn latency in ms, as the client saw it. */
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Peak resident memory of the server process, when its pid was given. */
  peakRssMb?: number;
  /**
   * CPU time per answered turn, in ms: the server's (when its pid was given; Linux /proc, every thread) and this
   * load generator's. On a machine whose cores both share, their sum bounds the turns per second.
   */
  cpuMsPerTurn?: { server?: number; generator: number };
  /** What the server's `/v1/metrics` said of the measured window (omitted when it has no such endpoint). */
  server?: ServerWindowMetrics;
}

/** The server's own view of a load test's measured window, from its Prometheus metrics (`GET /v1/metrics`). */
export interface ServerWindowMetrics {
  /** Turns of the collection the server answered in the window. */
  turns: number;
  /** Their mean time in the server, from the turn call to its answer, in ms. */
  turnMsMean: number;
  /** The main thread's garbage collection in the window, by kind: pauses and their total ms. */
  gc: Record<'minor' | 'major' | 'incremental', { count: number; ms: number }>;
  /** The main thread's event-loop delay in the window, p99 in ms. */
  eventLoopLagP99Ms: number;
}

/** Samples of a Prometheus text exposition, by series (`name{labels}` as written). */
export function parsePrometheusText(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    if (space > 0) samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

/** The window's figures from two scrapes of the server's metrics, at its opening and at its end. */
export function serverWindowMetrics(
  start: Map<string, number>,
  end: Map<string, number>,
  collection: string,
): ServerWindowMetrics {
  const delta = (series: string) => (end.get(series) ?? 0) - (start.get(series) ?? 0);
  const label = `{collection="${collection}"}`;
  const turns = delta(`cir_turns_total${label}`);
  const gc = (kind: string) => ({
    count: delta(`nodejs_gc_duration_seconds_count{kind="${kind}"}`),
    ms: delta(`nodejs_gc_duration_seconds_sum{kind="${kind}"}`) * 1000,
  });
  return {
    turns,
    turnMsMean: turns > 0 ? (delta(`cir_turn_duration_seconds_sum${label}`) * 1000) / turns : Number.NaN,
    gc: { minor: gc('minor'), major: gc('major'), incremental: gc('incremental') },
    // prom-client's event-loop histogram restarts at every scrape: the end scrape covers the window.
    eventLoopLagP99Ms: (end.get('nodejs_eventloop_lag_p99_seconds') ?? Number.NaN) * 1000,
  };
}

/** Percentile by nearest rank of sorted values. */
function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

/** Peak resident set size of a process in MiB (Linux /proc), or undefined elsewhere. */
export function peakRssMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system, every thread) a process has used, in ms (Linux /proc), or undefined elsewhere. */
export function processCpuMs(pid: number): number | undefined {
  try {
    // Fields after the command name (which may hold spaces, so split after its closing parenthesis):
    // utime and stime are the 12th and 13th, in clock ticks (100 a second on Linux).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/**
 * Drives a running server like `sessions` shoppers at once: each opens a session, takes `turnsPerSession` turns
 * (a random catalog item as the first reference, then the previous best result, or a random result half the
 * time, as a click-through), deletes the session and starts over, until the time is up. Every turn's latency is
 * measured on the client; failures are counted, never retried.
 */
export async function runLoadTest(options: LoadTestOptions): Promise<LoadTestResult> {
  const sessions = options.sessions ?? 32;
  // undici, one kept-alive connection a shopper: the generator shares the machine's cores with the server it
  // measures, so its CPU a turn counts. Measured here against a server that answers at once (32 shoppers): fetch
  // ~1.8 ms a turn, node:http 0.25 ms, undici's Pool 0.16–0.19 ms (against the demo's MAI, where the two
  // processes contend: node:http 0.32–0.40 ms, undici 0.28–0.33 ms).
  const base = new URL(options.url);
  if (base.protocol !== 'http:') {
    throw new Error(`runLoadTest drives a plain http:// server (loopback); got ${options.url}`);
  }
  const pool = new Pool(base.origin, { connections: sessions });
  try {
    return await drive(options, sessions, pool);
  } finally {
    await pool.close();
  }
}

async function drive(options: LoadTestOptions, sessions: number, pool: Pool): Promise<LoadTestResult> {
  const durationMs = options.durationMs ?? 60_000;
  const turnsPerSession = options.turnsPerSession ?? 5;
  const texts = options.texts ?? SAMPLE_TURN_TEXTS;
  const authorization = options.token ? { authorization: `Bearer ${options.token}` } : undefined;
  const call = async (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const response = await pool.request({
      method,
      path,
      headers: { ...authorization, ...(payload !== undefined && { 'content-type': 'application/json' }) },
      ...(payload !== undefined && { body: payload }),
    });
    const text = await response.body.text();
    if (response.statusCode < 200 || response.statusCode >= 300) {
      throw new Error(`${method} ${path} → ${response.statusCode} ${text.slice(0, 200)}`);
    }
    return text ? JSON.parse(text) : undefined;
  };
  const collection = encodeURIComponent(options.collection);
  // Every item id (pages of 500, the API's largest), read before the clock starts.
  const ids: string[] = [];
  for (let total = Number.POSITIVE_INFINITY; ids.length < total; ) {
    const page = (await call(
      'GET',
      `/v1/collections/${collection}/items?offset=${ids.length}&limit=500`,
    )) as {
      total: number;
      items: { id: string }[];
    };
    total = page.total;
    if (page.items.length === 0) break;
    ids.push(...page.items.map((item) => item.id));
  }
  if (ids.length === 0) throw new Error(`collection "${options.collection}" has no items`);

  const latencies: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  const fail = (error: unknown) => {
    errors++;
    if (errorSamples.length < 5) errorSamples.push(error instanceof Error ? error.message : String(error));
  };
  const warmUpMs = options.warmUpMs ?? 0;
  // The measured window: the turns started in it count. It opens at a fixed time, not when a timer gets to run (on
  // a busy event loop, e.g. a server in the same process, that is late, and the window came out short).
  const measuredFrom = performance.now() + warmUpMs;
  const deadline = measuredFrom + durationMs;
  // The CPU counters start when the timer runs: at the window's opening, or a little after on a busy event loop.
  let windowOpened = false;
  let serverCpuAtStart: number | undefined;
  let generatorCpuAtStart = process.cpuUsage();
  // The server's metrics (undefined: it has no /v1/metrics), at the window's opening and at its end.
  const scrape = () =>
    pool
      .request({ method: 'GET', path: '/v1/metrics', headers: { ...authorization } })
      .then(async (response) => {
        const text = await response.body.text();
        return response.statusCode === 200 ? parsePrometheusText(text) : undefined;
      })
      .catch(() => undefined);
  let metricsAtStart: Promise<Map<string, number> | undefined> = Promise.resolve(undefined);
  const openWindow = () => {
    windowOpened = true;
    serverCpuAtStart = options.serverPid === undefined ? undefined : processCpuMs(options.serverPid);
    generatorCpuAtStart = process.cpuUsage();
    metricsAtStart = scrape();
  };
  if (warmUpMs > 0) setTimeout(openWindow, warmUpMs).unref();
  else openWindow();
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  const shopper = async (index: number) => {
    const rng = new Rng((options.seed ?? 1) * 1000 + index);
    const think = () => (options.thinkTimeMs ? sleep(options.thinkTimeMs * (0.5 + rng.next())) : undefined);
    if (options.thinkTimeMs) await sleep(options.thinkTimeMs * rng.next());
    while (performance.now() < deadline) {
      let sessionId: string;
      try {
        sessionId = (
          (await call('POST', '/v1/sessions', { collection: options.collection })) as { id: string }
        ).id;
      } catch (error) {
        fail(error);
        await sleep(100);
        continue;
      }
      let reference: string | undefined = ids[rng.int(ids.length)]!;
      for (let turn = 0; turn < turnsPerSession && performance.now() < deadline; turn++) {
        const text = texts[rng.int(texts.length)]!;
        const turnStarted = performance.now();
        try {
          const result = (await call('POST', `/v1/sessions/${sessionId}/turns`, {
            ...(reference && { referenceId: reference }),
            text,
            limit: 10,
          })) as { results: { id: string }[] };
          if (turnStarted >= measuredFrom) latencies.push(performance.now() - turnStarted);
          // Half the time the shopper clicks a result; otherwise the server continues from its best one.
          reference = rng.next() < 0.5 ? result.results[rng.int(result.results.length)]?.id : undefined;
        } catch (error) {
          fail(error);
        }
        await think();
      }
      await call('DELETE', `/v1/sessions/${sessionId}`).catch(fail);
    }
  };
  await Promise.all(Array.from({ length: sessions }, (_value, index) => shopper(index)));
  if (!windowOpened) openWindow();
  const seconds = (performance.now() - measuredFrom) / 1000;
  const sorted = [...latencies].sort((left, right) => left - right);
  const rss = options.serverPid === undefined ? undefined : peakRssMb(options.serverPid);
  const serverCpuAtEnd = options.serverPid === undefined ? undefined : processCpuMs(options.serverPid);
  const generatorCpu = process.cpuUsage(generatorCpuAtStart);
  const perTurn = (ms: number) => ms / Math.max(latencies.length, 1);
  const [metricsStart, metricsEnd] = await Promise.all([metricsAtStart, scrape()]);
  return {
    sessions,
    seconds,
    warmUpSeconds: warmUpMs / 1000,
    turns: latencies.length,
    turnsPerSecond: latencies.length / seconds,
    errors,
    errorSamples,
    p50Ms: median(sorted),
    p90Ms: percentile(sorted, 0.9),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted.at(-1) ?? Number.NaN,
    ...(rss !== undefined && { peakRssMb: rss }),
    cpuMsPerTurn: {
      ...(serverCpuAtStart !== undefined &&
        serverCpuAtEnd !== undefined && { server: perTurn(serverCpuAtEnd - serverCpuAtStart) }),
      generator: perTurn((generatorCpu.user + generatorCpu.system) / 1000),
    },
    ...(metricsStart &&
      metricsEnd && { server: serverWindowMetrics(metricsStart, metricsEnd, options.collection) }),
  };
}
