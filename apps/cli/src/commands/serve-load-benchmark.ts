import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { BenchmarkDefinition } from '@cir/core-tensor';
import { type LoadTestResult, runLoadTest } from '@cir/server';
import { CliError } from '../output';
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
 * The server under load: `cir serve --demo` in a child process (so that the load generator does not share its
 * event loop), driven by `sessions` concurrent shoppers for `warmUpSeconds` (not measured), then `seconds`. Needs a
 * finished `cir demo` in `serveLoadDemoDirectory()`; the demo collection is built on first use.
 */
export async function benchmarkServeLoad(options: {
  sessions: number;
  seconds: number;
  thinkMs: number;
  warmUpSeconds: number;
}): Promise<LoadTestResult & { name: 'serve-load'; collectionItems: number; method: string }> {
  const demoDirectory = serveLoadDemoDirectory();
  if (!(await hasFinishedDemo())) {
    throw new CliError(
      `serve-load needs a finished demo in ${demoDirectory}: run \`cir demo\` first (or give --demo-dir)`,
      2,
    );
  }
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
    const collections = (await (await fetch(`${url}/v1/collections`)).json()) as {
      collections: { name: string; items: number; method: string }[];
    };
    const demo = collections.collections.find((collection) => collection.name === 'demo')!;
    const result = await runLoadTest({
      url,
      collection: 'demo',
      sessions: options.sessions,
      durationMs: options.seconds * 1000,
      warmUpMs: options.warmUpSeconds * 1000,
      thinkTimeMs: options.thinkMs,
      serverPid: child.pid!,
    });
    return { name: 'serve-load', collectionItems: demo.items, method: demo.method, ...result };
  } finally {
    child.kill('SIGTERM');
  }
}

export const serveLoadBenchmark: BenchmarkDefinition = {
  name: 'serve-load',
  description:
    'cir serve --demo under concurrent shoppers: turn latency p50/p99, errors, peak RSS (needs `cir demo`).',
  options: [
    { name: 'sessions', description: 'concurrent sessions', default: 32 },
    { name: 'seconds', description: 'duration', default: 60 },
    {
      name: 'warmup',
      description:
        'seconds of the same load first, not measured (the first seconds of a new server and generator are ~2× slower)',
      default: 5,
    },
    {
      name: 'pause',
      description: 'mean ms between a session’s turns (a shopper reading; each drawn from 0.5–1.5×)',
      default: 0,
    },
  ],
  run: (options) =>
    benchmarkServeLoad({
      sessions: options.sessions!,
      seconds: options.seconds!,
      thinkMs: options.pause!,
      warmUpSeconds: options.warmup!,
    }),
};
