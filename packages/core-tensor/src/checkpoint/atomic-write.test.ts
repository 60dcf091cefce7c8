import * as fileSystem from 'node:fs/promises';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { writeFileAtomic, writeJsonAtomic } from './atomic-write';

// Lets a test make one rename fail, i.e. a failure after the data is written but before it is committed.
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return { ...actual, rename: vi.fn(actual.rename) };
});

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'atomic-write-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('creates and then replaces a file, leaving no temporary file', async () => {
    const path = join(directory, 'target.bin');
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    await writeFileAtomic(path, 'replaced');

    expect(await readFile(path, 'utf8')).toBe('replaced');
    expect(await readdir(directory)).toEqual(['target.bin']);
  });

  it('lets concurrent readers see only the old or the new content, never a mix', async () => {
    const path = join(directory, 'target.bin');
    const versions = ['a', 'b'].map((letter) => letter.repeat(4 * 1024 * 1024));
    await writeFile(path, versions[0]);

    let writing = true;
    const writer = (async () => {
      for (let round = 0; round < 10; round++) await writeFileAtomic(path, versions[(round + 1) % 2]);
      writing = false;
    })();
    // A plain writeFile fails this: readers catch it truncated or half written.
    let reads = 0;
    while (writing) {
      expect(versions).toContain(await readFile(path, 'utf8'));
      reads++;
    }
    await writer;
    expect(reads).toBeGreaterThan(0);
  });

  it('keeps the previous file and removes its temporary file when the commit fails midway', async () => {
    const path = join(directory, 'target.json');
    await writeFile(path, 'previous');
    vi.mocked(fileSystem.rename).mockRejectedValueOnce(new Error('simulated failure before rename'));

    await expect(writeFileAtomic(path, 'new content')).rejects.toThrow('simulated failure before rename');
    expect(await readFile(path, 'utf8')).toBe('previous');
    expect(await readdir(directory)).toEqual(['target.json']);
  });

  it('fails without leaving anything behind when the directory does not exist', async () => {
    const path = join(directory, 'missing', 'target.json');
    await expect(writeFileAtomic(path, 'x')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(directory)).toEqual([]);
  });

  it('fails and cleans up when the target is a non-empty directory', async () => {
    const path = join(directory, 'occupied');
    await fileSystem.mkdir(path);
    await writeFile(join(path, 'inside'), 'kept');

    await expect(writeFileAtomic(path, 'x')).rejects.toThrow();
    expect(await readdir(directory)).toEqual(['occupied']);
    expect(await readFile(join(path, 'inside'), 'utf8')).toBe('kept');
  });
});

describe('writeJsonAtomic', () => {
  it('writes indented JSON with a trailing newline', async () => {
    const path = join(directory, 'value.json');
    await writeJsonAtomic(path, { step: 3, names: ['a'] });
    expect(await readFile(path, 'utf8')).toBe('{\n  "step": 3,\n  "names": [\n    "a"\n  ]\n}\n');
  });
});
