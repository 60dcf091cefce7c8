import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sharedBenchmarksDirectory } from '../shared-benchmarks';
import { loadCirrPairs, loadCirrSplit } from './cirr';

const root = fileURLToPath(new URL('./__fixtures__/cirr/', import.meta.url));
const captionsFile = join(root, 'captions', 'cap.rc2.val.json');
const benchmarks = sharedBenchmarksDirectory();

describe('loadCirrPairs', () => {
  it('throws on a group without six members, naming file and record', async () => {
    await expect(loadCirrPairs(captionsFile)).rejects.toThrow(
      `${captionsFile} record 2: "img_set.members" must be 6 distinct image names`,
    );
  });

  it('maps the fields, accepts pairs without targets and warns on a blank caption', async () => {
    const result = await loadCirrPairs(captionsFile, { mode: 'skip' });
    const members = [
      'dev-1-0-img0',
      'dev-2-0-img0',
      'dev-3-0-img0',
      'dev-4-0-img0',
      'dev-5-0-img0',
      'dev-6-0-img0',
    ];
    expect(result.records).toEqual([
      {
        pairId: 1,
        reference: 'dev-1-0-img0',
        targetHard: 'dev-2-0-img0',
        targetSoft: { 'dev-2-0-img0': 1 },
        caption: 'show two dogs',
        imageSet: { id: 7, members, referenceRank: 0, targetRank: 1 },
      },
      { pairId: 2, reference: 'dev-1-0-img0', caption: ' ', imageSet: { id: 7, members, referenceRank: 0 } },
    ]);
    expect(result.warnings.map((issue) => issue.location)).toEqual([{ record: 1 }]);
    expect(result.invalid.map((issue) => [issue.location, issue.message])).toEqual([
      [{ record: 2 }, '"img_set.members" must be 6 distinct image names'],
      [{ record: 3 }, '"img_set.members" does not include the reference "dev-9-0-img0"'],
    ]);
  });

  it.skipIf(!benchmarks)(
    'reads the real test1 pairs, which have no targets (skipped: no shared benchmarks)',
    async () => {
      const result = await loadCirrPairs(join(benchmarks ?? '', 'cirr', 'captions', 'cap.rc2.test1.json'));
      expect(result.records).toHaveLength(4148);
      expect(result.records.some((pair) => pair.targetHard !== undefined)).toBe(false);
      // Pair 27098 of test1 has the caption " ".
      expect(result.warnings.map((issue) => issue.location)).toEqual([{ record: 1387 }]);
    },
  );
});

describe('loadCirrSplit', () => {
  it('maps every gallery image to its relative path', async () => {
    const split = await loadCirrSplit(join(root, 'image_splits', 'split.rc2.val.json'));
    expect(Object.keys(split)).toHaveLength(7);
    expect(split['dev-7-0-img0']).toBe('./dev/dev-7-0-img0.png');
  });

  it('refuses a split file that is an array', async () => {
    const file = join(root, 'captions', 'cap.rc2.val.json');
    await expect(loadCirrSplit(file)).rejects.toThrow(`${file}: expected a JSON object {image name: path}`);
  });
});
