import { initBackend, maxAbsDifference, Rng, tf } from '@cir/core-tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SessionBatch } from './batches';
import type { MaiConfig } from './config';
import { MaiModel } from './mai-model';
import { NativeSessionQueries } from './native-session-queries';
import { forwardSessions } from './session-forward';
import { perturbParameters, SMALL_MAI_CONFIG } from './test-helpers';

beforeAll(async () => {
  await initBackend();
});

const SMALL = SMALL_MAI_CONFIG;

/** 4 sessions of 3 turns: a rollback reference at the last turn of session 1, combination turns in 0 and 2. */
function sessionBatch(config: MaiConfig): SessionBatch {
  const rng = new Rng(11);
  const [size, turns, patches, captionTokens, textTokens] = [4, 3, 3, 5, 4];
  const { inputDim } = config;
  const mask = (rows: number, tokens: number) =>
    Float32Array.from({ length: rows * tokens }, (_value, index) =>
      index % tokens <= (Math.floor(index / tokens) * 3) % tokens ? 1 : 0,
    );
  const images = size * (turns + 1);
  return {
    batch: size,
    turns,
    images: {
      tokens: tf.tensor3d(rng.normalArray(images * patches * inputDim), [images, patches, inputDim]),
    },
    captions: {
      tokens: tf.tensor3d(rng.normalArray(images * captionTokens * inputDim), [
        images,
        captionTokens,
        inputDim,
      ]),
      mask: tf.tensor2d(mask(images, captionTokens), [images, captionTokens]),
    },
    texts: {
      tokens: tf.tensor3d(rng.normalArray(size * turns * textTokens * inputDim), [
        size * turns,
        textTokens,
        inputDim,
      ]),
      mask: tf.tensor2d(mask(size * turns, textTokens), [size * turns, textTokens]),
    },
    referenceRows: Array.from({ length: turns }, (_value, turn) =>
      Int32Array.from({ length: size }, (_session, index) =>
        turn === turns - 1 && index === 1 ? index * (turns + 1) : index * (turns + 1) + turn,
      ),
    ),
    combination: Array.from({ length: turns }, (_value, turn) =>
      Float32Array.from({ length: size }, (_session, index) => (turn > 0 && index % 2 === 0 ? 1 : 0)),
    ),
  };
}

describe.skipIf(!NativeSessionQueries.supports(new MaiModel(SMALL)))('NativeSessionQueries', () => {
  for (const overrides of [
    { memory: 'mio', pooling: 'text-cls' },
    { memory: 'concat', pooling: 'query-mean' },
    { memory: 'none', pooling: 'text-cls', combination: false },
  ] as const) {
    it(`gives forwardSessions' final-turn queries (${JSON.stringify(overrides)})`, () => {
      const config = { ...SMALL, ...overrides };
      const model = new MaiModel(config, 4);
      perturbParameters(model, 300);
      const batch = sessionBatch(config);
      const expected = tf.tidy(() =>
        forwardSessions(model, batch, { textBranch: false }).turns.at(-1)!.fusedQuery.dataSync(),
      );
      const actual = new NativeSessionQueries(model).finalQueries(batch);
      expect(actual.length).toBe(batch.batch * config.embedDim);
      expect(maxAbsDifference(actual, expected)).toBeLessThan(1e-4);
      model.dispose();
    });
  }

  it('refuses what it cannot run: single-stage aggregation and the recurrent memory', () => {
    expect(NativeSessionQueries.supports(new MaiModel({ ...SMALL, twoStage: false }))).toBe(false);
    expect(NativeSessionQueries.supports(new MaiModel({ ...SMALL, memory: 'recurrent' }))).toBe(false);
  });
});
