import { describe, expect, it } from 'vitest';
import {
  cumulativeHitsPerRound,
  meanAveragePrecisionAtK,
  meanAveragePrecisionAtKMulti,
  recallAtK,
} from './metrics';

describe('metrics', () => {
  it('Recall@K counts ranks below K over queries with a target', () => {
    const ranks = Int32Array.of(0, 4, 9, 10, 50, -1);
    expect(recallAtK(ranks, 1)).toBeCloseTo(20);
    expect(recallAtK(ranks, 10)).toBeCloseTo(60);
    expect(recallAtK(ranks, 11)).toBeCloseTo(80);
  });

  it('mAP@K with one relevant item is the mean reciprocal rank within K', () => {
    expect(meanAveragePrecisionAtK(Int32Array.of(0, 1, 3, 20), 10)).toBeCloseTo((100 * (1 + 0.5 + 0.25)) / 4);
  });

  it('mAP@K with several relevant items follows the AP@K definition', () => {
    // Relevant at ranks 0 and 2: precision@1 = 1, precision@3 = 2/3 → AP = (1 + 2/3) / 2.
    expect(meanAveragePrecisionAtKMulti([[2, 0]], 5)).toBeCloseTo((100 * (1 + 2 / 3)) / 2);
    // K = 2 cuts the second one and min(K, relevant) = 2.
    expect(meanAveragePrecisionAtKMulti([[2, 0]], 2)).toBeCloseTo(50);
  });

  it('cumulative Hits@K never decreases once a target was found', () => {
    const rounds = [Int32Array.of(0, 20, 30), Int32Array.of(15, 5, 30), Int32Array.of(15, 40, 2)];
    expect(cumulativeHitsPerRound(rounds, 10)).toEqual([100 / 3, 200 / 3, 100]);
  });
});
