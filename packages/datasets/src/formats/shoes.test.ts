import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadImageNameList, loadShoesTriplets, splitShoesTriplets } from './shoes';

const root = fileURLToPath(new URL('./__fixtures__/shoes/', import.meta.url));
const captionsFile = join(root, 'relative_captions_shoes.json');

describe('loadShoesTriplets', () => {
  it('throws on a triplet without a reference, naming file and record', async () => {
    await expect(loadShoesTriplets(captionsFile)).rejects.toThrow(
      `${captionsFile} record 3: "ReferenceImageName" must be a non-empty string`,
    );
  });

  it('maps ImageName to the target and ReferenceImageName to the reference', async () => {
    const result = await loadShoesTriplets(captionsFile, { mode: 'skip' });
    expect(result.records[0]).toEqual({
      reference: 'img_womens_pumps_2.jpg',
      target: 'img_womens_pumps_1.jpg',
      caption: 'is black',
    });
    expect(result.records).toHaveLength(3);
    expect(result.invalid).toHaveLength(1);
  });
});

describe('splitShoesTriplets', () => {
  it('assigns a triplet to a split only when both of its images are in that split', async () => {
    const { records } = await loadShoesTriplets(captionsFile, { mode: 'skip' });
    const train = await loadImageNameList(join(root, 'train_im_names.txt'));
    const evaluation = await loadImageNameList(join(root, 'eval_im_names.txt'));
    expect(train).toEqual(['img_womens_pumps_1.jpg', 'img_womens_pumps_2.jpg', 'img_womens_pumps_3.jpg']);
    const split = splitShoesTriplets(records, train, evaluation);
    expect(split.train.map((triplet) => triplet.caption)).toEqual(['is black']);
    expect(split.eval.map((triplet) => triplet.caption)).toEqual(['is taller']);
    expect(split.unassigned.map((triplet) => triplet.caption)).toEqual(['has a heel']);
  });
});
