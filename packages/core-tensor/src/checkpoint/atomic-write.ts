import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Replaces `path` so that readers, and the disk after a crash or power loss, see either the previous content or
 * the new one, never a mix: the data goes to a sibling temporary file (same directory, so the rename cannot cross
 * file systems), is flushed to disk, and is then renamed over the target, which POSIX makes atomic.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const temporaryPath = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    const handle = await open(temporaryPath, 'wx');
    try {
      await handle.writeFile(data);
      // Without this the rename can reach the disk before the data, leaving an empty or torn file after power loss.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporaryPath, path);
  } catch (error) {
    await rm(temporaryPath, { force: true });
    throw error;
  }
  await syncDirectory(dirname(path));
}

/** Writes `value` as indented JSON with a trailing newline, atomically (see `writeFileAtomic`). */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Flushes a directory's entries (creations, renames) to disk; a rename is only durable once its directory is.
 * Some platforms (Windows) and file systems refuse to open or fsync a directory: there it is skipped.
 */
export async function syncDirectory(directory: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL') throw error;
  } finally {
    await handle?.close();
  }
}
