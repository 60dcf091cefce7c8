import { describe, expect, it } from 'vitest';
import { fakeProvider } from './__fixtures__/fake-provider';
import { RetrieverLease } from './retriever-lease';

describe('RetrieverLease', () => {
  it('disposes once, when the collection has let go and the last session has ended', async () => {
    const retriever = (await fakeProvider().create('fake')) as unknown as { disposals: number };
    const lease = new RetrieverLease(retriever as never);
    lease.acquire();
    lease.acquire();
    lease.release();
    expect(retriever.disposals).toBe(0); // still served
    lease.retire();
    expect(retriever.disposals).toBe(0); // one session left
    lease.release();
    expect(retriever.disposals).toBe(1);
    lease.retire();
    expect(retriever.disposals).toBe(1);
    expect(lease.isDisposed).toBe(true);
  });

  it('disposes at once a state retired without sessions', async () => {
    const retriever = (await fakeProvider().create('fake')) as unknown as { disposals: number };
    const lease = new RetrieverLease(retriever as never);
    lease.retire();
    expect(retriever.disposals).toBe(1);
  });

  it('runs whenDisposed callbacks once, at disposal, or at once when already disposed', async () => {
    const lease = new RetrieverLease((await fakeProvider().create('fake')) as never);
    const calls: string[] = [];
    lease.whenDisposed(() => calls.push('before'));
    lease.acquire();
    lease.retire();
    expect(calls).toEqual([]);
    lease.release();
    expect(calls).toEqual(['before']);
    lease.whenDisposed(() => calls.push('after'));
    lease.retire();
    expect(calls).toEqual(['before', 'after']);
  });
});
