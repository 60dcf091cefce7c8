import { describe, expect, it } from 'vitest';
import { benchmarkAnnRecall } from './ann-benchmark';

describe('benchmarkAnnRecall', () => {
  it('measures recall 1 when every partition is probed, and less when one of eight is', async () => {
    const small = { count: 2000, dim: 16, queries: 20, repeats: 1 };
    const index = { type: 'ivf-flat', numPartitions: 8 } as const;
    const full = await benchmarkAnnRecall({ ...small, index, search: { nprobes: 8 } });
    expect(full).toMatchObject({ name: 'ann', recallAt10: 1, indexType: 'ivf-flat' });
    expect(full.parameters).toEqual({ index, search: { nprobes: 8 } });
    expect(full.exactQps).toBeGreaterThan(0);
    expect(full.annQps).toBeGreaterThan(0);
    expect(full.buildSeconds).toBeGreaterThan(0);
    const partial = await benchmarkAnnRecall({ ...small, index, search: { nprobes: 1 } });
    expect(partial.recallAt10).toBeLessThan(1);
  });
});
