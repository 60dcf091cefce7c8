import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadImageCaptionPairs } from './image-caption-pairs';

const root = fileURLToPath(new URL('./__fixtures__/pairs/', import.meta.url));

describe('loadImageCaptionPairs', () => {
  it('reads CSV with quoted commas, quotes and line breaks, and names each bad line', async () => {
    const file = join(root, 'pairs.csv');
    const result = await loadImageCaptionPairs(file, { mode: 'skip' });
    expect(result.records).toEqual([
      { image: 'images/1.png', caption: 'a red shirt, with stripes' },
      { image: 'images/2.png', caption: 'a dress called "Summer"\nwith a second line' },
      { image: 'images/5.png', caption: 'a green bag' },
    ]);
    expect(result.invalid.map((issue) => [issue.location, issue.message])).toEqual([
      [{ line: 6 }, 'the caption must be a non-empty string'],
      [{ line: 7 }, 'unexpected text after a closing quote (line 7)'],
      [{ line: 9 }, 'expected 3 fields like the header, got 4'],
    ]);
    await expect(loadImageCaptionPairs(file)).rejects.toThrow(
      `${file} line 6: the caption must be a non-empty string`,
    );
  });

  it('reads TSV with CRLF and imagefolder column names', async () => {
    const result = await loadImageCaptionPairs(join(root, 'pairs.tsv'));
    expect(result.records).toEqual([
      { image: 'images/1.png', caption: 'a red shirt' },
      { image: 'images/2.png', caption: 'a dress, long' },
    ]);
  });

  it('reads JSONL with either key names', async () => {
    const result = await loadImageCaptionPairs(join(root, 'pairs.jsonl'), { mode: 'skip' });
    expect(result.records).toEqual([
      { image: 'images/1.png', caption: 'a red shirt' },
      { image: 'images/2.png', caption: 'a long dress' },
    ]);
    expect(result.invalid.map((issue) => issue.location)).toEqual([{ line: 3 }, { line: 4 }]);
  });

  it('refuses a header without an image column, and an unknown extension', async () => {
    const file = join(root, 'no-image-column.csv');
    await expect(loadImageCaptionPairs(file, { mode: 'skip' })).rejects.toThrow(
      `${file} line 1: the header row must name an image column (image or file_name)`,
    );
    const text = join(root, '..', 'fashion-mt', 'Mini_index_names.txt');
    await expect(loadImageCaptionPairs(text)).rejects.toThrow(`${text}: unsupported extension ".txt"`);
  });
});
