import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMtcirPairs } from '../formats/mtcir';
import { smallWorld } from './__fixtures__/small-world';
import { emitMtcir } from './mtcir';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'emit-mtcir-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('emitMtcir', () => {
  it('round-trips through the MTCIR loader, nine pairs per group of six', async () => {
    const world = smallWorld(root);
    const emission = await emitMtcir(world, join(root, 'mtcir'));
    expect(emission.splits.map((split) => split.split)).toEqual(['train', 'test']);
    for (const split of emission.splits) {
      expect((await loadMtcirPairs(split.file)).records).toEqual(split.pairs);
      expect(split.pairs.length % 9).toBe(0);
    }
  });

  it('categorizes logo additions and removals, and names every change', async () => {
    const world = smallWorld(root);
    const emission = await emitMtcir(world, join(root, 'mtcir'));
    const byPath = new Map(world.catalog.map((product) => [`../images/${product.id}.png`, product]));
    const categories = new Set<string>();
    let severalTexts = 0;
    for (const pair of emission.splits.flatMap((split) => split.pairs)) {
      const reference = byPath.get(pair.reference)!;
      const target = byPath.get(pair.target)!;
      const changed = Object.keys(reference.attributes).filter(
        (name) => reference.attributes[name as 'colour'] !== target.attributes[name as 'colour'],
      );
      expect(pair.modifications).toHaveLength(changed.length);
      if (changed.length > 1) severalTexts++;
      for (const modification of pair.modifications) {
        categories.add(modification.category);
        if (modification.category === 'added_object') {
          expect(reference.attributes.logo).toBe('none');
          expect(modification.text).toBe(`add a ${target.attributes.logo} logo`);
        }
        if (modification.category === 'removed_object') {
          expect(target.attributes.logo).toBe('none');
          expect(modification.text).toBe(`remove the ${reference.attributes.logo} logo`);
        }
      }
    }
    expect([...categories].sort()).toEqual(['added_object', 'attribute_change', 'removed_object']);
    expect(severalTexts).toBeGreaterThan(0);
  });
});
