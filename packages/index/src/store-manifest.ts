import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '@cir/core-tensor';
import { EncoderMismatchError } from '@cir/encoders';
import { StoreFormatError } from './store-errors';

/** `store.json`, beside a store's data: what kind of store it is and which encoder made its vectors. */
export interface StoreManifest {
  format: string;
  formatVersion: number;
  encoderId: string;
  dim: number;
  createdAt: string;
}

export const storeManifestFileName = 'store.json';

export async function writeStoreManifest(directory: string, manifest: StoreManifest): Promise<void> {
  await writeJsonAtomic(join(directory, storeManifestFileName), manifest);
}

/**
 * Reads and checks a store manifest: its format and version, and that the store was built with
 * `expectedEncoderId` (`EncoderMismatchError` otherwise). Fields beyond `StoreManifest` are the caller's.
 */
export async function readStoreManifest<Manifest extends StoreManifest>(
  directory: string,
  format: Manifest['format'],
  formatVersion: Manifest['formatVersion'],
  expectedEncoderId: string,
): Promise<Manifest> {
  const path = join(directory, storeManifestFileName);
  let manifest: Partial<StoreManifest>;
  try {
    manifest = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new StoreFormatError(path, 'missing: not a saved store', { cause: error });
    if (error instanceof SyntaxError) throw new StoreFormatError(path, 'is not valid JSON', { cause: error });
    throw error;
  }
  if (manifest.format !== format) throw new StoreFormatError(path, `is not a ${format} manifest`);
  if (manifest.formatVersion !== formatVersion) {
    throw new StoreFormatError(
      path,
      `has format version ${manifest.formatVersion}; this reader supports ${formatVersion}`,
    );
  }
  if (typeof manifest.encoderId !== 'string' || !Number.isInteger(manifest.dim)) {
    throw new StoreFormatError(path, 'is missing encoderId or dim');
  }
  if (manifest.encoderId !== expectedEncoderId) {
    throw new EncoderMismatchError(`the store at ${directory}`, expectedEncoderId, manifest.encoderId);
  }
  return manifest as Manifest;
}
