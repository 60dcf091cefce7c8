import { DatasetFormatError, type RecordLocation } from './errors';

/**
 * strict: the first invalid record throws a DatasetFormatError.
 * skip: invalid records are counted and reported in `invalid`, never silently dropped.
 */
export type LoadMode = 'strict' | 'skip';

export interface LoadOptions {
  mode?: LoadMode;
}

/** A problem with one record: in `invalid` the record was dropped, in `warnings` it was kept. */
export interface RecordIssue {
  file: string;
  location: RecordLocation;
  message: string;
}

export interface LoadResult<T> {
  records: T[];
  /** Records that could not be read (skip mode; strict mode throws on the first one). */
  invalid: RecordIssue[];
  /** Records that were kept but have a quirk worth knowing (an empty caption, a malformed dialog round). */
  warnings: RecordIssue[];
}

/**
 * Collects records, invalid records and warnings for one load. `reject` throws in strict mode and records the issue
 * in skip mode, so loaders share one code path for both modes.
 */
export class LoadCollector<T> {
  readonly records: T[] = [];
  readonly invalid: RecordIssue[] = [];
  readonly warnings: RecordIssue[] = [];

  constructor(
    readonly file: string,
    readonly mode: LoadMode = 'strict',
  ) {}

  accept(record: T): void {
    this.records.push(record);
  }

  reject(location: RecordLocation, message: string): void {
    if (this.mode === 'strict') throw new DatasetFormatError(this.file, location, message);
    this.invalid.push({ file: this.file, location, message });
  }

  warn(location: RecordLocation, message: string): void {
    this.warnings.push({ file: this.file, location, message });
  }

  result(): LoadResult<T> {
    return { records: this.records, invalid: this.invalid, warnings: this.warnings };
  }
}
