import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '@cir/core-tensor';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { MiniClipEncoder } from './mini-clip-encoder';
import { loadMiniClip } from './mini-clip-files';
import { trainMiniClip } from './train-mini-clip';

const COLOURS: Record<string, [number, number, number]> = {
  red: [220, 30, 30],
  green: [30, 180, 60],
  blue: [30, 60, 220],
  yellow: [240, 220, 40],
  black: [20, 20, 20],
  white: [250, 250, 250],
};
const TINY = { imageSize: 16, patchSize: 8, width: 16, heads: 2, layers: 1, embedDim: 8, maxTextLength: 8 };
let pairsFile: string;
let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cir-mini-clip-'));
  const lines: string[] = [];
  for (const [name, rgb] of Object.entries(COLOURS)) {
    for (const half of ['top', 'bottom']) {
      // A colour on one half of a grey square: two facts per picture, both in the caption.
      const pixels = Buffer.alloc(16 * 16 * 3, 128);
      for (let y = half === 'top' ? 0 : 8; y < (half === 'top' ? 8 : 16); y++) {
        for (let x = 0; x < 16; x++) pixels.set(rgb, (y * 16 + x) * 3);
      }
      const file = `${name}-${half}.png`;
      await sharp(pixels, { raw: { width: 16, height: 16, channels: 3 } })
        .png()
        .toFile(join(folder, file));
      lines.push(JSON.stringify({ image: file, caption: `${name} on the ${half}` }));
    }
  }
  pairsFile = join(folder, 'pairs.jsonl');
  await writeFile(pairsFile, `${lines.join('\n')}\n`);
});

describe('trainMiniClip', () => {
  it('trains, saves a loadable encoder folder, and reports held-out retrieval', async () => {
    const outDirectory = join(folder, 'encoder');
    const losses: number[] = [];
    const result = await trainMiniClip({
      pairsFile,
      outDirectory,
      config: TINY,
      epochs: 60,
      batchSize: 8,
      heldOut: 2,
      learningRate: 3e-3,
      seed: 3,
      checkpointEvery: 20,
      onProgress: (progress) => losses.push(progress.loss),
    });
    expect(result).toMatchObject({ trainPairs: 10, heldOutPairs: 2, steps: 60 });
    expect(result.id).toMatch(/^mini-clip@[0-9a-f]{16}$/);
    expect(Math.min(...losses.slice(-5))).toBeLessThan(losses[0]! * 0.5);
    expect(result.heldOutTextToImage.recallAt10).toBe(100);

    const saved = await loadMiniClip(outDirectory);
    expect(saved.id).toBe(result.id);
    const encoder = await MiniClipEncoder.load(outDirectory);
    const images = await encoder.encodeImages([join(folder, 'red-top.png'), join(folder, 'blue-bottom.png')]);
    expect(images).toMatchObject({ count: 2, dim: 8, tokenCount: 5, tokenDim: 16 });
    const norm = Math.hypot(...images.pooled.subarray(0, 8));
    expect(norm).toBeCloseTo(1, 5);
    const texts = await encoder.encodeTexts(['red on the top', 'purple']);
    expect(texts).toMatchObject({ count: 2, tokenCount: 8 });
    expect(Array.from(texts.tokenMask!.subarray(8, 16))).toEqual([1, 1, 1, 0, 0, 0, 0, 0]);
    // The encoder's frozen text tower computes what the tfjs tower computes.
    const tokenized = saved.tokenizer.encode(['red on the top', 'purple']);
    const reference = saved.model.text.apply(
      tf.tensor2d(tokenized.ids, [2, 8], 'int32'),
      tf.tensor2d(Float32Array.from(tokenized.mask), [2, 8]),
    );
    const worst = (a: ArrayLike<number>, b: ArrayLike<number>) =>
      Math.max(...Array.from(a, (value, index) => Math.abs(value - b[index]!)));
    expect(worst(texts.pooled, reference.pooled.dataSync())).toBeLessThan(1e-4);
    // Real tokens' states (padding is skipped by the frozen tower: its states are masked everywhere).
    const realStates = (states: ArrayLike<number>) =>
      Array.from(states).filter((_value, index) => texts.tokenMask![Math.floor(index / 16)] === 1);
    expect(realStates(texts.tokens!).length).toBe((6 + 3) * 16);
    expect(worst(realStates(texts.tokens!), realStates(reference.tokens.dataSync()))).toBeLessThan(1e-4);
    // Trimmed padding: the tower runs on the longest text's 6 positions; real tokens and pooled are unchanged.
    const trimmed = await encoder.encodeTexts(['red on the top', 'purple'], { trimPadding: true });
    expect(trimmed).toMatchObject({ count: 2, tokenCount: 6, tokenDim: 16 });
    expect(Array.from(trimmed.tokenMask!)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
    for (let index = 0; index < 16; index++) {
      expect(trimmed.pooled[index]).toBeCloseTo(texts.pooled[index]!, 5);
    }
    for (const [row, real] of [
      [0, 6],
      [1, 3],
    ] as const) {
      for (let position = 0; position < real; position++) {
        for (let d = 0; d < 16; d++) {
          expect(trimmed.tokens![(row * 6 + position) * 16 + d]).toBeCloseTo(
            texts.tokens![(row * 8 + position) * 16 + d]!,
            4,
          );
        }
      }
    }
    // Training pairs are retrieved by their own caption.
    const trained = await encoder.encodeTexts(['red on the top', 'blue on the bottom']);
    const score = (text: number, image: number) =>
      trained.pooled
        .subarray(text * 8, text * 8 + 8)
        .reduce((sum, value, d) => sum + value * images.pooled[image * 8 + d]!, 0);
    expect(score(0, 0)).toBeGreaterThan(score(0, 1));
    expect(score(1, 1)).toBeGreaterThan(score(1, 0));
  });

  it('refuses a pairs file with fewer than two pairs, writing nothing', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'mini-clip-empty-'));
    const pairsFile = join(folder, 'empty.jsonl');
    await writeFile(pairsFile, '');
    const outDirectory = join(folder, 'encoder');
    await expect(trainMiniClip({ pairsFile, outDirectory })).rejects.toThrow(
      `${pairsFile}: 0 image-caption pairs; training needs at least 2`,
    );
    expect(existsSync(outDirectory)).toBe(false);
  });

  it('names the missing file of an incomplete encoder folder', async () => {
    await expect(loadMiniClip(folder)).rejects.toThrow(/config\.json is missing/);
  });
});
