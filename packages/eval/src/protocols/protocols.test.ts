import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Rng } from '@cir/core-tensor';
import type { CirrPair, FashionIqTriplet, FashionMtKind, FashionMtTransaction } from '@cir/datasets';
import { describe, expect, it } from 'vitest';
import { evaluateCirr } from './cirr';
import { evaluateFashionIq } from './fashion-iq';
import { evaluateFashionMt } from './fashion-mt';
import { naiveRankedList, recallFromPositions } from './reference-implementation.test-helpers';

const benchmarks = join(
  process.env.CIR_SHARED_DIR ?? resolve(__dirname, '../../../../../shared'),
  'benchmarks',
);
const haveBenchmarks = existsSync(benchmarks);
if (!haveBenchmarks)
  console.warn(`[skip] real-annotation protocol tests: ${benchmarks} not found (set CIR_SHARED_DIR)`);
const readJson = (path: string) => JSON.parse(readFileSync(join(benchmarks, path), 'utf8'));

describe.skipIf(!haveBenchmarks)('protocols on the real annotation files with random embeddings', () => {
  it('CIRR val equals the naive implementation (reference removed, subset over img_set)', async () => {
    const raw = readJson('cirr/captions/cap.rc2.val.json') as Record<string, never>[];
    const pairs: CirrPair[] = raw.map((entry: Record<string, unknown>) => ({
      pairId: entry.pairid as number,
      reference: entry.reference as string,
      targetHard: entry.target_hard as string,
      caption: entry.caption as string,
      imageSet: { id: 0, members: (entry.img_set as { members: string[] }).members },
    }));
    const galleryNames = Object.keys(readJson('cirr/image_splits/split.rc2.val.json'));
    expect([pairs.length, galleryNames.length]).toEqual([4181, 2297]);
    const dim = 32;
    const rng = new Rng(1);
    const queries = rng.normalArray(pairs.length * dim);
    const gallery = rng.normalArray(galleryNames.length * dim);
    const result = await evaluateCirr(pairs, { queries, gallery, dim, galleryNames });

    const row = new Map(galleryNames.map((name, index) => [name, index]));
    const positions: number[] = [];
    const subsetPositions: number[] = [];
    pairs.forEach((pair, query) => {
      const ranked = naiveRankedList(queries, query, gallery, galleryNames.length, dim).filter(
        (index) => index !== row.get(pair.reference),
      );
      positions.push(ranked.indexOf(row.get(pair.targetHard!)!));
      const members = new Set(
        pair.imageSet.members.filter((name) => name !== pair.reference).map((name) => row.get(name)),
      );
      subsetPositions.push(ranked.filter((index) => members.has(index)).indexOf(row.get(pair.targetHard!)!));
    });
    const expected = {
      recallAt1: recallFromPositions(positions, 1),
      recallAt5: recallFromPositions(positions, 5),
      recallAt10: recallFromPositions(positions, 10),
      recallAt50: recallFromPositions(positions, 50),
      recallSubsetAt1: recallFromPositions(subsetPositions, 1),
      recallSubsetAt2: recallFromPositions(subsetPositions, 2),
      recallSubsetAt3: recallFromPositions(subsetPositions, 3),
    };
    for (const [metric, value] of Object.entries(expected)) {
      expect(Math.abs(result[metric as keyof typeof expected] - value), metric).toBeLessThan(1e-6);
    }
    expect(result.average).toBeCloseTo((expected.recallAt5 + expected.recallSubsetAt1) / 2, 9);
    // Random embeddings: R_subset@1 near chance (1/5).
    expect(result.recallSubsetAt1).toBeGreaterThan(15);
    expect(result.recallSubsetAt1).toBeLessThan(25);
  });

  it('FashionIQ val (each category) equals the naive implementation (reference kept)', async () => {
    for (const [category, triplets, images] of [
      ['dress', 2017, 3817],
      ['shirt', 2038, 6346],
      ['toptee', 1961, 5373],
    ] as const) {
      const raw = readJson(`fashion-iq/captions/cap.${category}.val.json`) as {
        candidate: string;
        target: string;
        captions: [string, string];
      }[];
      const records: FashionIqTriplet[] = raw.map((entry) => ({
        reference: entry.candidate,
        target: entry.target,
        captions: entry.captions,
      }));
      const galleryNames = readJson(`fashion-iq/image_splits/split.${category}.val.json`) as string[];
      expect([records.length, galleryNames.length]).toEqual([triplets, images]);
      const dim = 16;
      const rng = new Rng(category);
      const queries = rng.normalArray(records.length * dim);
      const gallery = rng.normalArray(galleryNames.length * dim);
      const result = await evaluateFashionIq(records, { queries, gallery, dim, galleryNames });
      const row = new Map(galleryNames.map((name, index) => [name, index]));
      const positions = records.map((record, query) =>
        naiveRankedList(queries, query, gallery, galleryNames.length, dim).indexOf(row.get(record.target!)!),
      );
      expect(Math.abs(result.recallAt10 - recallFromPositions(positions, 10))).toBeLessThan(1e-6);
      expect(Math.abs(result.recallAt50 - recallFromPositions(positions, 50))).toBeLessThan(1e-6);
    }
  });
});

describe('FashionMT protocol', () => {
  it('scores the final turn per kind with R@1/5/10/20 and averages the kind means', async () => {
    // Gallery of 4 one-hot images; query i points at image i exactly, except the last (a miss ranked 4th).
    const galleryNames = ['a.png', 'b.png', 'c.png', 'd.png'];
    const gallery = Float32Array.of(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1);
    const transaction = (target: string): FashionMtTransaction => ({
      ref: 'a.png',
      tar1: 'b.png',
      tar2: 'c.png',
      tar3: target,
      mod1: 'm',
      mod2: 'm',
      mod3: 'm',
      cap0: 'c',
      cap1: 'c',
      cap2: 'c',
      cap3: 'c',
    });
    const transactions = [transaction('a.png'), transaction('b.png'), transaction('d.png')];
    const kinds: FashionMtKind[] = ['combination', 'rollback', 'rollback'];
    const queries = Float32Array.of(1, 0, 0, 0, 0, 1, 0, 0, 1, 0.5, 0.4, 0.1);
    const result = await evaluateFashionMt(transactions, kinds, { queries, gallery, dim: 4, galleryNames });
    expect(result.combination).toMatchObject({ queries: 1, recallAt1: 100, mean: 100 });
    expect(result.rollback).toMatchObject({ queries: 2, recallAt1: 50, recallAt5: 100, mean: 87.5 });
    expect(result.mean).toBeCloseTo(93.75);
  });
});
