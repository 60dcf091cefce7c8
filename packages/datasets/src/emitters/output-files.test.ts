import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeJsonFile, writeTextFile } from './output-files';

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'output-files-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('writeJsonFile', () => {
  it('creates the folders, writes compact or indented JSON and leaves no temporary file', async () => {
    const file = join(directory, 'nested', 'deeper', 'data.json');
    await writeJsonFile(file, { answer: [1, 2] });
    expect(await readFile(file, 'utf8')).toBe('{"answer":[1,2]}\n');
    await writeJsonFile(file, { answer: [1] }, 2);
    expect(await readFile(file, 'utf8')).toBe('{\n  "answer": [\n    1\n  ]\n}\n');
    await writeTextFile(join(directory, 'nested', 'names.txt'), 'a\nb\n');
    expect((await readdir(join(directory, 'nested'), { recursive: true })).sort()).toEqual([
      'deeper',
      'deeper/data.json',
      'names.txt',
    ]);
  });
});
