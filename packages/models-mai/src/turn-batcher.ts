import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { withComputeThreads } from '@cir/core-tensor';
import {
  type BatchedRequest,
  type BatchHandOff,
  type ExactStore,
  MicroBatcher,
  type SearchHit,
  searchGrouped,
} from '@cir/index';
import type { TokenEncoder } from './features';
import type { MemoryTokens } from './frozen-turn';
import type { MaiModel } from './mai-model';
import { type ComposedTurn, type ComposeTurn, TurnComposer } from './turn-composer';
import {
  acquireTurnWorker,
  type TurnWorkerClient,
  type TurnWorkerLease,
  type TurnWorkerReport,
} from './turn-worker-client';

/** A session's turn for the batcher: the model's inputs, and whether to search the gallery with the query. */
export interface BatchedTurn extends ComposeTurn {
  /** Search the gallery with the composed query too (turns of a batch with equal options search together). */
  search?: TurnSearch;
}

export interface TurnSearch {
  limit: number;
  filter?: Record<string, string>;
}

export interface BatchedResult {
  /** The composed query `[embedDim]`. */
  query: Float32Array;
  /** The session's memory after this turn `[1, count, dim]`. */
  memory: MemoryTokens;
  /** Best first, when the turn asked for a search. */
  hits?: SearchHit[];
}

/**
 * Where a retriever's turns may compute besides the calling thread: a worker thread that loads the mini encoder from
 * `encoderDirectory` (the one the retriever's encoder was loaded from) and a copy of the model.
 */
export interface TurnWorkerOptions {
  encoderDirectory: string;
  /**
   * The worker's module. Default: `turn-worker.js` beside this package's built code, on a machine with two or more
   * cores (none when this package runs from its TypeScript source).
   */
  script?: string | URL;
}

/** `dist/turn-worker.js` beside the built package; undefined when this module runs from its TypeScript source. */
function builtWorkerScript(): URL | undefined {
  const script = new URL('./turn-worker.js', import.meta.url);
  return script.protocol === 'file:' && existsSync(fileURLToPath(script)) ? script : undefined;
}

type PendingTurn = BatchedRequest<BatchedTurn, BatchedResult>;

/**
 * Dynamic batching of turns across sessions (`MicroBatcher`): turns that arrive while the model is busy (or in the
 * same tick) run as one batch — one text encoding, one memory update and one MSA pass for all of them
 * (`TurnComposer`) — instead of one small pass each, then one gallery search per limit and filter. Under concurrent
 * load this divides the fixed cost of every model call by the batch size. The arithmetic per row is the same as for
 * a single turn (every operation is row-wise, padding is masked), so a batched turn returns the query a lone turn
 * would.
 *
 * With a turn worker (`TurnWorkerOptions`, on a machine with more than one core), the model part runs in the worker
 * once it has loaded, and the next batch goes to it as soon as it answers, while this thread searches the gallery
 * for the last batch and reads and answers requests. Measured on the 10k demo catalog with 32 shoppers back to back
 * (2 cores, 60 s runs interleaved): 1,340–1,910 turns/s instead of 990–1,255, p50 15–21 ms instead of 22–28.5; the
 * p99 stays close (42–56 ms against 49–58). Until the worker has loaded, and after it fails, batches compute on
 * this thread.
 */
export class TurnBatcher {
  /** Largest batch: bounds the latency one flush adds. */
  static readonly MAX_BATCH = 64;
  private readonly batcher = new MicroBatcher<BatchedTurn, BatchedResult>(
    (batch) => this.process(batch),
    TurnBatcher.MAX_BATCH,
  );
  private composer: TurnComposer;
  private workerLease: TurnWorkerLease | undefined;
  private readonly workerScript: string | URL | undefined;

  constructor(
    private readonly model: MaiModel,
    private readonly encoder: TokenEncoder,
    private readonly gallery: () => ExactStore,
    private readonly workerOptions?: TurnWorkerOptions,
  ) {
    this.composer = new TurnComposer(model, encoder);
    // A worker only pays on a machine with a core to spare, unless its script was given explicitly.
    this.workerScript =
      workerOptions?.script ??
      (workerOptions && availableParallelism() > 1 ? builtWorkerScript() : undefined);
  }

  run(turn: BatchedTurn): Promise<BatchedResult> {
    return this.batcher.run(turn);
  }

  /**
   * The turn worker's state: whether it was started and has loaded, why it stopped, how many batches it computed
   * and for how many retrievers (`users`: a worker is shared by the retrievers that serve the same weights; its
   * batches count theirs too), its heap's starting new space, and the nice value its thread runs at (`nice`, Linux;
   * `niceError`: why it did not get TURN_WORKER_NICE). Undefined: this batcher has no worker, e.g. on one core.
   */
  get workerStatus():
    | ({ loaded: boolean; failure?: string; batches: number; users: number } & TurnWorkerReport)
    | undefined {
    const lease = this.workerLease;
    if (!lease) return undefined;
    const worker = lease.client;
    return {
      loaded: worker.hasLoaded,
      ...(worker.failure && { failure: worker.failure }),
      batches: worker.answered,
      users: lease.users,
      ...worker.report,
    };
  }

  /**
   * Starts the turn worker if there is one to start, and resolves once it has loaded (true), failed (false), or
   * at once when there is none (false). Batches do not wait for it: they compute on this thread meanwhile.
   */
  whenWorkerLoaded(): Promise<boolean> {
    return this.startedWorker()?.loaded ?? Promise.resolve(false);
  }

  /** Forget the frozen weights and let the turn worker go (after the model's parameters changed, or when done). */
  invalidate(): void {
    this.composer = new TurnComposer(this.model, this.encoder);
    this.workerLease?.release();
    this.workerLease = undefined;
  }

  private async process(batch: readonly PendingTurn[]): Promise<BatchHandOff | undefined> {
    const worker = this.startedWorker();
    if (worker?.ready) {
      try {
        const composed = await worker.compose(batch.map((turn) => turn.input));
        // The next batch may go to the worker now; this one is searched and answered meanwhile.
        return { answered: this.answer(batch, composed) };
      } catch {
        // The worker stopped (`workerStatus.failure` says why): this batch and the next compute here.
      }
    }
    // One onnxruntime thread a call: under load the parallelism is across batches and requests (see
    // withComputeThreads); alone, a batch of 32 turns took the same wall time with one thread as with two.
    const composed = await withComputeThreads(1, () =>
      this.composer.compose(batch.map((turn) => turn.input)),
    );
    await this.answer(batch, composed);
    return undefined;
  }

  /**
   * The worker, started (or shared: `acquireTurnWorker`) at the first batch when there is one to start (it loads
   * while batches compute here).
   */
  private startedWorker(): TurnWorkerClient | undefined {
    if (!this.workerLease && this.workerScript && this.workerOptions) {
      this.workerLease = acquireTurnWorker(this.workerScript, this.model, {
        encoderDirectory: this.workerOptions.encoderDirectory,
        encoderId: this.encoder.id,
      });
    }
    const worker = this.workerLease?.client;
    return worker?.failure ? undefined : worker;
  }

  /**
   * One gallery search for the composed turns that ask for the same limit and filter (one scoring pass over the
   * gallery instead of one per turn), then every turn's answer.
   */
  private async answer(batch: readonly PendingTurn[], composed: readonly ComposedTurn[]): Promise<void> {
    const computed: { turn: PendingTurn; result: BatchedResult }[] = [];
    batch.forEach((turn, index) => {
      const result = composed[index]!;
      if ('error' in result) turn.reject(result.error);
      else computed.push({ turn, result: { query: result.query, memory: result.memory } });
    });
    const searched = computed.filter(({ turn }) => turn.input.search);
    try {
      const hits = await searchGrouped(
        this.gallery(),
        searched.map(({ turn, result }) => ({ query: result.query, ...turn.input.search! })),
      );
      searched.forEach(({ result }, index) => {
        result.hits = hits[index]!;
      });
    } catch (error) {
      for (const { turn } of computed) turn.reject(error);
      return;
    }
    for (const { turn, result } of computed) turn.resolve(result);
  }
}
