import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCirrPairs, loadCirrSplit } from '../formats/cirr';
import { smallWorld } from './__fixtures__/small-world';
import { emitCirr } from './cirr';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'emit-cirr-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('emitCirr', () => {
  it('round-trips through the CIRR loaders', async () => {
    const world = smallWorld(root);
    const emission = await emitCirr(world, join(root, 'cirr'));
    expect(emission.splits.map((split) => split.split)).toEqual(['train', 'val']);
    for (const split of emission.splits) {
      expect((await loadCirrPairs(split.captionsFile)).records).toEqual(split.pairs);
      expect(await loadCirrSplit(split.imageSplitFile)).toEqual(split.images);
      expect(split.pairs.length).toBe(2 * Math.floor(Object.keys(split.images).length / 6));
    }
  });

  it('draws reference and target from one group of six similar products inside the split gallery', async () => {
    const world = smallWorld(root);
    const byId = new Map(world.catalog.map((product) => [product.id, product]));
    const emission = await emitCirr(world, join(root, 'cirr'));
    const pairIds = emission.splits.flatMap((split) => split.pairs.map((pair) => pair.pairId));
    expect(new Set(pairIds).size).toBe(pairIds.length);
    for (const split of emission.splits) {
      for (const pair of split.pairs) {
        const { members, referenceRank, targetRank } = pair.imageSet;
        expect(members).toContain(pair.targetHard);
        expect(pair.reference).not.toBe(pair.targetHard);
        expect(referenceRank).not.toBe(targetRank);
        expect(new Set(members.map((member) => byId.get(member)!.category)).size).toBe(1);
        for (const member of members) expect(split.images[member]).toBe(`../images/${member}.png`);
        expect(pair.caption).not.toBe('');
      }
    }
  });
});
