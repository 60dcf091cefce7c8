import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { MiniClipEncoder } from '@cir/encoders';
import { createTinyEncoderWorld, type TinyEncoderWorld } from '@cir/encoders/testing';
import type { TurnInput, TurnResult } from '@cir/index';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bundleTurnWorker } from './__fixtures__/bundle-turn-worker';
import type { MaiConfig } from './config';
import { MaiModel } from './mai-model';
import { MaiRetriever } from './mai-retriever';
import { perturbParameters, SMALL_MAI_CONFIG } from './test-helpers';
import {
  acquireTurnWorker,
  TURN_WORKER_NICE,
  TURN_WORKER_SEMI_SPACE_MB,
  TurnWorkerClient,
  turnWorkerInit,
} from './turn-worker-client';

/** A mini encoder small enough to train in a few seconds, and a MAI that reads its tokens. */
const TINY_ENCODER = {
  imageSize: 32 as const,
  patchSize: 8,
  width: 16,
  layers: 1,
  heads: 2,
  embedDim: 8,
  maxTextLength: 12,
};
const TINY_MAI: MaiConfig = {
  ...SMALL_MAI_CONFIG,
  inputDim: TINY_ENCODER.width,
  maxTextTokens: TINY_ENCODER.maxTextLength,
};

let world: TinyEncoderWorld;
/** The world's temporary folder: the bundled worker and the tests' own files go there too. */
let root: string;
let encoderDirectory: string;
let encoder: MiniClipEncoder;
let script: string;
let items: { id: string; imagePath: string; caption: string }[];

/** The nice value of every thread of this process (Linux /proc: the 19th field of a thread's stat). */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').map((thread) => {
    const stat = readFileSync(`/proc/self/task/${thread}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

beforeAll(async () => {
  world = await createTinyEncoderWorld({ prefix: 'cir-turn-worker-', seed: 5, config: TINY_ENCODER });
  ({ root, encoderDirectory, encoder } = world);
  script = await bundleTurnWorker(root);
  const pairs = (await readFile(join(world.catalog, 'captions.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .slice(0, 24)
    .map((line) => JSON.parse(line) as { image: string; caption: string });
  items = pairs.map((pair, row) => ({
    id: `item-${row}`,
    imagePath: join(world.catalog, pair.image),
    caption: pair.caption,
  }));
}, 120_000);

afterAll(async () => {
  await world?.dispose();
});

/** Sessions of 4 turns each: plain, a rollback, a combination turn; all sessions' turns in flight at once. */
async function runConcurrentSessions(retriever: MaiRetriever): Promise<TurnResult[][]> {
  const scripts: TurnInput[][] = [0, 1, 2, 3, 4, 5].map((index) => [
    { referenceId: `item-${index}`, text: 'is red', limit: 6 },
    { referenceId: `item-${index + 6}`, text: 'has long sleeves', limit: 6 },
    { text: 'go back to the first one, and make it blue', limit: 6 },
    { text: '1. is black 2. keep the pattern of the first turn', limit: 6 },
  ]);
  const sessions = scripts.map(() => retriever.openSession());
  const answers: TurnResult[][] = scripts.map(() => []);
  for (let turn = 0; turn < 4; turn++) {
    const results = await Promise.all(sessions.map((session, index) => session.turn(scripts[index]![turn]!)));
    results.forEach((result, index) => {
      answers[index]!.push(result);
    });
  }
  return answers;
}

async function encodedRetriever(
  options: ConstructorParameters<typeof MaiRetriever>[2],
): Promise<MaiRetriever> {
  const retriever = new MaiRetriever(perturbParameters(new MaiModel(TINY_MAI, 21), 4), encoder, options);
  await retriever.encodeGallery(items);
  return retriever;
}

let localAnswers: TurnResult[][] | undefined;

/** `runConcurrentSessions` on the calling thread alone (computed once). */
async function answersWithoutWorker(): Promise<TurnResult[][]> {
  if (!localAnswers) {
    const local = await encodedRetriever({});
    localAnswers = await runConcurrentSessions(local);
    expect(local.batcher.workerStatus).toBeUndefined();
    local.dispose();
  }
  return localAnswers;
}

function expectSameAnswers(actual: TurnResult[][], expected: TurnResult[][]): void {
  actual.forEach((session, index) => {
    session.forEach((answer, turn) => {
      const reference = expected[index]![turn]!;
      expect(answer.results.map((hit) => hit.id)).toEqual(reference.results.map((hit) => hit.id));
      answer.results.forEach((hit, rank) => {
        expect(hit.score).toBeCloseTo(reference.results[rank]!.score, 5);
      });
      expect(answer.returnedTo).toBe(reference.returnedTo);
    });
  });
}

describe('MaiRetriever with a turn worker', () => {
  it('answers concurrent sessions in the worker thread exactly as on the calling thread', async () => {
    const threaded = await encodedRetriever({ turnWorker: { encoderDirectory, script } });
    expect(await threaded.batcher.whenWorkerLoaded()).toBe(true);
    expectSameAnswers(await runConcurrentSessions(threaded), await answersWithoutWorker());
    // Every batch went to the worker (it had loaded before the first).
    expect(threaded.batcher.workerStatus).toMatchObject({ loaded: true, batches: 4, users: 1 });
    expect(threaded.batcher.workerStatus?.failure).toBeUndefined();
    expect(threaded.batcher.workerStatus?.newSpaceMb).toBeGreaterThanOrEqual(TURN_WORKER_SEMI_SPACE_MB);
    if (existsSync('/proc/thread-self')) {
      // The worker asked for TURN_WORKER_NICE: it got it, or says why not (no CAP_SYS_NICE) and kept its own.
      const { nice, niceError } = threaded.batcher.workerStatus!;
      if (niceError === undefined) expect(nice).toBe(TURN_WORKER_NICE);
      else expect(niceError).toMatch(/EACCES|EPERM|permission/i);
      expect(threadNiceValues()).toContain(nice);
    }
    threaded.dispose();
  }, 60_000);

  it('shares one worker between the retrievers that serve the same weights', async () => {
    const first = await encodedRetriever({ turnWorker: { encoderDirectory, script } });
    const second = await encodedRetriever({ turnWorker: { encoderDirectory, script } });
    // Other weights: a worker of their own.
    const other = new MaiRetriever(perturbParameters(new MaiModel(TINY_MAI, 22), 4), encoder, {
      turnWorker: { encoderDirectory, script },
    });
    await other.encodeGallery(items);
    try {
      expect(await first.batcher.whenWorkerLoaded()).toBe(true);
      expect(await second.batcher.whenWorkerLoaded()).toBe(true);
      expect(first.batcher.workerStatus?.users).toBe(2);
      expect(other.batcher.workerStatus?.users).toBe(1);
      // Both at once: the worker composes one batch at a time, the other computes on its calling thread; the
      // answers are the same either way.
      const [firstAnswers, secondAnswers] = await Promise.all([
        runConcurrentSessions(first),
        runConcurrentSessions(second),
      ]);
      expectSameAnswers(firstAnswers, await answersWithoutWorker());
      expectSameAnswers(secondAnswers, await answersWithoutWorker());
      expect(first.batcher.workerStatus?.batches).toBeGreaterThanOrEqual(4);
      // One retriever let go: the worker goes on serving the other.
      first.dispose();
      expect(second.batcher.workerStatus?.users).toBe(1);
      const before = second.batcher.workerStatus!.batches;
      expectSameAnswers(await runConcurrentSessions(second), await answersWithoutWorker());
      expect(second.batcher.workerStatus).toMatchObject({ loaded: true, batches: before + 4 });
      expect(second.batcher.workerStatus?.failure).toBeUndefined();
    } finally {
      first.dispose();
      second.dispose();
      other.dispose();
    }
  }, 60_000);

  it('stops a shared worker when its last user lets it go, and starts a new one after', () => {
    const model = perturbParameters(new MaiModel(TINY_MAI, 23), 4);
    const options = { encoderDirectory, encoderId: encoder.id };
    const a = acquireTurnWorker(script, model, options);
    const b = acquireTurnWorker(script, model, options);
    expect(b.client).toBe(a.client);
    expect(a.users).toBe(2);
    a.release();
    a.release();
    expect(b.users).toBe(1);
    expect(b.client.failure).toBeUndefined();
    b.release();
    expect(b.client.failure).toBe('the turn worker was stopped');
    const c = acquireTurnWorker(script, model, options);
    expect(c.client).not.toBe(a.client);
    c.release();
  });

  it("starts the worker's young generation at TURN_WORKER_SEMI_SPACE_MB, not V8's few MiB", async () => {
    // A worker that reports its new space before it allocates anything, then waits (until terminated).
    const probe = join(root, 'new-space-worker.mjs');
    await writeFile(
      probe,
      "import { parentPort } from 'node:worker_threads';\n" +
        "import { getHeapSpaceStatistics } from 'node:v8';\n" +
        "const space = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');\n" +
        'parentPort.postMessage({ ready: true, newSpaceMb: space.space_size / 2 ** 20 });\n' +
        "parentPort.on('message', () => {});\n",
    );
    const newSpaceOf = (worker: Worker) =>
      new Promise<number>((resolve) => worker.once('message', (message) => resolve(message.newSpaceMb)));
    // The flag is the process's: back to V8's default first (an earlier test's client set it).
    setFlagsFromString('--min-semi-space-size=0');
    const plain = new Worker(probe);
    try {
      expect(await newSpaceOf(plain)).toBeLessThan(TURN_WORKER_SEMI_SPACE_MB);
    } finally {
      await plain.terminate();
    }
    const client = new TurnWorkerClient(
      probe,
      turnWorkerInit(new MaiModel(TINY_MAI, 3), { encoderDirectory, encoderId: encoder.id }),
    );
    try {
      expect(await client.loaded).toBe(true);
      expect(client.report.newSpaceMb).toBe(TURN_WORKER_SEMI_SPACE_MB);
    } finally {
      await client.terminate();
    }
  });

  it.skipIf(!existsSync('/proc/thread-self'))(
    'runs the worker thread alone at the nice value it is given (Linux)',
    async () => {
      // A lower priority than the process's needs no privilege: it always applies, to the worker's thread only.
      const before = threadNiceValues();
      const client = new TurnWorkerClient(script, {
        ...turnWorkerInit(new MaiModel(TINY_MAI, 5), { encoderDirectory, encoderId: encoder.id }),
        nice: 7,
      });
      try {
        expect(await client.loaded).toBe(true);
        expect(client.report).toEqual({ newSpaceMb: expect.any(Number), nice: 7 });
        const after = threadNiceValues();
        expect(after.filter((nice) => nice === 7)).toHaveLength(
          before.filter((nice) => nice === 7).length + 1,
        );
        expect(after).toContain(0);
      } finally {
        await client.terminate();
      }
    },
    60_000,
  );

  it('computes on the calling thread when the worker cannot start, and says why', async () => {
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const missing = join(root, 'no-encoder-here');
    const retriever = await encodedRetriever({ turnWorker: { encoderDirectory: missing, script } });
    expect(await retriever.batcher.whenWorkerLoaded()).toBe(false);
    expectSameAnswers(await runConcurrentSessions(retriever), await answersWithoutWorker());
    expect(retriever.batcher.workerStatus).toMatchObject({ loaded: false, batches: 0 });
    expect(retriever.batcher.workerStatus?.failure).toContain(missing);
    expect(String(warning.mock.calls[0]?.[0])).toMatch(/could not start.*compute on the main thread/);
    warning.mockRestore();
    retriever.dispose();
  }, 60_000);

  it('recomputes a batch on the calling thread when the worker dies with it', async () => {
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    // A worker that loads, then exits on its first batch.
    const dying = join(root, 'dying-worker.mjs');
    await writeFile(
      dying,
      "import { parentPort } from 'node:worker_threads';\n" +
        'parentPort.postMessage({ ready: true });\n' +
        'parentPort.on("message", () => process.exit(3));\n',
    );
    const retriever = await encodedRetriever({ turnWorker: { encoderDirectory, script: dying } });
    expect(await retriever.batcher.whenWorkerLoaded()).toBe(true);
    expectSameAnswers(await runConcurrentSessions(retriever), await answersWithoutWorker());
    expect(retriever.batcher.workerStatus).toEqual({
      loaded: true,
      failure: 'the turn worker exited (code 3)',
      batches: 0,
      users: 1,
    });
    expect(String(warning.mock.calls[0]?.[0])).toMatch(/exited \(code 3\)/);
    warning.mockRestore();
    retriever.dispose();
  }, 60_000);
});
