import { extname } from 'node:path';
import { DatasetFormatError } from '../errors';
import { readTextFile } from '../json-io';
import { LoadCollector, type LoadOptions, type LoadResult } from '../load-result';
import type { ImageCaptionPair } from '../records';
import { parseDelimitedText } from './delimited-text';
import { isNonEmptyString, isObject, parseJsonLinesRecords } from './record-parsing';

/** Accepted column names, ours first; `file_name`/`text` are what Hugging Face imagefolder metadata uses. */
const IMAGE_KEYS = ['image', 'file_name'];
const CAPTION_KEYS = ['caption', 'text'];

/**
 * Loads image-caption pairs, choosing the format by extension: `.jsonl` ({image, caption} or {file_name, text} per
 * line), `.csv` or `.tsv` (a header row naming those columns; quoted fields per RFC 4180). Whether the image file
 * exists is left to the image loader; an empty image name or caption makes the record invalid.
 */
export async function loadImageCaptionPairs(
  file: string,
  options: LoadOptions = {},
): Promise<LoadResult<ImageCaptionPair>> {
  const extension = extname(file).toLowerCase();
  if (extension === '.jsonl') {
    return parseJsonLinesRecords(file, options, (value) => {
      if (!isObject(value)) return 'expected an object {image, caption}';
      return toPair(firstPresent(value, IMAGE_KEYS), firstPresent(value, CAPTION_KEYS));
    });
  }
  if (extension === '.csv' || extension === '.tsv') {
    return loadDelimitedPairs(file, options, extension === '.csv' ? ',' : '\t');
  }
  throw new DatasetFormatError(
    file,
    undefined,
    `unsupported extension "${extension}", expected .jsonl, .csv or .tsv`,
  );
}

async function loadDelimitedPairs(
  file: string,
  options: LoadOptions,
  delimiter: ',' | '\t',
): Promise<LoadResult<ImageCaptionPair>> {
  const [header, ...rows] = parseDelimitedText(await readTextFile(file), delimiter);
  const columns = header && header.error === undefined ? header.fields.map((name) => name.trim()) : [];
  const imageColumn = columnIndex(columns, IMAGE_KEYS);
  const captionColumn = columnIndex(columns, CAPTION_KEYS);
  if (imageColumn < 0 || captionColumn < 0) {
    throw new DatasetFormatError(
      file,
      { line: header?.line ?? 1 },
      `the header row must name an image column (${IMAGE_KEYS.join(' or ')}) and a caption column (${CAPTION_KEYS.join(' or ')})`,
    );
  }
  const collector = new LoadCollector<ImageCaptionPair>(file, options.mode);
  for (const row of rows) {
    const location = { line: row.line };
    if (row.error !== undefined) collector.reject(location, row.error);
    else if (row.fields.length !== columns.length) {
      collector.reject(
        location,
        `expected ${columns.length} fields like the header, got ${row.fields.length}`,
      );
    } else {
      const pair = toPair(row.fields[imageColumn], row.fields[captionColumn]);
      if (typeof pair === 'string') collector.reject(location, pair);
      else collector.accept(pair);
    }
  }
  return collector.result();
}

function columnIndex(columns: string[], names: string[]): number {
  for (const name of names) {
    const index = columns.indexOf(name);
    if (index >= 0) return index;
  }
  return -1;
}

function firstPresent(value: Record<string, unknown>, keys: string[]): unknown {
  return value[keys.find((key) => key in value) ?? keys[0]];
}

function toPair(image: unknown, caption: unknown): ImageCaptionPair | string {
  if (!isNonEmptyString(image)) return 'the image must be a non-empty string';
  if (!isNonEmptyString(caption)) return 'the caption must be a non-empty string';
  return { image, caption };
}
