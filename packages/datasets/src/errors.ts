/** Where in a file a problem is: a 0-based record index (JSON arrays) or a 1-based line (text, JSONL, CSV). */
export type RecordLocation = { record: number } | { line: number } | { field: string };

export function describeLocation(location: RecordLocation | undefined): string {
  if (!location) return '';
  if ('record' in location) return ` record ${location.record}`;
  if ('line' in location) return ` line ${location.line}`;
  return ` field "${location.field}"`;
}

/** A malformed file or record. Always names the file and, when there is one, the record or line. */
export class DatasetFormatError extends Error {
  constructor(
    readonly file: string,
    readonly location: RecordLocation | undefined,
    readonly detail: string,
  ) {
    super(`${file}${describeLocation(location)}: ${detail}`);
    this.name = 'DatasetFormatError';
  }
}

/** An image file that cannot be decoded or is outside the allowed limits. */
export class ImageDecodeError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'ImageDecodeError';
  }
}
