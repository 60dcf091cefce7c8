import { checkGradients, initBackend, Rng, tf } from '@cir/core-tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { GruCell } from './gru-cell';
import {
  concatMemoryPolicy,
  createMemoryPolicy,
  type MemoryPolicy,
  mioMemoryPolicy,
  noMemoryPolicy,
  recurrentMemoryPolicy,
} from './memory-policies';
import { selectTokens } from './select-tokens';

beforeAll(async () => {
  await initBackend();
});

const randomTokens = (rng: Rng, shape: [number, number, number]) =>
  tf.tensor3d(rng.normalArray(shape[0] * shape[1] * shape[2]), shape);

/** Runs `turns` turns of random [batch, q, dim] tokens through a policy and returns the final memory. */
function runTurns(policy: MemoryPolicy, turns: number, shape: [number, number, number]): tf.Tensor3D {
  const rng = new Rng(turns);
  let memory: tf.Tensor3D | undefined;
  for (let turn = 0; turn < turns; turn++) {
    const current = randomTokens(rng, shape);
    const next = policy.update(memory, current);
    tf.dispose([memory, current]);
    memory = next;
  }
  return memory!;
}

describe('memory policies', () => {
  const tokenBytes = 32 * 768 * 4; // one turn of 32 float32 tokens of dim 768

  it('report memory costs at 3 and 10 turns (32 tokens of dim 768 per turn)', () => {
    const recurrentParameterBytes = (6 * 768 * 768 + 6 * 768) * 4;
    const expected: Record<string, [number, number, number, number]> = {
      // tokens after 3, tokens after 10, bytes after 3, bytes after 10
      none: [32, 32, tokenBytes, tokenBytes],
      concat: [96, 320, 3 * tokenBytes, 10 * tokenBytes],
      mio: [32, 32, tokenBytes, tokenBytes],
      recurrent: [32, 32, tokenBytes + recurrentParameterBytes, tokenBytes + recurrentParameterBytes],
    };
    for (const name of ['none', 'concat', 'mio', 'recurrent'] as const) {
      const policy = createMemoryPolicy(name, { dim: 768 });
      expect(policy.name).toBe(name);
      const costs = [
        policy.tokensAfterTurns(3, 32),
        policy.tokensAfterTurns(10, 32),
        policy.bytesAfterTurns(3, 32, 768),
        policy.bytesAfterTurns(10, 32, 768),
      ];
      expect(costs, name).toEqual(expected[name]);
    }
    // Token bytes scale with the batch; parameter bytes do not.
    expect(concatMemoryPolicy().bytesAfterTurns(10, 32, 768, 4)).toBe(40 * tokenBytes);
    const recurrent = recurrentMemoryPolicy({ dim: 768 });
    expect(recurrent.bytesAfterTurns(3, 32, 768, 4)).toBe(4 * tokenBytes + recurrentParameterBytes);
    expect(() => recurrent.bytesAfterTurns(3, 32, 512)).toThrow(/cell has dim 768/);
    expect(noMemoryPolicy().tokensAfterTurns(0, 32)).toBe(0);
    expect(() => noMemoryPolicy().tokensAfterTurns(-1, 32)).toThrow(/non-negative/);
  });

  it('hold the tokens they report after 3 and 10 turns', () => {
    const shape: [number, number, number] = [2, 6, 5];
    for (const policy of [
      noMemoryPolicy(),
      concatMemoryPolicy(),
      mioMemoryPolicy(),
      recurrentMemoryPolicy({ dim: 5 }),
    ]) {
      for (const turns of [3, 10]) {
        const memory = runTurns(policy, turns, shape);
        expect(memory.shape, `${policy.name} after ${turns}`).toEqual([
          2,
          policy.tokensAfterTurns(turns, 6),
          5,
        ]);
        memory.dispose();
      }
    }
  });

  it('none keeps the current tokens; concat appends them in turn order', () => {
    const rng = new Rng(1);
    const first = randomTokens(rng, [2, 3, 4]);
    const second = randomTokens(rng, [2, 3, 4]);
    expect(Array.from(noMemoryPolicy().update(first, second).dataSync())).toEqual(
      Array.from(second.dataSync()),
    );
    const concatenated = concatMemoryPolicy().update(first, second);
    expect(Array.from(concatenated.slice([1, 0, 0], [1, 3, 4]).dataSync())).toEqual(
      Array.from(first.slice([1, 0, 0], [1, 3, 4]).dataSync()),
    );
    expect(Array.from(concatenated.slice([1, 3, 0], [1, 3, 4]).dataSync())).toEqual(
      Array.from(second.slice([1, 0, 0], [1, 3, 4]).dataSync()),
    );
  });

  it('mio keeps the DPC-kNN selection of previous and current tokens, with gradient to the kept ones only', () => {
    const rng = new Rng(2);
    const previous = randomTokens(rng, [3, 8, 6]);
    const current = randomTokens(rng, [3, 8, 6]);
    const combined = tf.concat([previous, current], 1);
    const combinedValues = combined.dataSync() as Float32Array;
    const indices = selectTokens(combinedValues, [3, 16, 6], 8, { k: 4 });
    const policy = mioMemoryPolicy({ k: 4 });
    const memory = policy.update(previous, current);
    const expected = Array.from(indices).flatMap((index, at) => {
      const start = (Math.floor(at / 8) * 16 + index) * 6;
      return Array.from(combinedValues.subarray(start, start + 6));
    });
    expect(Array.from(memory.dataSync())).toEqual(expected);

    const [previousGradient, currentGradient] = tf.grads((a, b) =>
      tf.sum(policy.update(a as tf.Tensor3D, b as tf.Tensor3D)),
    )([previous, current]);
    const gradient = tf.concat([previousGradient, currentGradient], 1).dataSync();
    const kept = new Set(Array.from(indices).map((index, at) => Math.floor(at / 8) * 16 + index));
    for (let token = 0; token < 3 * 16; token++) {
      expect(gradient[token * 6], `token ${token}`).toBe(kept.has(token) ? 1 : 0);
    }
  });

  it('recurrent runs a GRU over the turns (h0 = 0), gradient-checked through two turns', () => {
    const policy = recurrentMemoryPolicy({ dim: 4, seed: 5 });
    const rng = new Rng(6);
    const first = tf.variable(randomTokens(rng, [2, 3, 4]));
    const second = tf.variable(randomTokens(rng, [2, 3, 4]));
    const viaCell = policy.cell.apply(first, tf.zeros([2, 3, 4]));
    expect(Array.from(policy.update(undefined, first).dataSync())).toEqual(Array.from(viaCell.dataSync()));
    const variables = new Map<string, tf.Variable>([
      ...policy.cell.namedParameters(),
      ['first', first],
      ['second', second],
    ]);
    const result = checkGradients(() => policy.update(policy.update(undefined, first), second), variables);
    expect(result.maxRelativeError).toBeLessThan(1e-3);
    expect(policy.cell.parameterCount()).toBe(GruCell.parameterCount(4));
  });

  it('reject memory that does not fit the current tokens', () => {
    const memory = tf.zeros([2, 5, 4]) as tf.Tensor3D;
    expect(() => concatMemoryPolicy().update(memory, tf.zeros([2, 3, 3]) as tf.Tensor3D)).toThrow(
      /batch or dim/,
    );
    expect(() =>
      recurrentMemoryPolicy({ dim: 4 }).update(memory, tf.zeros([2, 3, 4]) as tf.Tensor3D),
    ).toThrow(/same shape/);
    expect(() => createMemoryPolicy('recurrent')).toThrow(/needs dim/);
  });
});
