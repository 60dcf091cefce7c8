import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sharedBenchmarksDirectory } from './shared-benchmarks';

describe('sharedBenchmarksDirectory', () => {
  const original = process.env.CIR_SHARED_DIR;
  afterEach(() => {
    if (original === undefined) delete process.env.CIR_SHARED_DIR;
    else process.env.CIR_SHARED_DIR = original;
  });

  it('uses CIR_SHARED_DIR/benchmarks when it exists, and is undefined otherwise', async () => {
    const shared = await mkdtemp(join(tmpdir(), 'cir-shared-'));
    process.env.CIR_SHARED_DIR = shared;
    expect(sharedBenchmarksDirectory()).toBeUndefined();
    await mkdir(join(shared, 'benchmarks'));
    expect(sharedBenchmarksDirectory()).toBe(join(shared, 'benchmarks'));
  });
});
