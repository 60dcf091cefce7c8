import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkGradients, initBackend, tf } from '@cir/core-tensor';
import { generateWorld } from '@cir/datasets';
import { ExactStore, type TurnResult, UnknownItemError } from '@cir/index';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { hashEncoder } from './__fixtures__/hash-encoder';
import { buildSessionBatch } from './batches';
import { DEFAULT_MAI_CONFIG, type MaiConfig } from './config';
import { evaluateMaiModel, galleryEmbeddings } from './evaluate-mai';
import { type FashionMtData, loadFashionMtData } from './fashion-mt-data';
import { MaiFeatures } from './features';
import { FusionRetriever } from './fusion-retriever';
import { loadMaiModel, saveMaiModel } from './mai-files';
import { MaiModel } from './mai-model';
import { evaluateVariant } from './mai-pipeline';
import { MaiRetriever } from './mai-retriever';
import { readTurnIntent } from './retrospective-text';
import { forwardSessions } from './session-forward';
import { trainMai } from './train-mai';

const TINY: MaiConfig = {
  ...DEFAULT_MAI_CONFIG,
  inputDim: 16,
  dim: 16,
  heads: 2,
  queries: 4,
  bsaLayers: 1,
  msaLayers: 1,
  feedForwardMultiplier: 2,
  embedDim: 8,
  maxTextTokens: 12,
  logitScale: 10,
};

let data: FashionMtData;
let features: MaiFeatures;
let root: string;

beforeAll(async () => {
  await initBackend();
  root = await mkdtemp(join(tmpdir(), 'cir-mai-'));
  await generateWorld({ outDir: root, images: 210, transactions: 60, seed: 3, imageSize: 32 });
  data = await loadFashionMtData(root);
  const texts = [...data.train, ...data.test].flatMap((session) => session.texts);
  features = await MaiFeatures.build({
    encoder: hashEncoder(),
    cacheDirectory: join(root, '.cache'),
    galleryPaths: data.galleryPaths,
    galleryCaptions: data.galleryCaptions,
    texts,
  });
});

describe('FashionMT data for MAI', () => {
  it('reads the world’s sessions as gallery rows with their kinds', () => {
    expect(data.galleryPaths.length).toBe(210);
    expect(data.train.length + data.test.length).toBe(60);
    const kinds = new Set([...data.train, ...data.test].map((session) => session.kind));
    expect(kinds).toEqual(new Set(['rollback', 'combination']));
    for (const session of data.train) expect(session.images).toHaveLength(4);
  });
});

describe('MaiModel', () => {
  it('uses the rolled-back image as the reference of a rollback turn', async () => {
    const rollback = data.train.find((session) => session.kind === 'rollback')!;
    const batch = await buildSessionBatch([rollback], features, TINY);
    const lastReference = batch.referenceRows[2]![0]!;
    expect(lastReference).toBeLessThan(2);
    const withoutRollback = await buildSessionBatch([rollback], features, { ...TINY, rollback: false });
    expect(withoutRollback.referenceRows[2]![0]).toBe(2);
  });

  it('gradients of the whole forward pass match finite differences', async () => {
    const model = new MaiModel({ ...TINY, memory: 'concat' }, 4);
    const batch = await buildSessionBatch(data.train.slice(0, 3), features, TINY);
    const variables = new Map(
      [...model.trainableParameters()].filter(([name]) =>
        /query_tokens|bsa\.layers\.0\.cross_attention\.query\.weight|msa\.final_norm\.weight|query_projection\.weight|turn_embedding/.test(
          name,
        ),
      ),
    );
    expect(variables.size).toBeGreaterThanOrEqual(4);
    const result = checkGradients(
      () =>
        tf.stack(forwardSessions(model, batch, { textBranch: true }).turns.map((turn) => turn.fusedQuery)),
      variables,
      {
        directions: 1,
        // A deep composition: large steps leave the fourth-order difference's truncation error above 1e-3.
        epsilon: 0.02,
      },
    );
    expect(result.maxRelativeError, JSON.stringify(result.entries)).toBeLessThan(1e-3);
  });

  it('keeps a constant number of memory tokens with MIO, and a growing one with concat', () => {
    const mio = new MaiModel(TINY, 1);
    const concat = new MaiModel({ ...TINY, memory: 'concat' }, 1);
    expect([mio.memory.tokensAfterTurns(3), mio.memory.tokensAfterTurns(10)]).toEqual([4, 4]);
    expect([concat.memory.tokensAfterTurns(3), concat.memory.tokensAfterTurns(10)]).toEqual([12, 40]);
  });
});

describe('training and evaluation', () => {
  it('lowers the CCL loss, saves, loads and evaluates with the FashionMT protocol', async () => {
    const { model, losses } = await trainMai({
      config: TINY,
      features,
      sessions: data.train,
      steps: 30,
      batchSize: 8,
      learningRate: 3e-3,
      seed: 2,
    });
    const early = losses.slice(0, 5).reduce((a, b) => a + b, 0);
    const late = losses.slice(-5).reduce((a, b) => a + b, 0);
    expect(late).toBeLessThan(early);
    const directory = join(root, 'trained');
    await saveMaiModel(directory, model, { name: 'mai', encoderId: features.encoderId, steps: 30 });
    const { model: loaded, info } = await loadMaiModel(directory, { expectedEncoderId: features.encoderId });
    expect(info.name).toBe('mai');
    expect(Array.from(await galleryEmbeddings(loaded, features))).toEqual(
      Array.from(await galleryEmbeddings(model, features)),
    );
    await expect(loadMaiModel(directory, { expectedEncoderId: 'other' })).rejects.toThrow(/encoder/);
    const result = await evaluateMaiModel(loaded, features, data);
    expect(result.all.queries).toBe(data.test.length);
    expect(result.all.recallAt20).toBeGreaterThanOrEqual(result.all.recallAt1);

    // evaluateVariant keeps the scores in the variant folder, keyed by the test data: reused while it is the same.
    const context = { data, features, encoderId: features.encoderId, modelsDirectory: root };
    const trained = { name: 'mai', model: loaded, directory, trainingSeconds: 0 };
    const first = await evaluateVariant(context, trained, 'tiny');
    expect(first.mean).toBeCloseTo(result.mean, 6);
    const cacheFile = join(directory, 'evaluation.json');
    const cached = JSON.parse(await readFile(cacheFile, 'utf8'));
    // A planted score proves the second call reads the file instead of evaluating again…
    await writeFile(cacheFile, JSON.stringify({ ...cached, result: { ...cached.result, mean: 123 } }));
    expect((await evaluateVariant(context, trained, 'tiny')).mean).toBe(123);
    // …and other test sessions are evaluated anew (and replace the cached scores).
    const fewer = { ...context, data: { ...data, test: data.test.slice(0, 10) } };
    const other = await evaluateVariant(fewer, trained, 'tiny');
    expect(other.mean).not.toBe(123);
    expect(other.all!.queries).toBe(10);
    expect(JSON.parse(await readFile(cacheFile, 'utf8')).result.all.queries).toBe(10);
  });
});

describe('MaiRetriever', () => {
  it('runs multi-turn sessions over an encoded gallery, with rollback of the session history', async () => {
    const encoder = hashEncoder();
    const retriever = new MaiRetriever(new MaiModel(TINY, 5), encoder);
    await retriever.encodeGallery(
      data.galleryPaths
        .slice(0, 40)
        .map((path, row) => ({ id: `item-${row}`, imagePath: path, caption: data.galleryCaptions[row] })),
    );
    const session = retriever.openSession();
    const first = await session.turn({ referenceId: 'item-0', text: '1. is red', limit: 5 });
    expect(first).toMatchObject({ turn: 1 });
    expect(first.results).toHaveLength(5);
    const second = await session.turn({ text: 'I prefer the FIRST, and 1. has long sleeves' });
    expect(second.turn).toBe(2);
    await session.turn({ text: '1. is blue 2. keep the logo in the first turn' });
    expect(session.history()).toHaveLength(3);
    await session.rollback(1);
    expect(session.history().map((turn) => turn.text)).toEqual(['1. is red']);
    await expect(session.rollback(5)).rejects.toThrow(/has 1 turns/);
    await expect(retriever.openSession().turn({ text: 'red' })).rejects.toThrow(/referenceId/);
    await expect(retriever.openSession().turn({ referenceId: 'nope', text: 'red' })).rejects.toThrow(
      UnknownItemError,
    );
  });

  it("takes a rollback said in a shopper's words as MAI's template rollback, also with nothing else to change", async () => {
    const retriever = new MaiRetriever(new MaiModel(TINY, 5), hashEncoder());
    await retriever.encodeGallery(
      data.galleryPaths
        .slice(0, 20)
        .map((path, row) => ({ id: `item-${row}`, imagePath: path, caption: data.galleryCaptions[row] })),
    );
    const run = async (second: string) => {
      const session = retriever.openSession();
      await session.turn({ referenceId: 'item-0', text: 'is red', limit: 5 });
      return session.turn({ referenceId: 'item-9', text: second, limit: 5 });
    };
    const template = await run('I prefer the FIRST, and 1. has long sleeves');
    expect(template.returnedTo).toBe('item-0');
    expect(await run('go back to the first one, and 1. has long sleeves')).toEqual(template);
    // Without the rollback the second turn starts from item-9: other results.
    const plain = await run('1. has long sleeves');
    expect(plain.returnedTo).toBeUndefined();
    expect(plain.results).not.toEqual(template.results);
    // Only the reference swap: the model reads an empty text.
    expect(await run('back to the original')).toEqual(await run('I prefer the FIRST, and '));
    // By turn number, and relative to the current reference.
    expect(await run('go back to turn 1, and 1. has long sleeves')).toEqual(template);
    expect(await run('back to the previous one, and 1. has long sleeves')).toEqual(template);
  });

  it('reads "the previous one" as the image before the current reference, and turn numbers as their reference', async () => {
    const retriever = new MaiRetriever(new MaiModel(TINY, 5), hashEncoder());
    await retriever.encodeGallery(
      data.galleryPaths
        .slice(0, 20)
        .map((path, row) => ({ id: `item-${row}`, imagePath: path, caption: data.galleryCaptions[row] })),
    );
    const session = retriever.openSession();
    await session.turn({ referenceId: 'item-0', text: 'is red', limit: 5 });
    await session.turn({ referenceId: 'item-4', text: 'is blue', limit: 5 });
    // Images so far: item-0 (turn 1), item-4 (turn 2), item-9 (this turn's reference).
    expect(
      (await session.turn({ referenceId: 'item-9', text: 'go back to the previous one' })).returnedTo,
    ).toBe('item-4');
    expect(
      (await session.turn({ referenceId: 'item-7', text: 'back to turn one, in green' })).returnedTo,
    ).toBe('item-0');
    // The first turn has no image before its reference: a plain text.
    const fresh = retriever.openSession();
    expect(
      (await fresh.turn({ referenceId: 'item-3', text: 'go back to the previous one' })).returnedTo,
    ).toBeUndefined();
  });

  it('saves and loads its gallery so that a loaded retriever takes any item as a reference', async () => {
    const encoder = hashEncoder();
    const items = data.galleryPaths
      .slice(0, 30)
      .map((path, row) => ({ id: `item-${row}`, imagePath: path, caption: data.galleryCaptions[row] }));
    const original = new MaiRetriever(new MaiModel(TINY, 6), encoder);
    await original.encodeGallery(items);
    const directory = join(root, 'saved-retriever');
    await original.save(directory);
    const loaded = new MaiRetriever(new MaiModel(TINY, 99), encoder);
    await loaded.load(directory);
    const turns = [
      { referenceId: 'item-7', text: '1. is red', limit: 5 },
      { referenceId: 'item-3', text: 'I prefer the first, and 1. has long sleeves', limit: 5 },
    ];
    const [a, b] = [original.openSession(), loaded.openSession()];
    const results = [];
    for (const turn of turns) {
      const result = await b.turn(turn);
      expect(result).toEqual(await a.turn(turn));
      results.push(result);
    }
    // A turn without a reference continues from the previous turn's best result, also after a rollback.
    await b.rollback(1);
    expect((await b.turn({ text: '1. is blue' })).turn).toBe(2);
    expect(b.history()[1]!.referenceId).toBe(results[0]!.results[0]!.id);

    // dispose frees the model's tensors; the retriever then refuses new sessions instead of failing later.
    const tensors = tf.memory().numTensors;
    const parameters = loaded.model.namedParameters().size;
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(tensors - parameters);
    expect(() => loaded.openSession()).toThrow(/encode or load a gallery/);
    original.dispose();
  });
});

describe('MaiRetriever turns', () => {
  it('scores a first turn exactly as BSA → memory → MSA computed from the frozen tokens (cached BSA is exact)', async () => {
    const encoder = hashEncoder();
    const model = new MaiModel(TINY, 8);
    const retriever = new MaiRetriever(model, encoder);
    const paths = data.galleryPaths.slice(0, 12);
    const captions = data.galleryCaptions.slice(0, 12);
    await retriever.encodeGallery(
      paths.map((path, row) => ({ id: `item-${row}`, imagePath: path, caption: captions[row] })),
    );
    const text = 'is red';
    const result = await retriever.openSession().turn({ referenceId: 'item-2', text, limit: 12 });
    const [image, caption, words] = [
      await encoder.encodeImages([paths[2]!]),
      await encoder.encodeTexts([captions[2]!]),
      await encoder.encodeTexts([text]),
    ];
    const input = (batch: typeof image) => ({
      tokens: tf.tensor3d(batch.tokens!, [1, batch.tokenCount!, batch.tokenDim!]),
      ...(batch.tokenMask && {
        mask: tf.tensor2d(Float32Array.from(batch.tokenMask), [1, batch.tokenCount!]),
      }),
    });
    const query = model.compose(
      model.memory.update(undefined, model.bimodalAggregation(input(image), input(caption)).tokens),
      input(words),
    );
    const expected = await Promise.all(
      result.results.map(async (hit) => {
        const item = await retriever.gallery.get(hit.id);
        const vector = tf.tensor2d(item!.vector, [1, TINY.embedDim]);
        return tf.sum(tf.mul(vector, query)).dataSync()[0]!;
      }),
    );
    result.results.forEach((hit, index) => {
      expect(hit.score).toBeCloseTo(expected[index]!, 4);
    });
  });
});

describe('MaiRetriever combination turns', () => {
  it('re-read the history captions (cut to their longest real caption) exactly as the model on padded captions', async () => {
    // Captions are padded to 24 word positions, far more than any caption has: the turn cuts them.
    const encoder = hashEncoder({ textTokens: 24 });
    const model = new MaiModel(TINY, 10);
    const retriever = new MaiRetriever(model, encoder);
    const paths = data.galleryPaths.slice(0, 12);
    const captions = data.galleryCaptions.slice(0, 12);
    await retriever.encodeGallery(
      paths.map((path, row) => ({ id: `item-${row}`, imagePath: path, caption: captions[row] })),
    );
    const session = retriever.openSession();
    await session.turn({ referenceId: 'item-1', text: '1. is red' });
    const text = '1. is blue 2. keep the pattern of the first turn';
    expect(readTurnIntent(text).combination).toBe(true);
    const result = await session.turn({ referenceId: 'item-3', text, limit: 12 });

    const input = (batch: Awaited<ReturnType<typeof encoder.encodeTexts>>, rows = 1) => ({
      tokens: tf.tensor3d(batch.tokens!, [rows, (batch.count / rows) * batch.tokenCount!, batch.tokenDim!]),
      ...(batch.tokenMask && {
        mask: tf.tensor2d(Float32Array.from(batch.tokenMask), [
          rows,
          (batch.count / rows) * batch.tokenCount!,
        ]),
      }),
    });
    const bsa = async (row: number) =>
      model.bimodalAggregation(
        input(await encoder.encodeImages([paths[row]!])),
        input(await encoder.encodeTexts([captions[row]!])),
      ).tokens;
    const memory = model.memory.update(model.memory.update(undefined, await bsa(1)), await bsa(3));
    const history = await encoder.encodeTexts([captions[1]!, captions[3]!]);
    const query = model.compose(memory, input(await encoder.encodeTexts([text])), {
      captions: input(history, 1),
      turns: 2,
      apply: tf.ones([1]) as tf.Tensor1D,
    });
    for (const hit of result.results) {
      const item = await retriever.gallery.get(hit.id);
      const expected = tf.sum(tf.mul(tf.tensor2d(item!.vector, [1, TINY.embedDim]), query)).dataSync()[0]!;
      expect(hit.score).toBeCloseTo(expected, 4);
    }
  });
});

describe('MaiRetriever batching', () => {
  it('answers concurrent sessions (batched together) exactly as one session at a time', async () => {
    const encoder = hashEncoder();
    const retriever = new MaiRetriever(new MaiModel(TINY, 9), encoder);
    await retriever.encodeGallery(
      data.galleryPaths
        .slice(0, 24)
        .map((path, row) => ({ id: `item-${row}`, imagePath: path, caption: data.galleryCaptions[row] })),
    );
    const scripts = [0, 1, 2, 3, 4].map((index) => [
      { referenceId: `item-${index}`, text: '1. is red', limit: 6 },
      { referenceId: `item-${index + 5}`, text: 'has long sleeves', limit: 6 },
      { text: 'I prefer the first, and 1. is blue', limit: 6 },
    ]);
    const alone = [];
    for (const script of scripts) {
      const session = retriever.openSession();
      const results = [];
      for (const turn of script) results.push(await session.turn(turn));
      alone.push(results);
    }
    const sessions = scripts.map(() => retriever.openSession());
    const together: Awaited<ReturnType<(typeof sessions)[number]['turn']>>[][] = scripts.map(() => []);
    for (let turn = 0; turn < 3; turn++) {
      // Every session's turn is in flight at once: they run as one batch.
      const answers = await Promise.all(
        sessions.map((session, index) => session.turn(scripts[index]![turn]!)),
      );
      answers.forEach((answer, index) => {
        together[index]!.push(answer);
      });
    }
    for (let index = 0; index < scripts.length; index++) {
      for (let turn = 0; turn < 3; turn++) {
        const [a, b] = [alone[index]![turn]!, together[index]![turn]!];
        expect(b.results.map((hit) => hit.id)).toEqual(a.results.map((hit) => hit.id));
        b.results.forEach((hit, rank) => {
          expect(hit.score).toBeCloseTo(a.results[rank]!.score, 5);
        });
      }
    }
  });
});

describe('MaiRetriever batching of combination turns', () => {
  it('batches combination turns of sessions with different history lengths exactly as one at a time', async () => {
    const encoder = hashEncoder({ textTokens: 16 });
    const retriever = new MaiRetriever(new MaiModel(TINY, 11), encoder);
    await retriever.encodeGallery(
      data.galleryPaths
        .slice(0, 16)
        .map((path, row) => ({ id: `item-${row}`, imagePath: path, caption: data.galleryCaptions[row] })),
    );
    const combination = { text: '1. is blue 2. keep the pattern of the first turn', limit: 5 };
    const histories = [
      [{ referenceId: 'item-1', text: 'is red' }],
      [
        { referenceId: 'item-2', text: 'is red' },
        { referenceId: 'item-3', text: 'has long sleeves' },
      ],
      [
        { referenceId: 'item-4', text: 'is red' },
        { referenceId: 'item-5', text: 'has long sleeves' },
        { referenceId: 'item-6', text: 'is black' },
      ],
    ];
    const prepare = async () => {
      const sessions = [];
      for (const history of histories) {
        const session = retriever.openSession();
        for (const turn of history) await session.turn(turn);
        sessions.push(session);
      }
      return sessions;
    };
    const alone: TurnResult[] = [];
    for (const session of await prepare()) alone.push(await session.turn(combination));
    // 2, 3 and 4 history images in one batch: the shorter histories are padded with masked blocks.
    const together = await Promise.all((await prepare()).map((session) => session.turn(combination)));
    together.forEach((answer, index) => {
      expect(answer.results.map((hit) => hit.id)).toEqual(alone[index]!.results.map((hit) => hit.id));
      answer.results.forEach((hit, rank) => {
        expect(hit.score).toBeCloseTo(alone[index]!.results[rank]!.score, 5);
      });
    });
  });
});

describe('FusionRetriever', () => {
  it('ranks by the fused query, sum = normalize(image + text), each turn independent', async () => {
    const encoder = hashEncoder();
    const items = data.galleryPaths.slice(0, 20).map((path, row) => ({ id: `item-${row}`, imagePath: path }));
    const image = new FusionRetriever('image-only', encoder);
    await image.encodeGallery(items);
    const first = await image.openSession().turn({ referenceId: 'item-4', text: 'is red', limit: 3 });
    // image-only: the reference itself is its own nearest neighbour, with cosine 1.
    expect(first.results[0]!.id).toBe('item-4');
    expect(first.results[0]!.score).toBeCloseTo(1, 5);
    const sum = new FusionRetriever('sum', encoder);
    await sum.encodeGallery(items);
    const query = await sum.query('item-4', 'is red');
    const imageVector = await image.query('item-4', 'is red');
    const text = new FusionRetriever('text-only', encoder);
    await text.encodeGallery(items);
    const textVector = await text.query('item-4', 'is red');
    const norm = Math.hypot(...imageVector.map((value, index) => value + (textVector[index] ?? 0)));
    expect(query[0]).toBeCloseTo((imageVector[0]! + textVector[0]!) / norm, 5);
    const directory = join(root, 'saved-fusion');
    await sum.save(directory);
    const loaded = new FusionRetriever('sum', encoder);
    await loaded.load(directory);
    expect(await loaded.query('item-4', 'is red')).toEqual(query);
  });

  it('answers concurrent turns in one batch as it answers them alone, and rejects only the unknown reference', async () => {
    const encoder = hashEncoder();
    const items = data.galleryPaths.slice(0, 20).map((path, row) => ({ id: `item-${row}`, imagePath: path }));
    const sum = new FusionRetriever('sum', encoder);
    await sum.encodeGallery(items);
    const turns = [
      { referenceId: 'item-1', text: 'is red', limit: 5 },
      { referenceId: 'item-2', text: 'has long sleeves and a logo', limit: 5 },
      { referenceId: 'item-3', text: 'is red', limit: 3 },
      { referenceId: 'item-4', text: 'is blue', limit: 5 },
    ];
    const alone: TurnResult[] = [];
    for (const turn of turns) alone.push(await sum.openSession().turn(turn));
    const encode = vi.spyOn(encoder, 'encodeTexts');
    const together = await Promise.allSettled([
      ...turns.map((turn) => sum.openSession().turn(turn)),
      sum.openSession().turn({ referenceId: 'nope', text: 'is red' }),
    ]);
    // One text encoding for the batch, of its distinct texts.
    expect(encode).toHaveBeenCalledTimes(1);
    expect(encode.mock.calls[0]![0]).toEqual(['is red', 'has long sleeves and a logo', 'is blue']);
    together.slice(0, turns.length).forEach((answer, index) => {
      expect(answer.status).toBe('fulfilled');
      const { results } = (answer as PromiseFulfilledResult<TurnResult>).value;
      expect(results.map((hit) => hit.id)).toEqual(alone[index]!.results.map((hit) => hit.id));
      results.forEach((hit, rank) => {
        expect(hit.score).toBeCloseTo(alone[index]!.results[rank]!.score, 5);
      });
    });
    expect(together.at(-1)).toMatchObject({ status: 'rejected', reason: expect.any(UnknownItemError) });
  });

  it('rejects only the turns of the gallery whose search failed, when a batch holds two (a gallery replaced while a session was open)', async () => {
    const encoder = hashEncoder();
    const items = data.galleryPaths.slice(0, 20).map((path, row) => ({ id: `item-${row}`, imagePath: path }));
    const sum = new FusionRetriever('sum', encoder);
    await sum.encodeGallery(items);
    const before = sum.openSession();
    await sum.encodeGallery(items.slice(0, 10));
    const after = sum.openSession();
    // The batch searches the first session's gallery first.
    const search = vi
      .spyOn(ExactStore.prototype, 'search')
      .mockRejectedValueOnce(new Error('the old gallery is gone'));
    try {
      const [old, current] = await Promise.allSettled([
        before.turn({ referenceId: 'item-1', text: 'is red' }),
        after.turn({ referenceId: 'item-1', text: 'is red' }),
      ]);
      expect(old).toMatchObject({ status: 'rejected', reason: new Error('the old gallery is gone') });
      expect(current.status).toBe('fulfilled');
      expect((current as PromiseFulfilledResult<TurnResult>).value.results).toHaveLength(10);
      expect(search).toHaveBeenCalledTimes(2);
    } finally {
      search.mockRestore();
    }
  });
});
