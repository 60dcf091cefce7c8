import { describe, expect, it } from 'vitest';
import { mioBenchmarks } from './mio-benchmark';

describe('mio benchmark', () => {
  it('is registered as `mio` and reports both implementations on a small shape', async () => {
    expect(mioBenchmarks.map((definition) => definition.name)).toEqual(['mio']);
    const result = await mioBenchmarks[0].run({ batch: 2, tokens: 8, keep: 4, dim: 16, k: 5, repeats: 1 });
    expect(result).toMatchObject({ name: 'mio', batch: 2, tokens: 8, keep: 4, dim: 16, k: 5 });
    expect(result).toHaveProperty('microsecondsPerBatch', expect.any(Number));
    expect(result).toHaveProperty('tensorMicrosecondsPerBatch', expect.any(Number));
  });
});
