import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readCatalogFolder } from './catalog-folder';
import { ApiError } from './errors';
import { itemId } from './upload-images';

let folder: string;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cir-catalog-'));
  await mkdir(join(folder, 'images'));
});
afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('readCatalogFolder', () => {
  it('lists images at the top level and under images/, captioned from captions.jsonl', async () => {
    await writeFile(join(folder, 'top.JPG'), 'x');
    await writeFile(join(folder, 'images', 'a.png'), 'x');
    await writeFile(join(folder, 'images', 'b.webp'), 'x');
    await writeFile(join(folder, 'images', 'notes.txt'), 'x');
    await writeFile(join(folder, 'images', '.hidden.png'), 'x');
    await writeFile(
      join(folder, 'captions.jsonl'),
      `${JSON.stringify({ image: 'images/a.png', caption: 'a red dress' })}\n${JSON.stringify({ image: './top.JPG', caption: 'a coat' })}\n`,
    );
    expect(await readCatalogFolder(folder)).toEqual([
      { id: 'a', path: join(folder, 'images', 'a.png'), fileName: 'a.png', caption: 'a red dress' },
      { id: 'b', path: join(folder, 'images', 'b.webp'), fileName: 'b.webp' },
      { id: 'top', path: join(folder, 'top.JPG'), fileName: 'top.JPG', caption: 'a coat' },
    ]);
  });

  it('refuses a missing or empty folder, two files with one id, and a malformed captions line', async () => {
    await expect(readCatalogFolder(join(folder, 'missing'))).rejects.toThrow(/does not exist/);
    await expect(readCatalogFolder(folder)).rejects.toThrow(/holds no png, jpg, jpeg or webp image/);
    await writeFile(join(folder, 'a.png'), 'x');
    await expect(readCatalogFolder(join(folder, 'a.png'))).rejects.toThrow(
      `catalog ${join(folder, 'a.png')} is a file: give the folder`,
    );
    await writeFile(join(folder, 'images', 'a.jpg'), 'x');
    const duplicate = await readCatalogFolder(folder).catch((error) => error);
    expect(duplicate).toBeInstanceOf(ApiError);
    expect(duplicate.message).toMatch(/a\.png and images\/a\.jpg would both be item "a"/);
    await rm(join(folder, 'images', 'a.jpg'));
    await writeFile(join(folder, 'captions.jsonl'), '{"image": "a.png", "caption": "ok"}\n{"image": \n');
    await expect(readCatalogFolder(folder)).rejects.toThrow(/captions\.jsonl line 2/);
  });
});

describe('itemId', () => {
  it('keeps safe names and replaces what would not fit in a URL or a file name', () => {
    expect(itemId('dress-01.png')).toBe('dress-01');
    expect(itemId('My Photo (1).jpeg')).toBe('My-Photo-1-');
    expect(itemId('.hidden.png')).toBe('hidden');
    expect(itemId('../../etc/passwd')).toBe('etc-passwd');
    expect(() => itemId('..png')).toThrow(/no usable item id/);
  });
});
