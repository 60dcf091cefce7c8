import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../backend';
import { checkGradients } from '../grad-check';
import { randomTensor, randomVariable } from '../test-helpers';
import { MultiHeadAttention } from './attention';
import { Embedding } from './embedding';
import { FeedForward, gelu } from './feed-forward';
import { LearnedQueries } from './learned-queries';
import { Linear } from './linear';
import { LoraLinear } from './lora';
import type { Module } from './module';
import { LayerNorm, RMSNorm } from './normalization';
import { RotaryEmbedding } from './rotary';
import { TransformerBlock } from './transformer-block';

beforeAll(async () => {
  await initBackend();
});

/** Checks the gradients of every trainable parameter of a block and of its (optional) input. */
function expectGradientsMatch(module: Module, output: () => tf.Tensor, input?: tf.Variable) {
  const variables = module.trainableParameters();
  if (input) variables.set('input', input);
  const result = checkGradients(output, variables, { directions: 2 });
  const worst = result.entries.reduce((a, b) => (a.relativeError > b.relativeError ? a : b));
  expect(result.maxRelativeError, `worst: ${JSON.stringify(worst)}`).toBeLessThan(1e-3);
}

const maxAbsDifference = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;

describe('Linear', () => {
  it('computes x·W + b and its gradients', () => {
    const linear = new Linear(4, 3, { seed: 1 });
    linear.bias!.assign(tf.tensor1d([1, 2, 3]));
    const x = randomVariable([2, 5, 4], 2);
    const expected = tf.add(
      tf.reshape(tf.matMul(tf.reshape(x, [10, 4]), linear.weight), [2, 5, 3]),
      [1, 2, 3],
    );
    expect(maxAbsDifference(linear.apply(x), expected)).toBeLessThan(1e-5);
    expectGradientsMatch(linear, () => linear.apply(x), x);
  });

  it('is deterministic for a seed', () => {
    const first = new Linear(8, 8, { seed: 42 }).weight.dataSync();
    const second = new Linear(8, 8, { seed: 42 }).weight.dataSync();
    const other = new Linear(8, 8, { seed: 43 }).weight.dataSync();
    expect(Array.from(first)).toEqual(Array.from(second));
    expect(Array.from(first)).not.toEqual(Array.from(other));
  });
});

describe('LayerNorm and RMSNorm', () => {
  it('LayerNorm matches hand-computed values', () => {
    const norm = new LayerNorm(4, 0);
    const output = norm.apply(tf.tensor2d([[1, 2, 3, 4]])).dataSync();
    // mean 2.5, variance 1.25
    const expected = [-1.5, -0.5, 0.5, 1.5].map((value) => value / Math.sqrt(1.25));
    expected.forEach((value, i) => {
      expect(output[i]).toBeCloseTo(value, 5);
    });
  });

  it('RMSNorm matches hand-computed values', () => {
    const norm = new RMSNorm(2, 0);
    const output = norm.apply(tf.tensor2d([[3, 4]])).dataSync();
    // rms = sqrt((9 + 16) / 2)
    const rms = Math.sqrt(12.5);
    expect(output[0]).toBeCloseTo(3 / rms, 5);
    expect(output[1]).toBeCloseTo(4 / rms, 5);
  });

  it('gradients match finite differences', () => {
    for (const norm of [new LayerNorm(6), new RMSNorm(6)]) {
      norm.namedParameters().forEach((variable, name) => {
        variable.assign(randomTensor(variable.shape, name.length));
      });
      const x = randomVariable([3, 6], 3);
      expectGradientsMatch(norm, () => norm.apply(x), x);
    }
  });
});

describe('MultiHeadAttention', () => {
  it('self-attention with a padding mask: gradients and masked keys have no influence', () => {
    const attention = new MultiHeadAttention({ dim: 8, heads: 2, seed: 3 });
    const x = randomVariable([2, 5, 8], 4);
    const mask = tf.tensor2d([
      [1, 1, 1, 0, 0],
      [1, 1, 1, 1, 1],
    ]);
    expectGradientsMatch(attention, () => attention.apply(x, { keyMask: mask }), x);

    // Changing a padded token must not change the outputs of the first sequence.
    const before = attention.apply(x, { keyMask: mask });
    const changed = tf.add(
      x,
      tf.mul(
        tf
          .oneHot([3], 5)
          .reshape([1, 5, 1])
          .pad([
            [0, 1],
            [0, 0],
            [0, 0],
          ]),
        10,
      ),
    );
    const after = attention.apply(changed as tf.Tensor3D, { keyMask: mask });
    const firstRows = (t: tf.Tensor) => tf.slice(t, [0, 0, 0], [1, 3, 8]);
    expect(maxAbsDifference(firstRows(before), firstRows(after))).toBeLessThan(1e-5);
  });

  it('cross-attention from queries to a context of another width', () => {
    const attention = new MultiHeadAttention({ dim: 8, heads: 4, contextDim: 6, seed: 5 });
    const queries = randomVariable([2, 3, 8], 6);
    const context = randomVariable([2, 7, 6], 7);
    const contextMask = tf.tensor2d([
      [1, 1, 1, 1, 1, 1, 0],
      [1, 1, 0, 0, 0, 0, 0],
    ]);
    const output = attention.apply(queries, { context, keyMask: contextMask });
    expect(output.shape).toEqual([2, 3, 8]);
    const variables = attention.trainableParameters();
    variables.set('context', context);
    expectGradientsMatch(
      attention,
      () => attention.apply(queries, { context, keyMask: contextMask }),
      queries,
    );
    const result = checkGradients(
      () => attention.apply(queries, { context, keyMask: contextMask }),
      new Map([['context', context]]),
    );
    expect(result.maxRelativeError).toBeLessThan(1e-3);
  });

  it('causal attention: a token never sees later tokens', () => {
    const attention = new MultiHeadAttention({ dim: 8, heads: 2, seed: 8 });
    const x = randomTensor([1, 4, 8], 9) as tf.Tensor3D;
    const full = attention.apply(x, { causal: true });
    const prefix = attention.apply(tf.slice(x, [0, 0, 0], [1, 2, 8]), { causal: true });
    expect(maxAbsDifference(tf.slice(full, [0, 0, 0], [1, 2, 8]), prefix)).toBeLessThan(1e-5);
  });

  it('grouped-query attention with rotary embeddings: gradients', () => {
    const rotary = new RotaryEmbedding(4);
    const attention = new MultiHeadAttention({
      dim: 8,
      heads: 2,
      keyValueHeads: 1,
      rotary,
      bias: false,
      seed: 10,
    });
    expect(attention.key.weight.shape).toEqual([8, 4]);
    const x = randomVariable([2, 4, 8], 11);
    expectGradientsMatch(attention, () => attention.apply(x, { causal: true }), x);
  });
});

describe('RotaryEmbedding', () => {
  it('rotates pairs (i, i + d/2) by position / base^(2i/d)', () => {
    const rotary = new RotaryEmbedding(4, 100);
    // x at positions 0 and 1, values [1, 0, 0, 0] and [1, 2, 3, 4]
    const x = tf.tensor4d([
      [
        [
          [1, 0, 0, 0],
          [1, 2, 3, 4],
        ],
      ],
    ]);
    const output = rotary.apply(x).dataSync();
    expect(Array.from(output.slice(0, 4))).toEqual([1, 0, 0, 0]);
    const angle0 = 1; // position 1, i = 0
    const angle1 = 1 / 100 ** (2 / 4); // position 1, i = 1
    const expected = [
      1 * Math.cos(angle0) - 3 * Math.sin(angle0),
      2 * Math.cos(angle1) - 4 * Math.sin(angle1),
      3 * Math.cos(angle0) + 1 * Math.sin(angle0),
      4 * Math.cos(angle1) + 2 * Math.sin(angle1),
    ];
    expected.forEach((value, i) => {
      expect(output[4 + i]).toBeCloseTo(value, 5);
    });
  });

  it('makes attention scores depend only on relative position', () => {
    const rotary = new RotaryEmbedding(4);
    const q = randomTensor([1, 1, 1, 4], 12) as tf.Tensor4D;
    const k = randomTensor([1, 1, 1, 4], 13) as tf.Tensor4D;
    const score = (qPosition: number, kPosition: number) =>
      tf.sum(tf.mul(rotary.apply(q, qPosition), rotary.apply(k, kPosition))).dataSync()[0]!;
    expect(score(5, 3)).toBeCloseTo(score(9, 7), 4);
  });
});

describe('FeedForward', () => {
  it('GELU matches known values', () => {
    const values = gelu(tf.tensor1d([0, 1, -1])).dataSync();
    expect(values[0]).toBeCloseTo(0, 6);
    expect(values[1]).toBeCloseTo(0.8413447, 5);
    expect(values[2]).toBeCloseTo(-0.1586553, 5);
  });

  for (const activation of ['gelu', 'swiglu'] as const) {
    it(`${activation}: gradients match finite differences`, () => {
      const ffn = new FeedForward({ dim: 6, hiddenDim: 10, activation, seed: 14 });
      const x = randomVariable([2, 3, 6], 15);
      expectGradientsMatch(ffn, () => ffn.apply(x), x);
    });
  }
});

describe('TransformerBlock', () => {
  it('self + cross attention block: gradients match finite differences', () => {
    const block = new TransformerBlock({ dim: 8, heads: 2, crossAttention: true, contextDim: 6, seed: 16 });
    const x = randomVariable([2, 3, 8], 17);
    const context = randomTensor([2, 4, 6], 18) as tf.Tensor3D;
    const mask = tf.tensor2d([
      [1, 1, 0],
      [1, 1, 1],
    ]);
    const contextMask = tf.tensor2d([
      [1, 1, 1, 0],
      [1, 1, 1, 1],
    ]);
    expectGradientsMatch(block, () => block.apply(x, { mask, context, contextMask }), x);
  });

  it('RMSNorm + SwiGLU + rotary decoder block: gradients match finite differences', () => {
    const block = new TransformerBlock({
      dim: 8,
      heads: 2,
      keyValueHeads: 1,
      norm: 'rms',
      activation: 'swiglu',
      rotary: new RotaryEmbedding(4),
      bias: false,
      seed: 19,
    });
    const x = randomVariable([1, 4, 8], 20);
    expectGradientsMatch(block, () => block.apply(x, { causal: true }), x);
  });
});

describe('LearnedQueries, Embedding, LoRA', () => {
  it('learned queries are shared across the batch', () => {
    const queries = new LearnedQueries(3, 4, { seed: 21 });
    const output = queries.apply(2);
    expect(output.shape).toEqual([2, 3, 4]);
    expect(
      maxAbsDifference(tf.slice(output, [0, 0, 0], [1, 3, 4]), tf.slice(output, [1, 0, 0], [1, 3, 4])),
    ).toBe(0);
    expectGradientsMatch(queries, () => tf.mul(queries.apply(2), randomTensor([2, 3, 4], 22)));
  });

  it('embedding lookup gradients', () => {
    const embedding = new Embedding(10, 4, { seed: 23, std: 1 });
    const ids = tf.tensor2d(
      [
        [1, 2, 2],
        [9, 0, 1],
      ],
      [2, 3],
      'int32',
    );
    expectGradientsMatch(embedding, () => embedding.apply(ids));
  });

  it('LoRA starts at the base model, trains only A and B, and merges exactly', () => {
    const base = new Linear(6, 5, { seed: 24 });
    const x = randomVariable([3, 6], 25);
    const baseOutput = base.apply(x);
    const lora = new LoraLinear(base, { rank: 2, alpha: 4, seed: 26 });
    expect(maxAbsDifference(lora.apply(x), baseOutput)).toBe(0);
    expect([...lora.trainableParameters().keys()].sort()).toEqual(['lora_A', 'lora_B']);
    lora.loraB.assign(randomTensor([2, 5], 27));
    expectGradientsMatch(lora, () => lora.apply(x), x);
    const beforeMerge = lora.apply(x);
    lora.merge();
    expect(maxAbsDifference(lora.apply(x), beforeMerge)).toBeLessThan(1e-5);
    expect(maxAbsDifference(base.apply(x), beforeMerge)).toBeLessThan(1e-5);
  });
});

describe('Module parameters', () => {
  it('export and import round-trip by dotted names, and shape mismatches fail clearly', () => {
    const block = new TransformerBlock({ dim: 8, heads: 2, seed: 28 });
    const names = [...block.namedParameters().keys()];
    expect(names).toContain('self_attention.query.weight');
    expect(names).toContain('feed_forward.up.weight');
    const copy = new TransformerBlock({ dim: 8, heads: 2, seed: 29 });
    copy.importParameters(block.exportParameters());
    const x = randomTensor([1, 3, 8], 30) as tf.Tensor3D;
    expect(maxAbsDifference(copy.apply(x), block.apply(x))).toBe(0);
    const wrong = new TransformerBlock({ dim: 16, heads: 2, seed: 29 });
    expect(() => wrong.importParameters(block.exportParameters())).toThrow(
      /self_attention\.query\.weight.*shape/,
    );
  });
});
