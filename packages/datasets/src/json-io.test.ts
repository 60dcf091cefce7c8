import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DatasetFormatError } from './errors';
import { readJsonFile, readLines } from './json-io';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'cir-json-io-'));
});

async function write(name: string, text: string): Promise<string> {
  const file = join(directory, name);
  await writeFile(file, text);
  return file;
}

describe('readJsonFile', () => {
  it('parses JSON and ignores a byte-order mark', async () => {
    expect(await readJsonFile(await write('bom.json', '\uFEFF{"a": [1, 2]}'))).toEqual({ a: [1, 2] });
  });

  it.each([
    ['a trailing comma', '[\n  {"a": 1},\n  {"b": 2},\n]\n', 4, 1],
    ['a missing value', '{"a": 1,\n "b": }', 2, 7],
    ['a truncated file', '[1, 2', 1, 6],
    ['text after the value', '{"a": 1} x', 1, 10],
  ])('names the file, line and column of %s', async (_case, text, line, column) => {
    const file = await write('broken.json', text);
    const error = await readJsonFile(file).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DatasetFormatError);
    expect((error as DatasetFormatError).file).toBe(file);
    expect((error as Error).message).toContain(`${file}: invalid JSON at line ${line}, column ${column}:`);
  });

  it('names a missing path', async () => {
    const file = join(directory, 'absent.json');
    await expect(readJsonFile(file)).rejects.toThrow(
      new DatasetFormatError(file, undefined, 'file not found'),
    );
  });

  it('names a folder given as a file', async () => {
    await expect(readJsonFile(directory)).rejects.toThrow(`${directory}: is a folder, expected a file`);
  });
});

describe('readLines', () => {
  it('splits on \\n and \\r\\n without inventing a last empty line', async () => {
    expect(await readLines(await write('lines.txt', 'a\r\nb\n\nc\n'))).toEqual(['a', 'b', '', 'c']);
    expect(await readLines(await write('no-final-newline.txt', 'a\nb'))).toEqual(['a', 'b']);
    expect(await readLines(await write('empty.txt', ''))).toEqual([]);
  });
});
