import { checkGradients, initBackend, Rng, tf } from '@cir/core-tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchClassificationLoss } from './batch-classification-loss';
import {
  CYCLIC_COMBINATION_TERMS,
  type CyclicCombinationTurn,
  cyclicCombinationLoss,
} from './cyclic-combination-loss';

beforeAll(async () => {
  await initBackend();
});

function randomTurns(
  seed: number,
  count: number,
  [batch, dim] = [4, 6],
  variables = false,
): CyclicCombinationTurn[] {
  const rng = new Rng(seed);
  const embedding = () => {
    const tensor = tf.tensor2d(rng.normalArray(batch * dim), [batch, dim]);
    return variables ? tf.variable(tensor) : tensor;
  };
  return Array.from({ length: count }, () => ({
    fusedQuery: embedding(),
    targetFused: embedding(),
    modificationText: embedding(),
    targetCaption: embedding(),
  }));
}

const value = (tensor: tf.Tensor | undefined) => tensor!.dataSync()[0];

describe('cyclicCombinationLoss', () => {
  it("sums eq. 9's four directed terms over the turns", () => {
    const turns = randomTurns(1, 2);
    const logitScale = 5;
    const lB = (a: tf.Tensor2D, b: tf.Tensor2D) => value(batchClassificationLoss(a, b, { logitScale }));
    // L_B is not symmetric on these embeddings, so a reversed direction would change the sums below.
    expect(
      Math.abs(lB(turns[0].fusedQuery, turns[0].targetFused) - lB(turns[0].targetFused, turns[0].fusedQuery)),
    ).toBeGreaterThan(1e-3);
    const expected = {
      fusionToTarget: turns.reduce((sum, turn) => sum + lB(turn.fusedQuery, turn.targetFused), 0),
      targetToModification: turns.reduce((sum, turn) => sum + lB(turn.targetFused, turn.modificationText), 0),
      modificationToCaption: turns.reduce(
        (sum, turn) => sum + lB(turn.modificationText, turn.targetCaption),
        0,
      ),
      captionToFusion: turns.reduce((sum, turn) => sum + lB(turn.targetCaption, turn.fusedQuery), 0),
    };
    const result = cyclicCombinationLoss(turns, { logitScale });
    for (const term of CYCLIC_COMBINATION_TERMS)
      expect(value(result.terms[term]), term).toBeCloseTo(expected[term], 4);
    expect(value(result.total)).toBeCloseTo(
      Object.values(expected).reduce((sum, term) => sum + term, 0),
      4,
    );
  });

  it('leaves disabled terms out of the total and the per-term values', () => {
    const turns = randomTurns(2, 3);
    const all = cyclicCombinationLoss(turns);
    const withoutTwo = cyclicCombinationLoss(turns, {
      terms: { targetToModification: false, captionToFusion: false },
    });
    expect(Object.keys(withoutTwo.terms)).toEqual(['fusionToTarget', 'modificationToCaption']);
    expect(value(withoutTwo.total)).toBeCloseTo(
      value(all.terms.fusionToTarget) + value(all.terms.modificationToCaption),
      3,
    );
    const none = cyclicCombinationLoss(turns, {
      terms: {
        fusionToTarget: false,
        targetToModification: false,
        modificationToCaption: false,
        captionToFusion: false,
      },
    });
    expect(value(none.total)).toBe(0);
    expect(none.terms).toEqual({});
  });

  it('gradient matches finite differences for every embedding of every turn', () => {
    const turns = randomTurns(3, 2, [3, 5], true);
    const variables = new Map(
      turns.flatMap((turn, index) =>
        Object.entries(turn).map(([name, tensor]) => [`${index}.${name}`, tensor as tf.Variable] as const),
      ),
    );
    // A small batch and scale 20, not 100: the scale is a constant factor, and with a sharper softmax over a larger
    // batch the float32 round-off of the eight summed L_B values alone approaches the 1e-3 bound.
    const result = checkGradients(() => cyclicCombinationLoss(turns, { logitScale: 20 }).total, variables);
    expect(result.maxRelativeError).toBeLessThan(1e-3);
  });

  it('rejects an empty list of turns', () => {
    expect(() => cyclicCombinationLoss([])).toThrow(/no turns/);
  });
});
