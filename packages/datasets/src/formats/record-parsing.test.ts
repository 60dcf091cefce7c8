import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DatasetFormatError } from '../errors';
import {
  isNonEmptyString,
  parseJsonArrayRecords,
  parseJsonLinesRecords,
  type RecordParser,
  readNameLines,
  readStringArray,
} from './record-parsing';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'cir-record-parsing-'));
});

async function write(name: string, text: string): Promise<string> {
  const file = join(directory, name);
  await writeFile(file, text);
  return file;
}

/** Accepts {name}, warns on a name in capitals, rejects anything else. */
const parseName: RecordParser<{ name: string }> = (value, warn) => {
  const name = (value as { name?: unknown } | null)?.name;
  if (!isNonEmptyString(name)) return '"name" must be a non-empty string';
  if (name === name.toUpperCase()) warn('name is in capitals');
  return { name };
};

describe('parseJsonArrayRecords', () => {
  const text = JSON.stringify([{ name: 'a' }, { name: '' }, { name: 'B' }, 7]);

  it('throws on the first invalid record in strict mode, naming the file and 0-based record', async () => {
    const file = await write('records.json', text);
    await expect(parseJsonArrayRecords(file, {}, 'names', parseName)).rejects.toThrow(
      new DatasetFormatError(file, { record: 1 }, '"name" must be a non-empty string'),
    );
  });

  it('counts and lists every invalid record in skip mode, and keeps records with warnings', async () => {
    const file = await write('records.json', text);
    const result = await parseJsonArrayRecords(file, { mode: 'skip' }, 'names', parseName);
    expect(result.records).toEqual([{ name: 'a' }, { name: 'B' }]);
    expect(result.invalid.map((issue) => issue.location)).toEqual([{ record: 1 }, { record: 3 }]);
    expect(result.warnings).toEqual([{ file, location: { record: 2 }, message: 'name is in capitals' }]);
  });

  it('refuses a file that is not an array, whatever the mode', async () => {
    const file = await write('object.json', '{"name": "a"}');
    await expect(parseJsonArrayRecords(file, { mode: 'skip' }, 'names', parseName)).rejects.toThrow(
      `${file}: expected a JSON array of names`,
    );
  });
});

describe('parseJsonLinesRecords', () => {
  const text = '{"name": "a"}\n\n{"name": ""}\n{"name": \n{"name": "c"}\n';

  it('names the 1-based line, counting blank lines', async () => {
    const file = await write('records.jsonl', text);
    await expect(parseJsonLinesRecords(file, {}, parseName)).rejects.toThrow(`${file} line 3:`);
  });

  it('reports unparseable lines as invalid records in skip mode', async () => {
    const file = await write('records.jsonl', text);
    const result = await parseJsonLinesRecords(file, { mode: 'skip' }, parseName);
    expect(result.records).toEqual([{ name: 'a' }, { name: 'c' }]);
    expect(result.invalid.map((issue) => issue.location)).toEqual([{ line: 3 }, { line: 4 }]);
    expect(result.invalid[1].message).toMatch(/^invalid JSON: /);
  });
});

describe('string lists', () => {
  it('reads a JSON array of names and names a bad entry by index', async () => {
    expect(await readStringArray(await write('list.json', '["a", "b"]'), 'names')).toEqual(['a', 'b']);
    const file = await write('bad-list.json', '["a", null]');
    await expect(readStringArray(file, 'names')).rejects.toThrow(
      `${file} record 1: expected a non-empty string, got null`,
    );
  });

  it('reads trimmed non-blank lines', async () => {
    expect(await readNameLines(await write('names.txt', ' a \r\n\n b\n'))).toEqual(['a', 'b']);
  });
});
