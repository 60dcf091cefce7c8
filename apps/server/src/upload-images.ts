import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { decodeImage, ImageDecodeError } from '@cir/datasets';
import type { FastifyRequest } from 'fastify';
import type { StagedUpload } from './collections';
import { ApiError, badRequest, oneLine, payloadTooLarge } from './errors';

export interface UploadLimits {
  /** Largest accepted file, in bytes. */
  maxBytes: number;
  /** Largest accepted width × height, read from the header before anything is decoded. */
  maxPixels: number;
}

export const DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
export const DEFAULT_MAX_UPLOAD_PIXELS = 40_000_000;
/** Files per upload request; busboy refuses more with a 413. */
export const MAX_FILES_PER_UPLOAD = 100;

/** The formats a browser shows, recognised by their first bytes (never by the name the client sent). */
const FORMATS = [
  { extension: '.png', matches: (bytes: Buffer) => bytes.subarray(0, 8).equals(PNG_SIGNATURE) },
  {
    extension: '.jpg',
    matches: (bytes: Buffer) => bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff,
  },
  {
    extension: '.webp',
    matches: (bytes: Buffer) =>
      bytes.subarray(0, 4).toString('latin1') === 'RIFF' &&
      bytes.subarray(8, 12).toString('latin1') === 'WEBP',
  },
];
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Receives a multipart upload into a staging folder of its own and checks every image: size while it streams
 * (413), format by its first bytes (400), pixel count from its header before decoding (413), then a full decode
 * so that a truncated or corrupt file is refused now (400, naming the file) rather than failing the rebuild.
 * Text field `caption` captions every file; `caption:<file name>` one file. On any error the staging folder is
 * removed.
 */
export async function receiveImages(
  request: FastifyRequest,
  stagingRoot: string,
  limits: UploadLimits,
): Promise<StagedUpload> {
  const directory = join(stagingRoot, randomBytes(8).toString('hex'));
  await mkdir(directory, { recursive: true });
  try {
    const files: { name: string; path: string }[] = [];
    const captions = new Map<string, string>();
    let sharedCaption: string | undefined;
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        const value = String(part.value).trim();
        if (part.fieldname === 'caption') sharedCaption = value || undefined;
        else if (part.fieldname.startsWith('caption:'))
          captions.set(part.fieldname.slice('caption:'.length), value);
        else
          throw badRequest(
            `unknown field "${part.fieldname}": send image files, "caption" or "caption:<file>"`,
          );
        continue;
      }
      const name = clientFileName(part.filename);
      const path = join(directory, `upload-${files.length}`);
      await pipeline(part.file, createWriteStream(path));
      if (part.file.truncated) {
        throw payloadTooLarge(`file "${name}" is over the upload limit of ${formatBytes(limits.maxBytes)}`);
      }
      files.push({ name, path });
    }
    if (files.length === 0) throw badRequest('the upload holds no image file');
    for (const captioned of captions.keys()) {
      if (!files.some((file) => file.name === captioned)) {
        throw badRequest(`field "caption:${captioned}" names no uploaded file`);
      }
    }
    const images: StagedUpload['images'] = [];
    const ids = new Set<string>();
    for (const file of files) {
      const id = itemId(file.name);
      if (ids.has(id))
        throw badRequest(`two uploaded files would both be item "${id}" (file "${file.name}")`);
      ids.add(id);
      const extension = await checkImage(file.name, file.path, limits);
      const caption = captions.get(file.name) || sharedCaption;
      images.push({ id, fileName: `${id}${extension}`, path: file.path, ...(caption && { caption }) });
    }
    return { directory, images };
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw malformedUpload(error) ?? error;
  }
}

/**
 * The multipart parser's own errors ("Multipart: Boundary not found", "Unexpected end of form") carry neither an
 * HTTP status nor a system error code: the client sent a body that is not multipart/form-data, a 400. Errors with a
 * status (ours, the plugin's limits) or a code (the disk) stay as they are.
 */
function malformedUpload(error: unknown): ApiError | undefined {
  if (!(error instanceof Error) || error instanceof ApiError) return undefined;
  const { statusCode, code } = error as { statusCode?: number; code?: string };
  if (statusCode !== undefined || code !== undefined) return undefined;
  return badRequest(`the upload is not valid multipart/form-data: ${error.message}`, 'invalid_multipart');
}

/** The last path segment of the name the client sent: browsers send a bare name, others may not. */
function clientFileName(filename: string | undefined): string {
  const name = (filename ?? '').split(/[/\\]/).pop()!.trim();
  if (!name) throw badRequest('an uploaded file has no file name');
  return name;
}

/**
 * The item id of an uploaded file: its name without the extension, with characters outside letters, digits,
 * `.`, `_` and `-` replaced by `-` (ids appear in URLs and in file names).
 */
export function itemId(fileName: string): string {
  const stem = fileName.slice(0, fileName.length - extname(fileName).length) || fileName;
  const id = stem
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 128);
  if (!id) throw badRequest(`file "${fileName}": its name gives no usable item id`);
  return id;
}

/** @returns the extension the image is stored with */
async function checkImage(name: string, path: string, limits: UploadLimits): Promise<string> {
  const bytes = await readFile(path);
  // One code for every file that is not a usable image, whatever is wrong with it.
  if (bytes.length === 0) throw badRequest(`file "${name}" is empty`, 'invalid_image');
  const format = FORMATS.find((candidate) => candidate.matches(bytes));
  if (!format) throw badRequest(`file "${name}" is not a PNG, JPEG or WebP image`, 'invalid_image');
  try {
    // decodeImage compares width × height from the header with maxPixels before decoding a single pixel.
    await decodeImage(bytes, { maxPixels: limits.maxPixels });
  } catch (error) {
    if (!(error instanceof ImageDecodeError)) throw error;
    if (/pixels, over the limit/.test(error.detail)) throw payloadTooLarge(`file "${name}" ${error.detail}`);
    // libvips' details run over several lines.
    throw badRequest(`file "${name}" ${oneLine(error.detail)}`, 'invalid_image');
  }
  return format.extension;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0)
    return `${bytes / (1024 * 1024)} MiB (${bytes} bytes)`;
  return `${bytes} bytes`;
}
