import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { TensorData } from '@cir/core-tensor';
import type { MaiConfig } from './config';
import type { MemoryTokens } from './frozen-turn';
import type { MaiModel } from './mai-model';
import type { ComposedTurn, ComposeTurn } from './turn-composer';

/** What a turn worker is started with (its `workerData`): the model's weights and the encoder to load. */
export interface TurnWorkerInit {
  config: MaiConfig;
  parameters: Record<string, TensorData>;
  /** A mini encoder folder: the worker encodes the turns' texts itself. */
  encoderDirectory: string;
  /** The id of the main thread's encoder: a worker whose folder holds another encoder refuses to start. */
  encoderId: string;
  /** The nice value the worker asks for its own thread (default TURN_WORKER_NICE). */
  nice?: number;
}

/** Main thread → worker: one batch to compose. */
export interface TurnWorkerRequest {
  batch: number;
  turns: ComposeTurn[];
}

/**
 * The size a turn worker's young generation starts at, in MiB a semi-space (V8 starts it at a few MiB and grows it up
 * to 32 MiB here, with a 4 GiB heap limit). A turn allocates ~200 KB of typed arrays (~300 MB/s under load),
 * collected by a scavenge every ~100 ms. Started so, the worker's heap fell in 6 of 11 serve-load runs into a
 * full mark-compact every 100–300 ms ("finalize incremental marking via task; GC in old space requested", 135–187
 * in 15 s, pauses up to 28 ms); such a run lost ~20 % of its throughput and its p90 rose by ~8 ms. Started at
 * 16 MiB, 0 of 11 runs did (`node --trace-gc`, `cir bench serve-load`'s load).
 */
export const TURN_WORKER_SEMI_SPACE_MB = 16;

/**
 * The scheduling priority a turn worker asks for its own thread (a nice value: lower runs first; the main thread and
 * other processes are at 0). Back to back, the worker is the server's busiest thread, and every turn waits for its
 * batches: on a machine whose cores the main thread, the load and V8's helper threads share with it, a batch that
 * usually takes ~6 ms took 20–50 ms whenever the worker lost its core. Ten interleaved 30 s pairs of `cir serve --demo`
 * under 32 shoppers back to back (2 cores): p99 40.6–54.0 ms (mean 48.6) at -5 against 44.2–75.7 ms (mean 55.3) at 0,
 * lower in 8 pairs of 10. Raising a priority takes CAP_SYS_NICE (root, or RLIMIT_NICE): without it the worker stays at
 * its inherited priority and says why (`TurnWorkerClient.report`'s `nice` and `niceError`). Linux only (a thread's
 * own nice value).
 */
export const TURN_WORKER_NICE = -5;

/** What a turn worker says of itself once it has loaded. */
export interface TurnWorkerReport {
  /** The worker heap's young generation (V8's new space) when the worker started, in MiB. */
  newSpaceMb?: number;
  /** The worker thread's nice value after it asked for `TurnWorkerInit.nice` (Linux). */
  nice?: number;
  /** Why it did not get that priority (e.g. EACCES without CAP_SYS_NICE). */
  niceError?: string;
}

/** Worker → main thread. An `error` is a message: errors do not cross threads with their class. */
export type TurnWorkerMessage =
  | ({ ready: true } & TurnWorkerReport)
  | { failed: string }
  | {
      batch: number;
      results: ({ query: Float32Array; memory: MemoryTokens } | { error: string })[];
    };

/**
 * The main thread's side of a turn worker (`turn-worker.ts`): a thread that runs `TurnComposer` on a copy of the
 * model, so that a server's main thread reads and answers requests (and searches the gallery) while the model
 * computes the next batch.
 *
 * One batch at a time. `ready` is false while the worker loads (~1 s) and while a batch is out; a worker that fails
 * to start, crashes or exits stays failed (`failure` says why) and its batch's `compose` rejects: the caller
 * computes on its own thread instead.
 */
export class TurnWorkerClient {
  private readonly worker: Worker;
  private inFlight:
    | { batch: number; resolve(results: ComposedTurn[]): void; reject(error: Error): void }
    | undefined;
  private batches = 0;
  private started!: (loaded: boolean) => void;
  /** Resolves true once the worker has loaded, false if it fails first. */
  readonly loaded = new Promise<boolean>((resolve) => {
    this.started = resolve;
  });
  /** Why the worker stopped working (undefined while it works). */
  failure: string | undefined;
  /** Batches the worker has answered. */
  answered = 0;
  /** Whether the worker said it had loaded before any failure (it may have stopped since: see `failure`). */
  hasLoaded = false;
  /** What the worker said of itself when it loaded (empty until then). */
  report: TurnWorkerReport = {};

  /**
   * @param script the worker's module (`dist/turn-worker.js` of this package, or a bundle of `turn-worker.ts`)
   * @param init the model as it is now (`turnWorkerInit`): start a new client after its parameters change
   */
  constructor(script: string | URL, init: TurnWorkerInit) {
    // V8 reads this flag when it creates an isolate: it sizes this worker's heap (and that of any thread started
    // after it), not the running ones'. Worker `execArgv` and `resourceLimits` cannot set it.
    setFlagsFromString(`--min-semi-space-size=${TURN_WORKER_SEMI_SPACE_MB}`);
    this.worker = new Worker(script, { workerData: init });
    // An idle worker does not keep the process alive; one with a batch out does (see compose).
    this.worker.unref();
    this.worker.on('message', (message: TurnWorkerMessage) => this.receive(message));
    this.worker.on('error', (error) => this.fail(`the turn worker failed: ${error.message}`));
    this.worker.on('exit', (code) => this.fail(`the turn worker exited (code ${code})`));
  }

  /** Whether `compose` may be called now: the worker has loaded and has no batch out. */
  get ready(): boolean {
    return this.hasLoaded && this.failure === undefined && !this.inFlight;
  }

  /**
   * The model's part of a batch of turns, computed in the worker.
   * @throws (rejects) when the worker is not ready, or stops before answering
   */
  compose(turns: readonly ComposeTurn[]): Promise<ComposedTurn[]> {
    if (!this.ready) {
      return Promise.reject(new Error(this.failure ?? 'the turn worker is busy or still loading'));
    }
    const batch = ++this.batches;
    return new Promise<ComposedTurn[]>((resolve, reject) => {
      this.inFlight = { batch, resolve, reject };
      this.worker.ref();
      const request: TurnWorkerRequest = {
        batch,
        // Copies of only what the model reads: a reference's tokens are a view into the whole gallery's, which
        // would otherwise be cloned entire.
        turns: turns.map((turn) => ({
          text: turn.text,
          aggregated: turn.aggregated.slice(),
          memory: turn.memory && { tokens: turn.memory.tokens.slice(), count: turn.memory.count },
          ...(turn.history && {
            history: {
              captions: turn.history.captions.slice(),
              mask: turn.history.mask.slice(),
              turns: turn.history.turns,
            },
          }),
        })),
      };
      this.worker.postMessage(request);
    });
  }

  /** Stops the worker; a batch out is rejected. */
  async terminate(): Promise<void> {
    this.fail('the turn worker was stopped', true);
    await this.worker.terminate();
  }

  private receive(message: TurnWorkerMessage): void {
    if ('ready' in message) {
      if (this.failure === undefined) {
        const { ready: _ready, ...report } = message;
        this.hasLoaded = true;
        this.report = report;
        this.started(true);
      }
      return;
    }
    if ('failed' in message) {
      this.fail(`the turn worker could not start: ${message.failed}`);
      return;
    }
    const inFlight = this.inFlight;
    if (!inFlight || inFlight.batch !== message.batch) return;
    this.inFlight = undefined;
    this.answered++;
    this.worker.unref();
    inFlight.resolve(
      message.results.map((result) => ('error' in result ? { error: new Error(result.error) } : result)),
    );
  }

  private fail(reason: string, stopped = false): void {
    if (this.failure !== undefined) return;
    this.failure = reason;
    this.started(false);
    if (!stopped) process.emitWarning(`${reason}; MAI turns compute on the main thread from now on`);
    const inFlight = this.inFlight;
    this.inFlight = undefined;
    this.worker.unref();
    inFlight?.reject(new Error(reason));
  }
}

/** A turn worker and the retrievers that use it. */
interface SharedTurnWorker {
  client: TurnWorkerClient;
  users: number;
}

const sharedTurnWorkers = new Map<string, SharedTurnWorker>();

/** A retriever's hold on a shared turn worker (`acquireTurnWorker`). */
export interface TurnWorkerLease {
  readonly client: TurnWorkerClient;
  /** How many retrievers use the worker now (this one included, until it releases it). */
  readonly users: number;
  /** Lets the worker go: it stops when its last user lets it go. Idempotent. */
  release(): void;
}

/**
 * A turn worker for `model` as it is now, shared with every retriever that serves the same weights with the same
 * encoder folder and worker script: several collections built with one trained MAI get one thread and one copy of
 * the model (~150 MB) instead of one each. A worker composing another retriever's batch is not `ready`, so that
 * batch computes on the calling thread, as it would while the worker loads. A worker that has failed is not handed
 * out again: the next acquirer starts a new one.
 */
export function acquireTurnWorker(
  script: string | URL,
  model: MaiModel,
  options: { encoderDirectory: string; encoderId: string },
): TurnWorkerLease {
  const init = turnWorkerInit(model, options);
  const key = turnWorkerKey(script, init);
  let shared = sharedTurnWorkers.get(key);
  if (!shared || shared.client.failure !== undefined) {
    shared = { client: new TurnWorkerClient(script, init), users: 0 };
    sharedTurnWorkers.set(key, shared);
  }
  shared.users++;
  const held = shared;
  let released = false;
  return {
    client: held.client,
    get users() {
      return held.users;
    },
    release() {
      if (released) return;
      released = true;
      held.users--;
      if (held.users > 0) return;
      if (sharedTurnWorkers.get(key) === held) sharedTurnWorkers.delete(key);
      void held.client.terminate();
    },
  };
}

/** What a worker for `model` as it is now starts with: its configuration, a copy of its weights, the encoder. */
export function turnWorkerInit(
  model: MaiModel,
  options: { encoderDirectory: string; encoderId: string },
): TurnWorkerInit {
  return {
    config: model.config,
    parameters: model.exportParameters(),
    encoderDirectory: options.encoderDirectory,
    encoderId: options.encoderId,
  };
}

/** What makes two workers interchangeable: the script, the encoder, the model's configuration and weights. */
function turnWorkerKey(script: string | URL, init: TurnWorkerInit): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify([String(script), init.encoderDirectory, init.encoderId, init.config]));
  for (const name of Object.keys(init.parameters).sort()) {
    const { shape, data } = init.parameters[name]!;
    hash.update(`${name}:${shape.join('x')}`);
    hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return hash.digest('hex');
}
