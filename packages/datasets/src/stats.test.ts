import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DatasetFormatError } from './errors';
import { sharedBenchmarksDirectory } from './shared-benchmarks';
import { type DatasetReport, datasetStats } from './stats';

const fixtures = fileURLToPath(new URL('./formats/__fixtures__/', import.meta.url));
const benchmarks = sharedBenchmarksDirectory();

function counts(report: DatasetReport) {
  return {
    records: report.records,
    images: report.images,
    invalid: report.invalid,
    warnings: report.warnings,
  };
}

describe('datasetStats on hand-written files', () => {
  it('throws in strict mode, naming the file and record', async () => {
    const file = join(fixtures, 'fashion-iq', 'captions', 'cap.dress.val.json');
    const error = await datasetStats('fashioniq', join(fixtures, 'fashion-iq'), { category: 'dress' }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(DatasetFormatError);
    expect(error).toMatchObject({ file, location: { record: 1 } });
  });

  it('counts invalid records and warnings in skip mode; images come from the split file', async () => {
    const report = await datasetStats('fashioniq', join(fixtures, 'fashion-iq'), {
      category: 'dress',
      mode: 'skip',
    });
    expect(counts(report)).toEqual({ records: 2, images: 5, invalid: 2, warnings: 1 });
    expect(report.issues.invalid.map((issue) => issue.location)).toEqual([{ record: 1 }, { record: 3 }]);
  });

  it('names the missing file of a category', async () => {
    await expect(
      datasetStats('fashioniq', join(fixtures, 'fashion-iq'), { mode: 'skip', category: 'shirt' }),
    ).rejects.toThrow(`${join(fixtures, 'fashion-iq', 'captions', 'cap.shirt.val.json')}: file not found`);
  });

  it.each([
    ['cirr', 'cirr', {}, { records: 2, images: 7, invalid: 2, warnings: 1 }],
    ['cirr', 'cirr/captions/cap.rc2.val.json', {}, { records: 2, images: 7, invalid: 2, warnings: 1 }],
    ['shoes', 'shoes', {}, { records: 3, images: 4, invalid: 1, warnings: 0 }],
    ['shoes', 'shoes', { split: 'eval' }, { records: 1, images: 2, invalid: 1, warnings: 0 }],
    // No image_splits folder beside data/: the images are the ASINs the valid sessions reference.
    [
      'mt-fashioniq',
      'mt-fashion-iq',
      { category: 'dress' },
      { records: 2, images: 6, invalid: 2, warnings: 2 },
    ],
    ['fashionmt', 'fashion-mt/Mini_test_cap.json', {}, { records: 3, images: 13, invalid: 1, warnings: 0 }],
    ['mtcir', 'mtcir/pairs.jsonl', {}, { records: 2, images: 3, invalid: 3, warnings: 0 }],
    ['chatir', 'chatir/dialogs.json', {}, { records: 3, images: 2, invalid: 1, warnings: 3 }],
    ['pairs', 'pairs/pairs.csv', {}, { records: 3, images: 3, invalid: 3, warnings: 0 }],
  ] as const)('counts %s at %s %j', async (format, path, options, expected) => {
    expect(counts(await datasetStats(format, join(fixtures, path), { ...options, mode: 'skip' }))).toEqual(
      expected,
    );
  });

  it('reports format details', async () => {
    const shoes = await datasetStats('shoes', join(fixtures, 'shoes'), { mode: 'skip' });
    expect(shoes.details).toEqual({ train: 1, eval: 1, unassigned: 1 });
    const fashionMt = await datasetStats('fashionmt', join(fixtures, 'fashion-mt', 'Mini_test_cap.json'), {
      mode: 'skip',
    });
    expect(fashionMt.details).toEqual({ kinds: { rollback: 1, combination: 1, plain: 1 } });
    const chatIr = await datasetStats('chatir', join(fixtures, 'chatir', 'dialogs.json'), { mode: 'skip' });
    expect(chatIr.details).toEqual({
      rounds: 6,
      malformedRounds: { withoutSeparator: 2, severalSeparators: 1 },
    });
  });

  it.each([
    [
      'fashioniq',
      'fashion-iq',
      { category: 'skirt' },
      'unknown category "skirt", expected one of dress, shirt, toptee',
    ],
    [
      'fashioniq',
      'fashion-iq',
      { split: 'test1' },
      'unknown split "test1", expected one of train, val, test',
    ],
    ['shoes', 'shoes', { split: 'val' }, 'unknown split "val", expected one of train, eval'],
    [
      'cirr',
      'cirr/captions/cap.rc2.val.json',
      { split: 'val' },
      '--split does not apply to cirr with a captions file',
    ],
    ['chatir', 'chatir/dialogs.json', { category: 'dress' }, '--category does not apply to chatir'],
  ] as const)('refuses %s at %s with %j', async (format, path, options, message) => {
    await expect(datasetStats(format, join(fixtures, path), options)).rejects.toThrow(
      expect.objectContaining({ name: 'RangeError', message: expect.stringContaining(message) }),
    );
  });
});

describe.skipIf(!benchmarks)(
  'datasetStats on the real benchmark files (skipped: no shared benchmarks folder)',
  () => {
    const root = benchmarks ?? '';

    it('CIRR val: 4181 pairs over the 2297 images of the split file', async () => {
      const expected = { records: 4181, images: 2297, invalid: 0, warnings: 0 };
      expect(counts(await datasetStats('cirr', join(root, 'cirr')))).toEqual(expected);
      expect(counts(await datasetStats('cirr', join(root, 'cirr', 'captions', 'cap.rc2.val.json')))).toEqual(
        expected,
      );
    });

    it('FashionIQ val per category, and summed without a category', async () => {
      const expected = {
        dress: { records: 2017, images: 3817, invalid: 0, warnings: 0 },
        shirt: { records: 2038, images: 6346, invalid: 0, warnings: 1 },
        toptee: { records: 1961, images: 5373, invalid: 0, warnings: 2 },
      };
      for (const [category, categoryCounts] of Object.entries(expected)) {
        expect(counts(await datasetStats('fashioniq', join(root, 'fashion-iq'), { category }))).toEqual(
          categoryCounts,
        );
      }
      const all = await datasetStats('fashioniq', join(root, 'fashion-iq'));
      expect(counts(all)).toEqual({ records: 6016, images: 15536, invalid: 0, warnings: 3 });
      expect(all.details).toEqual(expected);
      expect(all.issues.warnings.every((issue) => issue.message === 'caption 1 is empty')).toBe(true);
    });

    it('Shoes: 10751 triplets, 8990 train over 10000 images and 1761 eval over 4658', async () => {
      const shoes = join(root, 'shoes');
      const all = await datasetStats('shoes', shoes);
      expect(all.records).toBe(10751);
      expect(all.details).toEqual({ train: 8990, eval: 1761, unassigned: 0 });
      expect(counts(await datasetStats('shoes', shoes, { split: 'train' }))).toMatchObject({
        records: 8990,
        images: 10000,
      });
      expect(counts(await datasetStats('shoes', shoes, { split: 'eval' }))).toMatchObject({
        records: 1761,
        images: 4658,
      });
    });

    it.each([
      ['ChatGPT_BLIP2', 98, 139],
      ['FLAN_ALPACA_XXL_BLIP2', 55, 726],
      ['Unanswered_ChatGPT_BLIP2', 382, 22],
      ['Human_BLIP2', 0, 0],
      ['VisDial_v1.0_queries_val', 0, 0],
    ])(
      'ChatIR %s: 2064 dialogs, %i rounds without "? " and %i with several',
      async (name, without, several) => {
        const report = await datasetStats('chatir', join(root, 'chatir', 'dialogues', `${name}.json`));
        expect(counts(report)).toEqual({
          records: 2064,
          images: 2064,
          invalid: 0,
          warnings: without + several,
        });
        expect(report.details?.malformedRounds).toEqual({
          withoutSeparator: without,
          severalSeparators: several,
        });
      },
    );

    it('multi-turn FashionIQ val: 1000 / 681 / 719 sessions', async () => {
      const report = await datasetStats('mt-fashioniq', join(root, 'mt-fashion-iq'));
      expect(report.details).toEqual({
        dress: { records: 1000, images: 2562, invalid: 0, warnings: 5 },
        shirt: { records: 681, images: 1770, invalid: 0, warnings: 0 },
        toptee: { records: 719, images: 1942, invalid: 0, warnings: 2 },
      });
    });
  },
);

describe('datasetStats on a synthetic world', () => {
  it('discovers the world’s own FashionIQ-format categories', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cir-stats-world-'));
    await mkdir(join(root, 'captions'), { recursive: true });
    await mkdir(join(root, 'image_splits'), { recursive: true });
    for (const category of ['bag', 'coat']) {
      await writeFile(
        join(root, 'captions', `cap.${category}.val.json`),
        JSON.stringify([
          { candidate: `${category}-1`, target: `${category}-2`, captions: ['is red', 'has a logo'] },
        ]),
      );
      await writeFile(
        join(root, 'image_splits', `split.${category}.val.json`),
        JSON.stringify([`${category}-1`, `${category}-2`, `${category}-3`]),
      );
    }
    const all = await datasetStats('fashioniq', root);
    expect([all.records, all.images]).toEqual([2, 6]);
    const bag = await datasetStats('fashioniq', root, { category: 'bag' });
    expect([bag.records, bag.images]).toEqual([1, 3]);
    await expect(datasetStats('fashioniq', root, { category: 'skirt' })).rejects.toThrow(
      /unknown category "skirt", expected one of bag, coat, dress, shirt, toptee/,
    );
  });
});
