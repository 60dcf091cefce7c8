import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../test-helpers';
import {
  combineServeLoadRuns,
  readTurnTexts,
  type ServeLoadResult,
  summarizeServeLoad,
} from './serve-load-benchmark';

/** A serve-load result whose figures all follow from its p99. */
const serveLoadRun = (p99Ms: number, errors: number, sample?: string): ServeLoadResult => ({
  name: 'serve-load',
  collection: 'demo',
  collectionItems: 10_000,
  method: 'mai',
  sessions: 32,
  seconds: 60,
  warmUpSeconds: 5,
  turns: 1000 + p99Ms,
  turnsPerSecond: 100 + p99Ms,
  errors,
  errorSamples: sample ? [sample] : [],
  p50Ms: p99Ms / 3,
  p90Ms: p99Ms / 2,
  p99Ms,
  maxMs: 2 * p99Ms,
  cpuProbeMs: { before: [38, p99Ms], after: [39, 40] },
});

describe('cir bench', () => {
  it('refuses an option the chosen benchmark does not take, naming the ones it does (exit 2)', async () => {
    const { error } = await runCli('bench', 'ann', '--n', '1000');
    expect(error?.exitCode).toBe(2);
    expect(error?.message).toMatch(/^--n does not apply to ann \(it takes .*--count/);
  });

  it('takes --method and --texts for serve-load only (exit 2 elsewhere)', async () => {
    for (const option of ['--method', '--texts']) {
      const { error } = await runCli('bench', 'topk', option, 'x');
      expect(error?.exitCode).toBe(2);
      expect(error?.message).toBe(`${option} applies to serve-load only`);
    }
  });

  it('reads --texts one a line, and names the file and line of what it cannot take', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'cir-bench-texts-'));
    const file = join(folder, 'texts.txt');
    await writeFile(file, 'is red\r\n\n  go back to the previous one, in blue  \n');
    expect(await readTurnTexts(file)).toEqual(['is red', 'go back to the previous one, in blue']);
    await writeFile(file, '\n \n');
    await expect(readTurnTexts(file)).rejects.toMatchObject({
      exitCode: 2,
      message: `--texts ${file}: no text in it (one modification text a line)`,
    });
    await writeFile(file, `is red\n${'a'.repeat(2001)}\n`);
    await expect(readTurnTexts(file)).rejects.toThrow(`--texts ${file}, line 2: 2001 characters`);
    await expect(readTurnTexts(join(folder, 'missing.txt'))).rejects.toThrow(
      /--texts .*missing\.txt: ENOENT/,
    );
  });

  it('says what a shared option means for each benchmark that takes it', async () => {
    const { stdout } = await runCli('bench');
    // commander wraps long descriptions: compare with the whitespace folded.
    const help = stdout.replace(/\s+/g, ' ');
    expect(help).toMatch(/--dim <number> model width \(attention\); vector dimension \(topk, ann\)/);
  });

  it('combines --repeats runs of serve-load: the median-p99 run, every run listed, the errors of all', () => {
    const single = serveLoadRun(44, 0);
    expect(combineServeLoadRuns([single])).toBe(single);
    // Odd count: the middle p99 (48), whichever order the runs came in.
    const three = combineServeLoadRuns([
      serveLoadRun(56, 1, 'POST → 500'),
      serveLoadRun(41, 0),
      serveLoadRun(48, 2, 'timeout'),
    ]);
    expect(three).toMatchObject({ p99Ms: 48, turns: 1048, turnsPerSecond: 148, p50Ms: 16 });
    expect(three.errors).toBe(3);
    expect(three.errorSamples).toEqual(['POST → 500', 'timeout']);
    expect(three.runs!.map((entry) => entry.p99Ms)).toEqual([56, 41, 48]);
    expect(three.runs![0]).toEqual({
      turnsPerSecond: 156,
      errors: 1,
      p50Ms: 56 / 3,
      p90Ms: 28,
      p99Ms: 56,
      maxMs: 112,
      cpuProbeMs: { before: [38, 56], after: [39, 40] },
    });
    // Even count: the lower of the two middle runs.
    expect(
      combineServeLoadRuns([
        serveLoadRun(50, 0),
        serveLoadRun(40, 0),
        serveLoadRun(45, 0),
        serveLoadRun(60, 0),
      ]).p99Ms,
    ).toBe(45);
    expect(() => combineServeLoadRuns([])).toThrow(/no run/);
  });

  it('refuses an option value the benchmark cannot take: a fraction, or below its minimum (exit 2, before any run)', async () => {
    const refused: [string[], string][] = [
      [
        ['serve-load', '--repeats', '0', '--demo-dir', tmpdir()],
        '--repeats 0: serve-load takes an integer of at least 1',
      ],
      [
        ['serve-load', '--pause', '-1', '--demo-dir', tmpdir()],
        '--pause -1: serve-load takes an integer of at least 0',
      ],
      [['topk', '--n', '-5'], '--n -5: topk takes an integer of at least 1 (gallery size N)'],
      [['topk', '--n', '1.5'], '--n 1.5: topk takes an integer of at least 1'],
      [['topk', '--k', '0'], '--k 0: topk takes an integer of at least 1'],
      [['ann', '--seed', '-1'], '--seed -1: ann takes an integer of at least 0'],
    ];
    for (const [args, message] of refused) {
      const { error } = await runCli('bench', ...args);
      expect(error?.exitCode).toBe(2);
      expect(error?.message).toContain(message);
    }
    // Not a plain decimal number: commander's usage error (exit 2 in bin.ts).
    await expect(runCli('bench', 'topk', '--n', '0x10')).rejects.toThrow(/"0x10" is not a number/);
  });

  it('prints serve-load for a reader: latencies, each run of --repeats, memory and CPU, the cores, the server', () => {
    const combined = combineServeLoadRuns([
      serveLoadRun(56, 1, 'POST → 500'),
      serveLoadRun(41, 0),
      serveLoadRun(48, 0),
    ]);
    const text = summarizeServeLoad({
      ...combined,
      peakRssMb: 806.4,
      cpuMsPerTurn: { server: 0.731, generator: 0.124 },
      server: {
        turns: 9200,
        turnMsMean: 12.32,
        gc: {
          minor: { count: 26, ms: 83.7 },
          major: { count: 1, ms: 9.5 },
          incremental: { count: 0, ms: 0 },
        },
        eventLoopLagP99Ms: 17.2,
      },
    });
    expect(text.split('\n')).toEqual([
      'serve-load  collection demo (10000 items, mai), 32 shoppers, 60 s after 5 s of warm-up',
      '  148 turns/s   p50 16.0 ms   p90 24.0 ms   p99 48.0 ms   max 96.0 ms   errors 1',
      '  p99 of each run: 56.0 ms, 41.0 ms, 48.0 ms (the line above is the median run; errors of all runs)',
      '  peak RSS 806 MB   CPU a turn: server 0.73 ms, load generator 0.12 ms',
      '  cores (ms of a fixed loop, ~39 on a quiet core here): before 38 48, after 39 40',
      '  in the server: 12.3 ms a turn on average; main-thread GC: 26 minor (83.7 ms), 1 major (9.5 ms), 0 incremental (0.0 ms); event-loop delay p99 17.2 ms',
      '  error: POST → 500',
    ]);
    // One run, nothing from the server's metrics or /proc: only what was measured.
    expect(summarizeServeLoad(serveLoadRun(44, 0)).split('\n')).toEqual([
      'serve-load  collection demo (10000 items, mai), 32 shoppers, 60 s after 5 s of warm-up',
      '  144 turns/s   p50 14.7 ms   p90 22.0 ms   p99 44.0 ms   max 88.0 ms   errors 0',
      '  cores (ms of a fixed loop, ~39 on a quiet core here): before 38 44, after 39 40',
    ]);
  });
});
