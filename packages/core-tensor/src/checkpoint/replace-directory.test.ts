import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DirectoryReplaceStage, replaceDirectory, restoreInterruptedReplace } from './replace-directory';

let parent: string;
let store: string;
beforeEach(async () => {
  parent = await mkdtemp(join(tmpdir(), 'replace-directory-'));
  store = join(parent, 'store');
});
afterEach(async () => {
  await rm(parent, { recursive: true, force: true });
});

/** Fills a directory with one file saying `text`. */
const holding = (text: string) => (directory: string) => writeFile(join(directory, 'file.txt'), text);
const textIn = (directory: string) => readFile(join(directory, 'file.txt'), 'utf8');

describe('replaceDirectory', () => {
  it('creates the directory, then replaces it whole, leaving nothing beside it', async () => {
    expect(await replaceDirectory(store, holding('first'))).toBeUndefined();
    expect(await textIn(store)).toBe('first');
    expect(await replaceDirectory(store, holding('second'))).toBeUndefined();
    expect(await textIn(store)).toBe('second');
    expect(await readdir(parent)).toEqual(['store']);
  });

  it('keeps the previous directory where asked, and a later replace leaves it there', async () => {
    await replaceDirectory(store, holding('first'));
    const kept = join(parent, 'store.kept-1');
    expect(await replaceDirectory(store, holding('second'), { keepPreviousAt: kept })).toBe(kept);
    expect(await textIn(store)).toBe('second');
    expect(await textIn(kept)).toBe('first');
    await replaceDirectory(store, holding('third'));
    expect((await readdir(parent)).sort()).toEqual(['store', 'store.kept-1']);
    expect(await textIn(kept)).toBe('first');
  });

  it('keeps nothing when there was no previous directory', async () => {
    const kept = join(parent, 'store.kept-1');
    expect(await replaceDirectory(store, holding('first'), { keepPreviousAt: kept })).toBeUndefined();
    expect(await readdir(parent)).toEqual(['store']);
  });

  it('deletes the previous directory when it cannot be kept, and the replace still succeeds', async () => {
    await replaceDirectory(store, holding('first'));
    const kept = join(parent, 'store.kept-1');
    await mkdir(kept);
    await writeFile(join(kept, 'other.txt'), 'in the way');
    expect(await replaceDirectory(store, holding('second'), { keepPreviousAt: kept })).toBeUndefined();
    expect(await textIn(store)).toBe('second');
    expect(await readdir(kept)).toEqual(['other.txt']);
    expect((await readdir(parent)).sort()).toEqual(['store', 'store.kept-1']);
  });

  it('leaves the previous directory when the writer fails', async () => {
    await replaceDirectory(store, holding('first'));
    await expect(
      replaceDirectory(store, async () => {
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    expect(await textIn(store)).toBe('first');
    expect(await readdir(parent)).toEqual(['store']);
  });

  it.each<DirectoryReplaceStage>(['temporary-complete', 'previous-moved-aside'])(
    'a replace killed at %s leaves the previous directory, restored by the next start',
    async (stage) => {
      await replaceDirectory(store, holding('first'));
      const kill = (reached: DirectoryReplaceStage) => {
        if (reached === stage) throw new Error('killed');
      };
      await expect(
        replaceDirectory(store, holding('second'), {
          afterStage: kill,
          keepPreviousAt: join(parent, 'store.kept-1'),
        }),
      ).rejects.toThrow('killed');
      await restoreInterruptedReplace(store);
      expect(await textIn(store)).toBe('first');
      // The next replace clears the debris of the killed one.
      await replaceDirectory(store, holding('third'));
      expect(await readdir(parent)).toEqual(['store']);
    },
  );
});
