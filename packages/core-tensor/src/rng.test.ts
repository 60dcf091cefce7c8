import { describe, expect, it } from 'vitest';
import { hashString, Rng } from './rng';

describe('Rng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const first = new Rng(5);
    const second = new Rng(5);
    const other = new Rng(6);
    const sequence = Array.from({ length: 5 }, () => first.nextUint32());
    expect(Array.from({ length: 5 }, () => second.nextUint32())).toEqual(sequence);
    expect(Array.from({ length: 5 }, () => other.nextUint32())).not.toEqual(sequence);
  });

  it('produces uniform and normal samples with the right moments', () => {
    const rng = new Rng('moments');
    const uniform = rng.uniformArray(100_000);
    const normal = rng.normalArray(100_000, 2, 3);
    const mean = (values: Float32Array) => values.reduce((a, b) => a + b, 0) / values.length;
    const variance = (values: Float32Array) => {
      const m = mean(values);
      return values.reduce((a, b) => a + (b - m) ** 2, 0) / values.length;
    };
    expect(mean(uniform)).toBeCloseTo(0.5, 2);
    expect(variance(uniform)).toBeCloseTo(1 / 12, 2);
    expect(mean(normal)).toBeCloseTo(2, 1);
    expect(Math.sqrt(variance(normal))).toBeCloseTo(3, 1);
    expect(Math.min(...uniform)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...uniform)).toBeLessThan(1);
  });

  it('shuffles into a permutation and forks independent streams', () => {
    const rng = new Rng(1);
    const items = rng.shuffle([...Array(20).keys()]);
    expect([...items].sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
    expect(items).not.toEqual([...Array(20).keys()]);
    expect(new Rng(1).fork('a').next()).not.toBe(new Rng(1).fork('b').next());
  });

  it('hashes strings with FNV-1a', () => {
    expect(hashString('')).toBe(0x811c9dc5);
    expect(hashString('a')).toBe(0xe40c292c);
  });
});
