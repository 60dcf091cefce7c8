import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/*
 * Saves and builds never write into a live store directory. They fill `<directory>.tmp-<random>`, flush it to
 * disk, move the previous `<directory>` aside to `<directory>.old-<random>`, rename the new one in and delete the
 * old one. The rename into place is the commit point: a process killed before it leaves the previous store,
 * which `restoreInterruptedReplace` puts back if the kill came between the two renames; a kill after it leaves
 * the new store. One process writes a given store directory at a time. With `keepPreviousAt` the previous directory
 * is moved there instead of being deleted (e.g. a server still reading it for the sessions opened on it): a name
 * outside this module's `tmp-`/`old-` markers, which no replace clears, so its owner deletes it, and after a crash
 * must find and delete it itself.
 */

/** Points after which a replace can be interrupted; crash tests throw or stop there. */
export type DirectoryReplaceStage = 'temporary-complete' | 'previous-moved-aside' | 'moved-into-place';

export interface ReplaceDirectoryHooks {
  /** For crash tests: throwing abandons the replace at that point, as `kill -9` would; awaiting pauses it. */
  afterStage?: (stage: DirectoryReplaceStage) => void | Promise<void>;
}

export interface ReplaceDirectoryOptions extends ReplaceDirectoryHooks {
  /**
   * Where to move the previous directory once the new one is in place, instead of deleting it. Must not exist yet;
   * if the move fails the previous directory is deleted as usual (the replace itself has succeeded by then).
   */
  keepPreviousAt?: string;
}

const temporaryMarker = 'tmp-';
const previousMarker = 'old-';

/**
 * Replaces `directory` by the one `write` fills (see above); `write` gets the empty temporary directory.
 * @returns `keepPreviousAt` when the previous directory was moved there; undefined when there was none, or it was
 *   deleted
 */
export async function replaceDirectory(
  directory: string,
  write: (temporaryDirectory: string) => Promise<void>,
  options: ReplaceDirectoryOptions = {},
): Promise<string | undefined> {
  await restoreInterruptedReplace(directory);
  // Whatever still lies beside `directory` is debris of a killed replace (we are the only writer).
  await Promise.all(
    (await listLeftovers(directory)).map((path) => rm(path, { recursive: true, force: true })),
  );

  const temporaryDirectory = `${directory}.${temporaryMarker}${randomToken()}`;
  try {
    await mkdir(temporaryDirectory, { recursive: true });
    await write(temporaryDirectory);
    // Without this the renames can reach the disk before the files, leaving a torn store after power loss.
    await syncTree(temporaryDirectory);
  } catch (error) {
    await rm(temporaryDirectory, { recursive: true, force: true });
    throw error;
  }
  await options.afterStage?.('temporary-complete');

  let previousDirectory: string | undefined;
  if (await pathExists(directory)) {
    previousDirectory = `${directory}.${previousMarker}${randomToken()}`;
    await rename(directory, previousDirectory);
    await options.afterStage?.('previous-moved-aside');
  }
  await rename(temporaryDirectory, directory);
  await syncPath(dirname(directory));
  await options.afterStage?.('moved-into-place');
  if (previousDirectory === undefined) return undefined;
  if (options.keepPreviousAt !== undefined) {
    try {
      await rename(previousDirectory, options.keepPreviousAt);
      return options.keepPreviousAt;
    } catch {
      // E.g. the path exists: the new directory is in place all the same, so the replace has succeeded.
    }
  }
  await rm(previousDirectory, { recursive: true, force: true });
  return undefined;
}

/**
 * If a replace was killed between moving the previous directory aside and renaming the new one in, moves the
 * previous one back. Each replace first calls this and then clears the debris, so at most one `old` exists here.
 */
export async function restoreInterruptedReplace(directory: string): Promise<void> {
  if (await pathExists(directory)) return;
  const [previousDirectory] = await listLeftovers(directory, [previousMarker]);
  if (previousDirectory === undefined) return;
  await rename(previousDirectory, directory);
  await syncPath(dirname(directory));
}

async function listLeftovers(
  directory: string,
  markers = [temporaryMarker, previousMarker],
): Promise<string[]> {
  const parent = dirname(directory);
  const name = basename(directory);
  let entries: string[];
  try {
    entries = await readdir(parent);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .filter((entry) => markers.some((marker) => entry.startsWith(`${name}.${marker}`)))
    .map((entry) => join(parent, entry));
}

async function syncTree(directory: string): Promise<void> {
  const entries = await readdir(directory, { withFileTypes: true });
  await Promise.all(
    entries.map((entry) => {
      const path = join(directory, entry.name);
      return entry.isDirectory() ? syncTree(path) : syncPath(path);
    }),
  );
  await syncPath(directory);
}

/**
 * Flushes a file or a directory's entries to disk. Some platforms (Windows) and file systems refuse to fsync a
 * directory: there it is skipped.
 */
async function syncPath(path: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM') throw error;
  } finally {
    await handle?.close();
  }
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

function randomToken(): string {
  return randomBytes(6).toString('hex');
}
