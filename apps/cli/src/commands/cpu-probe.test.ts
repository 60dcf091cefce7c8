import { describe, expect, it } from 'vitest';
import { probeCpus } from './cpu-probe';

describe('probeCpus', () => {
  it("times the loop on each thread at once and gives each thread's median, fastest first", async () => {
    const times = await probeCpus({ threads: 3, repeats: 3, rounds: 20 });
    expect(times).toHaveLength(3);
    for (const ms of times) {
      expect(Number.isFinite(ms)).toBe(true);
      expect(ms).toBeGreaterThan(0);
    }
    expect([...times].sort((left, right) => left - right)).toEqual(times);
  });

  it('refuses counts that are not positive integers', async () => {
    await expect(probeCpus({ threads: 0 })).rejects.toThrow('threads must be a positive integer, got 0');
    await expect(probeCpus({ repeats: 1.5 })).rejects.toThrow('repeats must be a positive integer, got 1.5');
  });
});
