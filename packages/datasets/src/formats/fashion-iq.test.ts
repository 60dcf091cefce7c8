import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fashionIqPaths, joinFashionIqCaptions, loadFashionIqTriplets, loadImageList } from './fashion-iq';

const root = fileURLToPath(new URL('./__fixtures__/fashion-iq/', import.meta.url));
const valFile = join(root, 'captions', 'cap.dress.val.json');

describe('loadFashionIqTriplets', () => {
  it('throws on the first triplet without exactly two captions, naming file and record', async () => {
    await expect(loadFashionIqTriplets(valFile)).rejects.toThrow(
      `${valFile} record 1: "captions" must be an array of exactly 2 strings`,
    );
  });

  it('maps candidate to reference, keeps empty captions with a warning and lists invalid triplets', async () => {
    const result = await loadFashionIqTriplets(valFile, { mode: 'skip' });
    expect(result.records).toEqual([
      { reference: 'B0REFERE01', target: 'B0TARGET01', captions: ['is red', 'has long sleeves'] },
      { reference: 'B0REFERE03', target: 'B0TARGET03', captions: ['', 'is shorter'] },
    ]);
    expect(result.warnings).toEqual([
      { file: valFile, location: { record: 2 }, message: 'caption 1 is empty' },
    ]);
    expect(result.invalid.map((issue) => [issue.location, issue.message])).toEqual([
      [{ record: 1 }, '"captions" must be an array of exactly 2 strings'],
      [{ record: 3 }, '"candidate" must be a non-empty string'],
    ]);
  });

  it('accepts test triplets, which have no target', async () => {
    const result = await loadFashionIqTriplets(join(root, 'captions', 'cap.dress.test.json'));
    expect(result.records).toEqual([{ reference: 'B0REFERE01', captions: ['is darker', 'has a collar'] }]);
  });
});

describe('FashionIQ files', () => {
  it('places captions and image splits under the root', () => {
    expect(fashionIqPaths('/data/fashion-iq', 'toptee', 'val')).toEqual({
      captions: '/data/fashion-iq/captions/cap.toptee.val.json',
      split: '/data/fashion-iq/image_splits/split.toptee.val.json',
    });
  });

  it('loads an image split', async () => {
    expect(await loadImageList(join(root, 'image_splits', 'split.dress.val.json'))).toHaveLength(5);
  });
});

describe('joinFashionIqCaptions', () => {
  it.each([
    [
      'is shiny and silver with shorter sleeves',
      'fit and flare',
      'Is shiny and silver with shorter sleeves and fit and flare',
    ],
    // strip('.?, ') removes those characters from both ends; capitalize lower-cases the rest of the first caption.
    [' ,Is RED and has a V-Neck.?', '.has Long sleeves, ', 'Is red and has a v-neck and has Long sleeves'],
    ['', 'is blue', ' and is blue'],
    // Python strips only the given characters, so a tab stays; capitalize works on code points.
    ['\tis red', 'is long.', '\tis red and is long'],
    ['élégant', 'plus court', 'Élégant and plus court'],
  ])('joins %j and %j as CLIP4Cir does', (first, second, expected) => {
    expect(joinFashionIqCaptions(first, second)).toBe(expected);
  });
});
