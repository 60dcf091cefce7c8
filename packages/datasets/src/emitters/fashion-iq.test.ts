import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFashionIqTriplets, loadImageList } from '../formats/fashion-iq';
import { attributeChanges, parseModification } from '../mgf/modification-text';
import { smallWorld } from './__fixtures__/small-world';
import { emitFashionIq } from './fashion-iq';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'emit-fashion-iq-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('emitFashionIq', () => {
  it('round-trips through the FashionIQ loaders, with galleries holding every triplet image', async () => {
    const world = smallWorld(root);
    const emission = await emitFashionIq(world, join(root, 'fashion-iq'));
    expect(emission.categories.map((file) => `${file.category}.${file.split}`)).toContain('dress.val');
    let triplets = 0;
    for (const file of emission.categories) {
      expect(file.captionsFile).toMatch(
        new RegExp(`captions/cap\\.${file.category}\\.${file.split}\\.json$`),
      );
      expect((await loadFashionIqTriplets(file.captionsFile)).records).toEqual(file.triplets);
      expect(await loadImageList(file.imageSplitFile)).toEqual(file.images);
      const gallery = new Set(file.images);
      for (const triplet of file.triplets) {
        expect(gallery.has(triplet.reference) && gallery.has(triplet.target!)).toBe(true);
      }
      triplets += file.triplets.length;
    }
    // Three consecutive pairs per three-turn transaction.
    expect(triplets).toBe(3 * (world.train.transactions.length + world.test.transactions.length));
  });

  it('writes two partial captions that together name the whole change', async () => {
    const world = smallWorld(root);
    const byId = new Map(world.catalog.map((product) => [product.id, product]));
    const emission = await emitFashionIq(world, join(root, 'fashion-iq'));
    for (const file of emission.categories) {
      for (const { reference, target, captions } of file.triplets) {
        const named = captions.map((caption) => parseModification(file.category, `1. ${caption} `).changes);
        const changes = attributeChanges(
          file.category,
          byId.get(reference)!.attributes,
          byId.get(target!)!.attributes,
        );
        expect({ ...named[0], ...named[1] }).toEqual(changes);
        if (Object.keys(changes).length > 1) expect(named[0]).not.toEqual(named[1]);
      }
    }
  });
});
