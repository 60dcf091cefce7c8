import { describe, expect, it } from 'vitest';
import { cosineWithWarmup, oneCycle } from './schedules';

describe('cosineWithWarmup', () => {
  it('warms up linearly then decays along a half cosine to the floor', () => {
    const schedule = cosineWithWarmup({
      peakLearningRate: 1,
      warmupSteps: 4,
      totalSteps: 14,
      minLearningRate: 0.1,
    });
    expect(schedule(0)).toBeCloseTo(0.25);
    expect(schedule(3)).toBeCloseTo(1);
    expect(schedule(4)).toBeCloseTo(1);
    expect(schedule(9)).toBeCloseTo(0.1 + 0.45 * (1 + Math.cos(Math.PI / 2)));
    expect(schedule(14)).toBeCloseTo(0.1);
    expect(schedule(100)).toBeCloseTo(0.1);
  });
});

describe('oneCycle', () => {
  it('follows PyTorch OneCycleLR (cosine, two phases)', () => {
    const schedule = oneCycle({ maxLearningRate: 1, totalSteps: 10 });
    expect(schedule(0)).toBeCloseTo(0.04); // max / 25
    expect(schedule(1)).toBeCloseTo(1 + ((0.04 - 1) / 2) * (1 + Math.cos(Math.PI / 2)));
    expect(schedule(2)).toBeCloseTo(1); // peak at 0.3·10 − 1
    expect(schedule(9)).toBeCloseTo(0.04 / 1e4, 9);
    // step 5.5 would be the middle of the second phase; step 5 is 3/7 of the way.
    const fraction = 3 / 7;
    expect(schedule(5)).toBeCloseTo(4e-6 + ((1 - 4e-6) / 2) * (1 + Math.cos(Math.PI * fraction)));
  });
});
