import { describe, expect, it } from 'vitest';
import { ExactStore } from './exact-store';
import { type BatchedRequest, MicroBatcher, searchGrouped } from './micro-batcher';

describe('MicroBatcher', () => {
  it('computes the requests of one tick as one batch, and those that arrive meanwhile as the next', async () => {
    const batches: number[][] = [];
    let second: Promise<number>[] = [];
    const batcher = new MicroBatcher<number, number>(async (batch) => {
      batches.push(batch.map((request) => request.input));
      // Requests made while a batch computes wait for the next one.
      if (batches.length === 1) second = [batcher.run(10), batcher.run(11)];
      await new Promise((resolve) => setTimeout(resolve, 5));
      for (const request of batch) request.resolve(request.input * 2);
    });
    const first = await Promise.all([1, 2, 3].map((input) => batcher.run(input)));
    expect(first).toEqual([2, 4, 6]);
    expect(await Promise.all(second)).toEqual([20, 22]);
    expect(batches).toEqual([
      [1, 2, 3],
      [10, 11],
    ]);
  });

  it('splits at maxBatch, in arrival order', async () => {
    const batches: number[][] = [];
    const batcher = new MicroBatcher<number, number>(async (batch) => {
      batches.push(batch.map((request) => request.input));
      for (const request of batch) request.resolve(request.input);
    }, 2);
    expect(await Promise.all([1, 2, 3, 4, 5].map((input) => batcher.run(input)))).toEqual([1, 2, 3, 4, 5]);
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
    expect(() => new MicroBatcher(async () => {}, 0)).toThrow(/positive integer/);
  });

  it('rejects what the batch leaves unanswered with its error, and goes on with the next batch', async () => {
    let calls = 0;
    const batcher = new MicroBatcher<string, string>(
      async (batch: readonly BatchedRequest<string, string>[]) => {
        calls++;
        if (calls === 1) {
          batch[0]!.resolve('answered first');
          throw new Error('model failed');
        }
        if (calls === 2) return; // answers nothing
        for (const request of batch) request.resolve(`ok ${request.input}`);
      },
    );
    const first = await Promise.allSettled([batcher.run('a'), batcher.run('b')]);
    expect(first).toEqual([
      { status: 'fulfilled', value: 'answered first' },
      { status: 'rejected', reason: new Error('model failed') },
    ]);
    await expect(batcher.run('c')).rejects.toThrow(/did not answer/);
    expect(await batcher.run('d')).toBe('ok d');
    expect(batcher.waiting).toBe(0);
  });

  it('starts the next batch at a hand-off, while the last one is still answering', async () => {
    const events: string[] = [];
    let finishFirst!: () => void;
    const firstAnswered = new Promise<void>((resolve) => {
      finishFirst = resolve;
    });
    let second: Promise<number>[] = [];
    const batcher = new MicroBatcher<number, number>(async (batch) => {
      const inputs = batch.map((request) => request.input);
      events.push(`start ${inputs}`);
      if (inputs[0] !== 1) {
        for (const request of batch) request.resolve(request.input * 2);
        events.push(`answered ${inputs}`);
        return;
      }
      second = [batcher.run(10), batcher.run(11)];
      // The first batch hands off: 1 is answered later, 2 never (rejected once `answered` settles).
      return {
        answered: firstAnswered.then(() => {
          batch[0]!.resolve(2);
          events.push('answered 1');
        }),
      };
    });
    const first = Promise.allSettled([batcher.run(1), batcher.run(2)]);
    expect(
      await Promise.all(
        await new Promise<Promise<number>[]>((resolve) => setTimeout(() => resolve(second), 5)),
      ),
    ).toEqual([20, 22]);
    expect(events).toEqual(['start 1,2', 'start 10,11', 'answered 10,11']);
    finishFirst();
    expect(await first).toEqual([
      { status: 'fulfilled', value: 2 },
      { status: 'rejected', reason: new Error('MicroBatcher: the batch did not answer this request') },
    ]);
    expect(events.at(-1)).toBe('answered 1');

    const failing = new MicroBatcher<number, number>(async () => ({
      answered: Promise.reject(new Error('search failed')),
    }));
    await expect(failing.run(1)).rejects.toThrow('search failed');
  });
});

describe('searchGrouped', () => {
  it('searches once per limit and filter, and returns each query the hits a lone search gives it', async () => {
    const store = new ExactStore({ encoderId: 'test', dim: 2 });
    await store.add(
      Array.from({ length: 8 }, (_value, index) => {
        const angle = (index / 8) * Math.PI;
        return {
          id: `item-${index}`,
          vector: Float32Array.of(Math.cos(angle), Math.sin(angle)),
          metadata: { half: index < 4 ? 'first' : 'second' },
        };
      }),
    );
    const searches = [
      { query: Float32Array.of(1, 0), limit: 2 },
      { query: Float32Array.of(0, 1), limit: 3, filter: { half: 'first' } },
      { query: Float32Array.of(0, 1), limit: 2 },
      { query: Float32Array.of(-1, 0), limit: 3, filter: { half: 'first' } },
    ];
    const calls: number[] = [];
    const counting = {
      dim: store.dim,
      search: (queries: Float32Array, count: number, k: number, options?: object) => {
        calls.push(count);
        return store.search(queries, count, k, options);
      },
    };
    const hits = await searchGrouped(counting, searches);
    expect(calls).toEqual([2, 2]);
    for (const [index, search] of searches.entries()) {
      const [alone] = await store.search(
        search.query,
        1,
        search.limit,
        search.filter ? { filter: search.filter } : {},
      );
      expect(hits[index], `search ${index}`).toEqual(alone);
    }
    expect(await searchGrouped(store, [])).toEqual([]);
  });
});
