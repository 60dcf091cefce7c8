import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedBenchmarksDirectory } from '@cir/datasets';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli as run } from '../test-helpers';

let directory: string;
let validFile: string;
let brokenFile: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'cir-data-command-'));
  validFile = join(directory, 'valid.csv');
  brokenFile = join(directory, 'broken.csv');
  await writeFile(validFile, 'image,caption\na.png,"red, striped"\nb.png,blue\n');
  await writeFile(brokenFile, 'image,caption\na.png,red\nb.png,\nc.png,"green"x\nd.png,blue\n');
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('cir data stats', () => {
  it('prints the counts as JSON', async () => {
    const { stdout, error } = await run('data', 'stats', '--format', 'pairs', validFile, '--json');
    expect(error).toBeUndefined();
    expect(JSON.parse(stdout)).toEqual({
      format: 'pairs',
      file: validFile,
      records: 2,
      images: 2,
      invalid: 0,
      warnings: 0,
    });
  });

  it('stops at the first invalid record with a one-line error naming file and line (exit 1)', async () => {
    const { error } = await run('data', 'stats', '--format', 'pairs', brokenFile);
    expect(error?.exitCode).toBe(1);
    expect(error?.message).toBe(
      `${brokenFile} line 3: the caption must be a non-empty string (--skip-invalid counts such records)`,
    );
  });

  it('counts invalid records with --skip-invalid and shows them in the text output', async () => {
    const { stdout, error } = await run('data', 'stats', '--format', 'pairs', brokenFile, '--skip-invalid');
    expect(error).toBeUndefined();
    expect(stdout).toContain('records 2, images 2, invalid 2, warnings 0');
    expect(stdout).toContain(`${brokenFile} line 4: unexpected text after a closing quote`);
  });

  it('names a missing path without suggesting --skip-invalid (exit 1)', async () => {
    const missing = join(directory, 'absent.csv');
    const { error } = await run('data', 'stats', '--format', 'pairs', missing);
    expect(error).toMatchObject({ exitCode: 1, message: `${missing}: file not found` });
  });

  it('exits 2 on an unknown format, listing the formats', async () => {
    const { error } = await run('data', 'stats', '--format', 'coco', validFile);
    expect(error?.exitCode).toBe(2);
    expect(error?.message).toContain(
      'Available: fashioniq, cirr, shoes, mt-fashioniq, fashionmt, mtcir, chatir, pairs',
    );
  });

  it('exits 2 on an option the format does not take', async () => {
    const { error } = await run('data', 'stats', '--format', 'pairs', validFile, '--split', 'val');
    expect(error).toMatchObject({ exitCode: 2, message: '--split does not apply to pairs' });
  });

  const benchmarks = sharedBenchmarksDirectory();
  it.skipIf(!benchmarks)(
    'counts the real CIRR val split (skipped: no shared benchmarks folder)',
    async () => {
      const { stdout } = await run(
        'data',
        'stats',
        '--format',
        'cirr',
        join(benchmarks ?? '', 'cirr'),
        '--json',
      );
      expect(JSON.parse(stdout)).toMatchObject({ records: 4181, images: 2297, invalid: 0, warnings: 0 });
    },
  );
});

describe('cir data validate', () => {
  it('lists every invalid record and exits 1', async () => {
    const { stdout, error } = await run('data', 'validate', '--format', 'pairs', brokenFile, '--json');
    expect(error).toMatchObject({ exitCode: 1, message: `2 invalid records in ${brokenFile}` });
    const printed = JSON.parse(stdout);
    expect(printed.invalid).toBe(2);
    expect(printed.invalidRecords.map((issue: { location: unknown }) => issue.location)).toEqual([
      { line: 3 },
      { line: 4 },
    ]);
  });

  it('succeeds on a valid file', async () => {
    const { stdout, error } = await run('data', 'validate', '--format', 'pairs', validFile);
    expect(error).toBeUndefined();
    expect(stdout).toContain('invalid 0');
  });
});
