import type { SearchHit, VectorStore } from './vector-store';

/** One request of a batch, with the callbacks that answer it. */
export interface BatchedRequest<I, O> {
  readonly input: I;
  resolve(output: O): void;
  reject(error: unknown): void;
}

/**
 * What `process` returns to let the next batch start before this one is answered: `answered` settles when it is
 * (the batch's unanswered requests are then rejected with its error, or with "not answered").
 */
export interface BatchHandOff {
  answered: Promise<void>;
}

/**
 * Dynamic batching for concurrent requests (a server's turns): requests that arrive while a batch is being computed,
 * or in the same tick, are computed together as the next batch. Under load this divides the fixed cost of every
 * model and search call by the batch size; alone, a request waits one `setImmediate`.
 *
 * `process` answers every request of its batch (resolve or reject each one); a request it leaves unanswered is
 * rejected with the error `process` threw, or with an error saying that it was not answered. Batches run one at a
 * time, in arrival order: the next starts when `process` returns, or, when it returns a `BatchHandOff`, while the
 * batch's last step (e.g. a search on the calling thread after a model computed on another) is still answering.
 */
export class MicroBatcher<I, O> {
  private pending: BatchedRequest<I, O>[] = [];
  private scheduled = false;

  /**
   * @param process computes one batch (at most `maxBatch` requests)
   * @param maxBatch the largest batch: bounds the time one batch takes, and so the wait of the requests behind it
   */
  constructor(
    // biome-ignore lint/suspicious/noConfusingVoidType: a process that answers in place is a Promise<void> function
    private readonly process: (batch: readonly BatchedRequest<I, O>[]) => Promise<void | BatchHandOff>,
    readonly maxBatch = 64,
  ) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new RangeError(`MicroBatcher: maxBatch must be a positive integer, got ${maxBatch}`);
    }
  }

  /** Requests waiting for a batch (not counting the batch being computed). */
  get waiting(): number {
    return this.pending.length;
  }

  run(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending.splice(0, this.maxBatch);
    const answered = new Set<BatchedRequest<I, O>>();
    const tracked = batch.map(
      (request): BatchedRequest<I, O> => ({
        input: request.input,
        resolve: (output) => {
          answered.add(request);
          request.resolve(output);
        },
        reject: (error) => {
          answered.add(request);
          request.reject(error);
        },
      }),
    );
    const rejectUnanswered = (failure: unknown) => {
      for (const request of batch) {
        if (!answered.has(request)) {
          request.reject(failure ?? new Error('MicroBatcher: the batch did not answer this request'));
        }
      }
    };
    try {
      const handOff = batch.length > 0 ? await this.process(tracked) : undefined;
      if (handOff) handOff.answered.then(() => rejectUnanswered(undefined), rejectUnanswered);
      else rejectUnanswered(undefined);
    } catch (error) {
      rejectUnanswered(error);
    } finally {
      if (this.pending.length > 0) setImmediate(() => void this.flush());
      else this.scheduled = false;
    }
  }
}

/** One query of `searchGrouped`. */
export interface GroupedSearch {
  /** `[dim]` */
  query: Float32Array;
  limit: number;
  filter?: Record<string, string>;
}

/**
 * The hits of each search, with one store call for all the searches that ask for the same limit and filter (one
 * scoring pass over the gallery instead of one a query).
 * @returns hits per search, in the order of `searches`
 */
export async function searchGrouped(
  store: Pick<VectorStore, 'dim' | 'search'>,
  searches: readonly GroupedSearch[],
): Promise<SearchHit[][]> {
  const groups = new Map<string, number[]>();
  searches.forEach((search, index) => {
    const key = JSON.stringify([search.limit, search.filter ?? null]);
    const rows = groups.get(key);
    if (rows) rows.push(index);
    else groups.set(key, [index]);
  });
  const hits: SearchHit[][] = new Array(searches.length);
  for (const rows of groups.values()) {
    const { limit, filter } = searches[rows[0]!]!;
    const queries = new Float32Array(rows.length * store.dim);
    rows.forEach((row, index) => {
      queries.set(searches[row]!.query, index * store.dim);
    });
    const found = await store.search(queries, rows.length, limit, filter ? { filter } : {});
    rows.forEach((row, index) => {
      hits[row] = found[index]!;
    });
  }
  return hits;
}
