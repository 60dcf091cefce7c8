import { DatasetFormatError } from '../errors';
import { readJsonFile, readLines } from '../json-io';
import { LoadCollector, type LoadOptions, type LoadResult } from '../load-result';

/**
 * Turns one raw record into a typed one, or returns why it is invalid. `warn` reports a quirk of a record that is
 * kept (an empty caption), so the loaders share one collection path for strict and skip mode.
 */
export type RecordParser<T extends object> = (value: unknown, warn: (message: string) => void) => T | string;

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Image names and identifiers must carry a visible character; whitespace alone names nothing. */
export function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

/** Loads a file holding one JSON array of records; locations are 0-based record indices. */
export async function parseJsonArrayRecords<T extends object>(
  file: string,
  options: LoadOptions,
  description: string,
  parse: RecordParser<T>,
): Promise<LoadResult<T>> {
  const data = await readJsonFile(file);
  if (!Array.isArray(data))
    throw new DatasetFormatError(file, undefined, `expected a JSON array of ${description}`);
  const collector = new LoadCollector<T>(file, options.mode);
  data.forEach((value, index) => {
    const location = { record: index };
    const parsed = parse(value, (message) => collector.warn(location, message));
    if (typeof parsed === 'string') collector.reject(location, parsed);
    else collector.accept(parsed);
  });
  return collector.result();
}

/** Loads a JSONL file (one JSON value per line, blank lines ignored); locations are 1-based lines. */
export async function parseJsonLinesRecords<T extends object>(
  file: string,
  options: LoadOptions,
  parse: RecordParser<T>,
): Promise<LoadResult<T>> {
  const lines = await readLines(file);
  const collector = new LoadCollector<T>(file, options.mode);
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const location = { line: index + 1 };
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      collector.reject(location, `invalid JSON: ${(error as Error).message}`);
      return;
    }
    const parsed = parse(value, (message) => collector.warn(location, message));
    if (typeof parsed === 'string') collector.reject(location, parsed);
    else collector.accept(parsed);
  });
  return collector.result();
}

/** A JSON array of non-empty strings (image lists, galleries); an entry of another kind names its index. */
export async function readStringArray(file: string, description: string): Promise<string[]> {
  const data = await readJsonFile(file);
  if (!Array.isArray(data))
    throw new DatasetFormatError(file, undefined, `expected a JSON array of ${description}`);
  data.forEach((value, index) => {
    if (!isNonEmptyString(value)) {
      throw new DatasetFormatError(
        file,
        { record: index },
        `expected a non-empty string, got ${JSON.stringify(value).slice(0, 60)}`,
      );
    }
  });
  return data as string[];
}

/** The non-blank lines of a text file, trimmed (image name lists). */
export async function readNameLines(file: string): Promise<string[]> {
  return (await readLines(file)).map((line) => line.trim()).filter((line) => line !== '');
}
