import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImageNameList, loadShoesTriplets, splitShoesTriplets } from '../formats/shoes';
import { smallWorld } from './__fixtures__/small-world';
import { emitShoes } from './shoes';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'emit-shoes-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('emitShoes', () => {
  it('round-trips through the Shoes loaders, and every triplet falls in one split', async () => {
    const world = smallWorld(root);
    const emission = await emitShoes(world, join(root, 'shoes'));
    const [tripletFile, captionFile, trainFile, evalFile] = emission.files as [
      string,
      string,
      string,
      string,
    ];
    const triplets = (await loadShoesTriplets(tripletFile)).records;
    expect(triplets).toEqual(emission.triplets);
    const trainNames = await loadImageNameList(trainFile);
    const evalNames = await loadImageNameList(evalFile);
    expect(trainNames).toEqual(emission.trainNames);
    expect(evalNames).toEqual(emission.evalNames);
    expect(JSON.parse(await readFile(captionFile, 'utf8'))).toEqual(emission.captions);

    expect(trainNames.filter((name) => evalNames.includes(name))).toEqual([]);
    const split = splitShoesTriplets(triplets, trainNames, evalNames);
    expect(split.unassigned).toEqual([]);
    expect(split.train).toHaveLength(trainNames.length);
    expect(split.eval).toHaveLength(evalNames.length);
    for (const triplet of triplets) {
      expect(triplet.reference).toMatch(/^shoes-\d{6}\.png$/);
      expect(triplet.target).not.toBe(triplet.reference);
    }
  });
});
