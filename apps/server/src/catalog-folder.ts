import { readdir, stat } from 'node:fs/promises';
import { extname, join, posix } from 'node:path';
import { DatasetFormatError, loadImageCaptionPairs } from '@cir/datasets';
import { badRequest } from './errors';

/** Extensions a catalog folder's images may have, with the content-type each is served with. */
export const IMAGE_CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
};

/** One image of a catalog folder, ready to be copied into a collection. */
export interface CatalogImage {
  /** The file name without its extension. */
  id: string;
  /** Absolute path of the image. */
  path: string;
  /** The file name, extension included. */
  fileName: string;
  caption?: string;
}

const CAPTIONS_FILE = 'captions.jsonl';

/**
 * Lists a catalog folder: image files (png, jpg, jpeg, webp) at its top level or under `images/`, captioned from
 * `captions.jsonl` when present (lines `{"image": "images/<id>.png", "caption": "…"}`, the layout
 * `cir data generate` writes). The item id is the file name without its extension.
 *
 * @throws ApiError (400) when the folder is missing, holds no image, two images share an id, or the captions
 *   file is malformed (naming its line).
 */
export async function readCatalogFolder(folder: string): Promise<CatalogImage[]> {
  const folderStat = await stat(folder).catch(() => undefined);
  if (!folderStat) throw badRequest(`catalog folder ${folder} does not exist`);
  if (!folderStat.isDirectory()) {
    throw badRequest(
      `catalog ${folder} is a file: give the folder that holds the images (and captions.jsonl)`,
    );
  }
  const images = [...(await imagesIn(folder, '')), ...(await imagesIn(join(folder, 'images'), 'images'))];
  if (images.length === 0) {
    throw badRequest(`catalog folder ${folder} holds no png, jpg, jpeg or webp image (top level or images/)`);
  }
  const byId = new Map<string, CatalogImage & { relativePath: string }>();
  for (const image of images) {
    const previous = byId.get(image.id);
    if (previous) {
      throw badRequest(
        `catalog folder ${folder}: ${previous.relativePath} and ${image.relativePath} would both be item "${image.id}"`,
      );
    }
    byId.set(image.id, image);
  }
  const captions = await readCaptions(folder);
  return [...byId.values()]
    .sort((left, right) => (left.relativePath < right.relativePath ? -1 : 1))
    .map(({ relativePath, ...image }) => {
      const caption = captions.get(relativePath);
      return caption === undefined ? image : { ...image, caption };
    });
}

async function imagesIn(
  directory: string,
  prefix: string,
): Promise<(CatalogImage & { relativePath: string })[]> {
  const entries = await readdir(directory, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [];
    throw error;
  });
  return entries
    .filter((entry) => entry.isFile() && !entry.name.startsWith('.'))
    .filter((entry) => extname(entry.name).toLowerCase() in IMAGE_CONTENT_TYPES)
    .map((entry) => ({
      id: entry.name.slice(0, entry.name.length - extname(entry.name).length),
      path: join(directory, entry.name),
      fileName: entry.name,
      relativePath: prefix ? `${prefix}/${entry.name}` : entry.name,
    }));
}

/** Captions by image path relative to the folder ("images/a.png"); empty without a captions file. */
async function readCaptions(folder: string): Promise<Map<string, string>> {
  const file = join(folder, CAPTIONS_FILE);
  if (!(await stat(file).catch(() => undefined))?.isFile()) return new Map();
  try {
    const { records } = await loadImageCaptionPairs(file);
    return new Map(
      records.map((record) => [posix.normalize(record.image.replace(/\\/g, '/')), record.caption]),
    );
  } catch (error) {
    if (error instanceof DatasetFormatError) throw badRequest(error.message);
    throw error;
  }
}
