import { constants } from 'node:fs';
import { copyFile, link, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readJsonFile } from '@cir/datasets';

/*
 * A collection on disk, `<dataDir>/collections/<name>/`:
 *   collection.json   name, method, builtAt and the item table (id, caption, image path relative to the folder)
 *   images/           every item's image, copied from the catalog folder or uploaded
 *   retriever/        what `retriever.save()` wrote
 * The folder is only ever replaced whole (core-tensor's replaceDirectory), so these three always match.
 */

export const COLLECTION_FILE = 'collection.json';
export const IMAGES_FOLDER = 'images';
export const RETRIEVER_FOLDER = 'retriever';
export const COLLECTION_FORMAT_VERSION = 1;

export interface CollectionItem {
  id: string;
  caption?: string;
  /** Path of the image relative to the collection folder: always `images/<file name>`. */
  image: string;
}

export interface CollectionManifest {
  formatVersion: number;
  name: string;
  method: string;
  builtAt: string;
  items: CollectionItem[];
}

/** An image to put into a collection being built. */
export interface ImageSource {
  id: string;
  caption?: string;
  /** Name of the file under `images/` (the id plus the image's extension). */
  fileName: string;
  /** Where the image is now. */
  path: string;
  /**
   * The file is one of the server's own (a collection's image or a staged upload) and is never rewritten: it can
   * be hard-linked instead of copied. Catalog folders belong to the user and are always copied.
   */
  owned: boolean;
}

/** A file name that stays inside `images/`: no separators, no `..`, not hidden. */
const SAFE_FILE_NAME = /^[^/\\\0]+$/;

export function isSafeFileName(name: string): boolean {
  return SAFE_FILE_NAME.test(name) && !name.startsWith('.');
}

/** Reads and checks `collection.json`; an image path that would leave the folder makes the whole file invalid. */
export async function readCollectionManifest(directory: string): Promise<CollectionManifest> {
  const file = join(directory, COLLECTION_FILE);
  const manifest = (await readJsonFile(file)) as CollectionManifest;
  if (
    typeof manifest !== 'object' ||
    manifest === null ||
    typeof manifest.name !== 'string' ||
    typeof manifest.method !== 'string' ||
    typeof manifest.builtAt !== 'string' ||
    !Array.isArray(manifest.items)
  ) {
    throw new Error(`${file}: expected {name, method, builtAt, items}`);
  }
  if (manifest.formatVersion !== COLLECTION_FORMAT_VERSION) {
    throw new Error(
      `${file}: format version ${manifest.formatVersion}, this server reads ${COLLECTION_FORMAT_VERSION}`,
    );
  }
  manifest.items.forEach((item, index) => {
    const fileName = typeof item?.image === 'string' ? item.image.slice(`${IMAGES_FOLDER}/`.length) : '';
    if (
      typeof item?.id !== 'string' ||
      !item.image.startsWith(`${IMAGES_FOLDER}/`) ||
      !isSafeFileName(fileName) ||
      fileName === '..' ||
      (item.caption !== undefined && typeof item.caption !== 'string')
    ) {
      throw new Error(`${file}: item ${index} is not {id, caption?, image: "images/<file>"}`);
    }
  });
  return manifest;
}

/**
 * Puts every source under `<directory>/images/`, a few at a time.
 * @returns the item table of the new folder, in the order of `sources`
 */
export async function placeImages(
  directory: string,
  sources: readonly ImageSource[],
): Promise<CollectionItem[]> {
  await mkdir(join(directory, IMAGES_FOLDER), { recursive: true });
  let next = 0;
  const worker = async () => {
    while (next < sources.length) {
      const source = sources[next++]!;
      const target = join(directory, IMAGES_FOLDER, source.fileName);
      if (source.owned) {
        try {
          await link(source.path, target);
          continue;
        } catch (error) {
          // Another file system or one without hard links: a copy does the same job.
          const code = (error as NodeJS.ErrnoException).code;
          if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EMLINK') throw error;
        }
      }
      await copyFile(source.path, target, constants.COPYFILE_FICLONE);
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, sources.length) }, worker));
  return sources.map((source) => ({
    id: source.id,
    ...(source.caption !== undefined && { caption: source.caption }),
    image: `${IMAGES_FOLDER}/${source.fileName}`,
  }));
}

/**
 * The URL the API serves an item's image at, in one state of the collection (`version`): the bytes behind it never
 * change, so browsers may cache them for good, and a session opened before a rebuild keeps its pictures.
 */
export function imageUrl(collection: string, id: string, version: string): string {
  return `/v1/collections/${collection}/images/${encodeURIComponent(id)}?v=${version}`;
}
