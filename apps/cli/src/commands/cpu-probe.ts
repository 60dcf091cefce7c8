import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * The probe's thread: a fixed scalar floating-point loop (no allocation, no I/O), compiled once, then timed
 * `repeats` times; it posts the times in ms.
 */
const PROBE_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const values = new Float64Array(16384);
for (let i = 0; i < values.length; i++) values[i] = (i % 7) * 0.1;
let sink = 0;
const loop = () => {
  let sum = 0;
  for (let round = 0; round < workerData.rounds; round++)
    for (let i = 0; i < values.length; i++) sum += values[i] * 1.0001;
  return sum;
};
sink += loop();
const times = [];
for (let repeat = 0; repeat < workerData.repeats; repeat++) {
  const start = performance.now();
  sink += loop();
  times.push(performance.now() - start);
}
parentPort.postMessage({ times, sink });
`;

export interface CpuProbeOptions {
  /** Threads run at once (default: one a core, so that each core runs one). */
  threads?: number;
  /** Timed runs of the loop on each thread; its median is reported (default 5). */
  repeats?: number;
  /** Passes over 16,384 values a run (default 4,000: ~40 ms a run on a quiet core of this project's 2-core VM). */
  rounds?: number;
}

/**
 * How fast each core runs now: the same fixed loop on one thread a core at once, each thread's median time in ms,
 * fastest first. On a virtual machine whose host is busy, a core runs the loop slower than its twin; on this
 * project's 2-core VM, a quiet core took ~38 ms, a core the host ran at half speed ~80 ms (`cir bench serve-load`
 * reports it before and after its window, to tell a slow machine from a slow server).
 */
export async function probeCpus(options: CpuProbeOptions = {}): Promise<number[]> {
  const threads = options.threads ?? availableParallelism();
  const repeats = options.repeats ?? 5;
  const rounds = options.rounds ?? 4000;
  for (const [name, value] of Object.entries({ threads, repeats, rounds })) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`probeCpus: ${name} must be a positive integer, got ${value}`);
    }
  }
  const medians = await Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<number>((resolve, reject) => {
          const worker = new Worker(PROBE_THREAD, { eval: true, workerData: { repeats, rounds } });
          worker.once('message', ({ times }: { times: number[] }) => {
            const sorted = [...times].sort((left, right) => left - right);
            resolve(sorted[Math.floor(sorted.length / 2)]!);
          });
          worker.once('error', reject);
          worker.once('exit', (code) => reject(new Error(`the CPU probe thread exited (code ${code})`)));
        }),
    ),
  );
  return medians.sort((left, right) => left - right);
}
