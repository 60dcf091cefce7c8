import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { BenchmarkDefinition } from '@cir/core-tensor';
import { type LoadTestResult, runLoadTest } from '@cir/server';
import { CliError } from '../output';
import { probeCpus } from './cpu-probe';
import { DEFAULT_DEMO_DIRECTORY, readDemoManifest } from './demo';

/** The demo serve-load serves: $CIR_DEMO_DIR (`cir bench --demo-dir` sets it), else ./cir-demo. */
export function serveLoadDemoDirectory(): string {
  return resolve(process.env.CIR_DEMO_DIR ?? DEFAULT_DEMO_DIRECTORY);
}

/** Whether `serveLoadDemoDirectory()` holds a finished `cir demo`. */
export async function hasFinishedDemo(): Promise<boolean> {
  return Boolean(await readDemoManifest(serveLoadDemoDirectory()));
}

/**
 * What `cir bench --method` and `--texts` chose: the method (undefined: the demo collection's own) and the
 * modification texts the shoppers send (undefined: the load test's samples of every kind).
 */
export const serveLoadSettings: { method?: string; texts?: readonly string[] } = {};

/**
 * The modification texts of a `--texts` file: one a line, blank lines skipped.
 * @throws CliError (exit 2) naming the file when it cannot be read, holds no text, or a text is over 2,000 characters
 *   (the server's limit)
 */
export async function readTurnTexts(file: string): Promise<string[]> {
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`--texts ${file}: ${error instanceof Error ? error.message : String(error)}`, 2);
  }
  const texts: string[] = [];
  for (const [index, line] of content.split(/\r?\n/).entries()) {
    const text = line.trim();
    if (text.length === 0) continue;
    if (text.length > 2000) {
      throw new CliError(
        `--texts ${file}, line ${index + 1}: ${text.length} characters (the server takes 2,000)`,
        2,
      );
    }
    texts.push(text);
  }
  if (texts.length === 0)
    throw new CliError(`--texts ${file}: no text in it (one modification text a line)`, 2);
  return texts;
}

/** The JSON of a request to the server under load; a CliError naming the request when it fails. */
async function serverJson(url: string, init?: { method: string; body: object }): Promise<unknown> {
  const response = await fetch(url, {
    ...(init && {
      method: init.method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(init.body),
    }),
  });
  const text = await response.text();
  if (!response.ok) {
    throw new CliError(`${init?.method ?? 'GET'} ${url} → ${response.status}: ${text.slice(0, 300)}`, 1);
  }
  return text ? JSON.parse(text) : undefined;
}

interface CollectionRecord {
  name: string;
  items: number;
  method: string;
  status: 'ready' | 'building' | 'failed';
  error?: string;
}

/**
 * The collection to load: "demo", or for another method "demo-<method>", the demo's catalog served by that method
 * (built on first use, kept in the demo's server folder, reused afterwards).
 */
export async function loadedCollection(
  url: string,
  demoDirectory: string,
  method?: string,
): Promise<CollectionRecord> {
  const { collections } = (await serverJson(`${url}/v1/collections`)) as { collections: CollectionRecord[] };
  const demo = collections.find((collection) => collection.name === 'demo')!;
  if (method === undefined || method === demo.method) return demo;
  const { methods } = (await serverJson(`${url}/v1/methods`)) as { methods: string[] };
  if (!methods.includes(method)) {
    throw new CliError(`--method ${method}: the demo server knows ${methods.join(', ')}`, 2);
  }
  const name = `demo-${method}`;
  let record = collections.find((collection) => collection.name === name);
  if (!record || record.status === 'failed' || record.method !== method) {
    process.stderr.write(`serve-load: building collection ${name} (the demo catalog, method ${method})…\n`);
    await serverJson(`${url}/v1/collections`, {
      method: 'POST',
      body: { name, catalog: demoDirectory, method, replace: Boolean(record) },
    });
  }
  for (;;) {
    record = (await serverJson(`${url}/v1/collections/${name}`)) as CollectionRecord;
    if (record.status === 'ready') return record;
    if (record.status === 'failed')
      throw new CliError(`collection ${name} failed to build: ${record.error}`, 1);
    await new Promise((resolveWait) => setTimeout(resolveWait, 1000));
  }
}

/** What `cir bench serve-load` reports: the load test's result, what it served, and how fast the cores ran. */
export type ServeLoadResult = LoadTestResult & {
  name: 'serve-load';
  collection: string;
  collectionItems: number;
  method: string;
  /**
   * `probeCpus` just before the load (the server started and idle) and just after it: ms a fixed loop took on each
   * core at once, fastest first. On this project's 2-core VM a quiet core takes ~38 ms; a core at ~80 ms is one
   * the host ran at half speed, and the server's latencies then rise with it.
   */
  cpuProbeMs: { before: number[]; after: number[] };
  /**
   * With `--repeats` above 1, every run's figures in the order they ran; the rest of the result is then the run
   * with the median p99 (the lower median for an even count), except `errors` and `errorSamples`, which cover every
   * run.
   */
  runs?: ServeLoadRun[];
};

/** The figures of each run that `ServeLoadResult.runs` keeps. */
const RUN_FIELDS = [
  'turnsPerSecond',
  'errors',
  'p50Ms',
  'p90Ms',
  'p99Ms',
  'maxMs',
  'peakRssMb',
  'cpuMsPerTurn',
  'cpuProbeMs',
] as const;

/** One run's figures, in `ServeLoadResult.runs`. */
export type ServeLoadRun = Pick<ServeLoadResult, (typeof RUN_FIELDS)[number]>;

/**
 * Several runs as one result: the run with the median p99 (the lower median for an even count), every run's
 * figures in `runs`, and the errors of all of them.
 */
export function combineServeLoadRuns(results: readonly ServeLoadResult[]): ServeLoadResult {
  if (results.length === 0) throw new Error('combineServeLoadRuns: no run');
  if (results.length === 1) return results[0]!;
  const byP99 = [...results].sort((left, right) => left.p99Ms - right.p99Ms);
  const median = byP99[Math.floor((byP99.length - 1) / 2)]!;
  return {
    ...median,
    errors: results.reduce((total, result) => total + result.errors, 0),
    errorSamples: results.flatMap((result) => result.errorSamples).slice(0, 5),
    runs: results.map(
      (result) =>
        Object.fromEntries(
          RUN_FIELDS.filter((field) => result[field] !== undefined).map((field) => [field, result[field]]),
        ) as ServeLoadRun,
    ),
  };
}

/** `cir bench serve-load` for a reader: the latencies first, then memory, CPU, the cores' speed and the server's view. */
export function summarizeServeLoad(result: ServeLoadResult): string {
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  const cores = (values: number[]) => values.map((value) => value.toFixed(0)).join(' ');
  const lines = [
    `serve-load  collection ${result.collection} (${result.collectionItems} items, ${result.method}), ${result.sessions} shoppers, ${result.seconds.toFixed(0)} s after ${result.warmUpSeconds} s of warm-up`,
    `  ${Math.round(result.turnsPerSecond)} turns/s   p50 ${ms(result.p50Ms)}   p90 ${ms(result.p90Ms)}   p99 ${ms(result.p99Ms)}   max ${ms(result.maxMs)}   errors ${result.errors}`,
  ];
  if (result.runs) {
    lines.push(
      `  p99 of each run: ${result.runs.map((run) => ms(run.p99Ms)).join(', ')} (the line above is the median run; errors of all runs)`,
    );
  }
  const { cpuMsPerTurn: cpu } = result;
  const resources = [
    result.peakRssMb !== undefined && `peak RSS ${Math.round(result.peakRssMb)} MB`,
    cpu &&
      `CPU a turn: ${cpu.server === undefined ? '' : `server ${cpu.server.toFixed(2)} ms, `}load generator ${cpu.generator.toFixed(2)} ms`,
  ].filter(Boolean);
  if (resources.length > 0) lines.push(`  ${resources.join('   ')}`);
  lines.push(
    `  cores (ms of a fixed loop, ~39 on a quiet core here): before ${cores(result.cpuProbeMs.before)}, after ${cores(result.cpuProbeMs.after)}`,
  );
  if (result.server) {
    const { turnMsMean, gc, eventLoopLagP99Ms } = result.server;
    lines.push(
      `  in the server: ${ms(turnMsMean)} a turn on average; main-thread GC: ${(['minor', 'major', 'incremental'] as const).map((kind) => `${gc[kind].count} ${kind} (${ms(gc[kind].ms)})`).join(', ')}; event-loop delay p99 ${ms(eventLoopLagP99Ms)}`,
    );
  }
  for (const sample of result.errorSamples) lines.push(`  error: ${sample}`);
  return lines.join('\n');
}

/** What one run serves and how (`benchmarkServeLoad`). */
interface ServeLoadOptions {
  sessions: number;
  seconds: number;
  thinkMs: number;
  warmUpSeconds: number;
  /** Serve another method than the demo collection's (see `loadedCollection`). */
  method?: string;
  /** The shoppers' modification texts (default: the load test's samples). */
  texts?: readonly string[];
}

/**
 * The server under load: `cir serve --demo` in a child process (so that the load generator does not share its
 * event loop), driven by `sessions` concurrent shoppers for `warmUpSeconds` (not measured), then `seconds`. Needs a
 * finished `cir demo` in `serveLoadDemoDirectory()`; the demo collection is built on first use. The cores' speed is
 * probed before and after (`cpuProbeMs`). With `repeats`, that many runs one after the other, each with a fresh
 * server, combined by `combineServeLoadRuns`: the hour's speed moves p99 by ±5–10 ms here, so one run says little.
 */
export async function benchmarkServeLoad(
  options: ServeLoadOptions & { repeats?: number },
): Promise<ServeLoadResult> {
  const repeats = options.repeats ?? 1;
  if (!Number.isInteger(repeats) || repeats < 1) {
    throw new CliError(`--repeats ${repeats}: give a whole number of runs, 1 or more`, 2);
  }
  if (!(await hasFinishedDemo())) {
    throw new CliError(
      `serve-load needs a finished demo in ${serveLoadDemoDirectory()}: run \`cir demo\` first (or give --demo-dir)`,
      2,
    );
  }
  const results: ServeLoadResult[] = [];
  for (let run = 0; run < repeats; run++) {
    if (repeats > 1) process.stderr.write(`serve-load: run ${run + 1} of ${repeats}…\n`);
    results.push(await serveLoadOnce(options));
  }
  return combineServeLoadRuns(results);
}

/** One run of `benchmarkServeLoad`, with its own server (the demo checked finished). */
async function serveLoadOnce(options: ServeLoadOptions): Promise<ServeLoadResult> {
  const demoDirectory = serveLoadDemoDirectory();
  const child = spawn(
    process.execPath,
    [process.argv[1]!, 'serve', '--demo', '--demo-dir', demoDirectory, '--port', '0'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  try {
    const url = await new Promise<string>((resolveUrl, reject) => {
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /cir serve: (http:\/\/\S+)/.exec(stderr);
        if (match) resolveUrl(match[1]!);
      });
      child.once('exit', (code) =>
        reject(new Error(`cir serve exited (${code}) before listening:\n${stderr}`)),
      );
    });
    const collection = await loadedCollection(url, demoDirectory, options.method);
    const before = await probeCpus();
    const result = await runLoadTest({
      url,
      collection: collection.name,
      sessions: options.sessions,
      durationMs: options.seconds * 1000,
      warmUpMs: options.warmUpSeconds * 1000,
      thinkTimeMs: options.thinkMs,
      serverPid: child.pid!,
      ...(options.texts && { texts: options.texts }),
    });
    const after = await probeCpus();
    return {
      name: 'serve-load',
      collection: collection.name,
      collectionItems: collection.items,
      method: collection.method,
      ...result,
      cpuProbeMs: { before, after },
    };
  } finally {
    child.kill('SIGTERM');
  }
}

export const serveLoadBenchmark: BenchmarkDefinition = {
  name: 'serve-load',
  description:
    'cir serve --demo under concurrent shoppers: turn latency p50/p99, errors, peak RSS, and how fast each core ran before and after (needs `cir demo`).',
  options: [
    { name: 'sessions', description: 'concurrent sessions', default: 32 },
    { name: 'seconds', description: 'duration', default: 60 },
    {
      name: 'warmup',
      description:
        'seconds of the same load first, not measured (the first seconds of a new server and generator are ~2× slower)',
      default: 5,
      minimum: 0,
    },
    {
      name: 'pause',
      description: 'mean ms between a session’s turns (a shopper reading; each drawn from 0.5–1.5×)',
      default: 0,
      minimum: 0,
    },
    {
      name: 'repeats',
      description:
        'runs, each with a fresh server: the result is the run with the median p99, every run in `runs`',
      default: 1,
    },
  ],
  summarize: (result) => summarizeServeLoad(result as ServeLoadResult),
  run: (options) =>
    benchmarkServeLoad({
      repeats: options.repeats!,
      sessions: options.sessions!,
      seconds: options.seconds!,
      thinkMs: options.pause!,
      warmUpSeconds: options.warmup!,
      ...(serveLoadSettings.method !== undefined && { method: serveLoadSettings.method }),
      ...(serveLoadSettings.texts !== undefined && { texts: serveLoadSettings.texts }),
    }),
};
