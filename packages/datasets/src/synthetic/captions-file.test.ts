import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCaptionsFile } from './captions-file';
import { generateCatalog } from './catalog';

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'captions-file-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('writeCaptionsFile', () => {
  it('writes one JSON line per product pairing its image path with its caption', async () => {
    const products = generateCatalog({ count: 9, seed: 1 });
    const file = join(directory, 'captions.jsonl');
    await writeCaptionsFile(products, file);
    const text = await readFile(file, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n');
    expect(lines.map((line) => JSON.parse(line))).toEqual(
      products.map((product) => ({ image: `images/${product.id}.png`, caption: product.caption })),
    );
    expect(lines[0]).toBe(
      `{"image":"images/shirt-000000.png","caption":${JSON.stringify(products[0]!.caption)}}`,
    );
  });
});
