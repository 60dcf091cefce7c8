import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@cir/core-tensor';
import { loadCirrPairs, loadCirrSplit, sharedBenchmarksDirectory } from '@cir/datasets';
import { encodeNpy, evaluateCirr } from '@cir/eval';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-helpers';

const benchmarks = sharedBenchmarksDirectory();
if (!benchmarks)
  console.warn('[skip] cir eval embeddings on real annotations: ../shared/benchmarks not found');
let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'cir-eval-embeddings-'));
});

async function writeRandomNpy(name: string, shape: number[], seed: number): Promise<string> {
  const file = join(directory, name);
  const data = new Rng(seed).normalArray(shape.reduce((a, b) => a * b, 1));
  await writeFile(file, encodeNpy({ shape, data }));
  return file;
}

describe('cir eval embeddings', () => {
  it.skipIf(!benchmarks)('scores CIRR val .npy files with the CIRR protocol', async () => {
    const cirr = join(benchmarks!, 'cirr');
    const queries = await writeRandomNpy('cirr-q.npy', [4181, 24], 1);
    const gallery = await writeRandomNpy('cirr-g.npy', [2297, 24], 2);
    const { stdout, error } = await runCli(
      'eval',
      'embeddings',
      '--benchmark',
      'cirr',
      '--annotations',
      cirr,
      '--queries',
      queries,
      '--gallery',
      gallery,
      '--json',
    );
    expect(error).toBeUndefined();
    const printed = JSON.parse(stdout);
    const { records } = await loadCirrPairs(join(cirr, 'captions', 'cap.rc2.val.json'));
    const galleryNames = Object.keys(await loadCirrSplit(join(cirr, 'image_splits', 'split.rc2.val.json')));
    const direct = await evaluateCirr(records, {
      queries: new Rng(1).normalArray(4181 * 24),
      gallery: new Rng(2).normalArray(2297 * 24),
      dim: 24,
      galleryNames,
    });
    expect(printed).toEqual({ benchmark: 'cirr', split: 'val', ...direct });
  });

  it.skipIf(!benchmarks)(
    'scores all FashionIQ categories through a {category} pattern and averages them',
    async () => {
      for (const [category, rows, images] of [
        ['dress', 2017, 3817],
        ['shirt', 2038, 6346],
        ['toptee', 1961, 5373],
      ] as const) {
        await writeRandomNpy(`fiq-q.${category}.npy`, [rows, 8], rows);
        await writeRandomNpy(`fiq-g.${category}.npy`, [images, 8], images);
      }
      const { stdout, error } = await runCli(
        'eval',
        'embeddings',
        '--benchmark',
        'fashioniq',
        '--annotations',
        join(benchmarks!, 'fashion-iq'),
        '--queries',
        join(directory, 'fiq-q.{category}.npy'),
        '--gallery',
        join(directory, 'fiq-g.{category}.npy'),
      );
      expect(error).toBeUndefined();
      expect(stdout).toMatch(/\| dress \| [\d.]+ \| [\d.]+ \| – \|/);
      expect(stdout).toMatch(/\| average \|/);
    },
  );

  it('scores a FashionMT split per kind', async () => {
    const modifiers = join(directory, 'modifiers');
    await mkdir(modifiers, { recursive: true });
    const transaction = (tar3: string, mod3: string) => ({
      ref: 'a.png',
      tar1: 'b.png',
      tar2: 'c.png',
      tar3,
      mod1: '1. is red',
      mod2: '1. is blue',
      mod3,
      cap0: 'a',
      cap1: 'b',
      cap2: 'c',
      cap3: 'd',
    });
    await writeFile(
      join(modifiers, 'toy_test_cap.json'),
      JSON.stringify([
        transaction('a.png', 'I prefer the FIRST, and 1. is green'),
        transaction('d.png', '1. is long 2. keep the colour in the 1st turn'),
      ]),
    );
    await writeFile(join(modifiers, 'toy_index_names.txt'), 'a.png\nb.png\nc.png\nd.png\n');
    await writeFile(
      join(directory, 'mt-q.npy'),
      encodeNpy({ shape: [2, 4], data: Float32Array.of(1, 0, 0, 0, 0, 0.2, 0.1, 1) }),
    );
    await writeFile(
      join(directory, 'mt-g.npy'),
      encodeNpy({ shape: [4, 4], data: Float32Array.of(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1) }),
    );
    const { stdout, error } = await runCli(
      'eval',
      'embeddings',
      '--benchmark',
      'fashionmt',
      '--annotations',
      directory,
      '--queries',
      join(directory, 'mt-q.npy'),
      '--gallery',
      join(directory, 'mt-g.npy'),
      '--json',
    );
    expect(error).toBeUndefined();
    const result = JSON.parse(stdout);
    expect(result.rollback.recallAt1).toBe(100);
    expect(result.combination.recallAt1).toBe(100);
    expect(result.mean).toBe(100);
  });

  it('explains shape mismatches and unknown benchmarks', async () => {
    const queries = await writeRandomNpy('bad-q.npy', [3, 5], 3);
    const gallery = await writeRandomNpy('bad-g.npy', [4, 6], 4);
    const mismatch = await runCli(
      'eval',
      'embeddings',
      '--benchmark',
      'fashionmt',
      '--annotations',
      join(directory, 'modifiers', 'toy_test_cap.json'),
      '--queries',
      queries,
      '--gallery',
      gallery,
    );
    expect(mismatch.error?.message).toMatch(/dim 5 .* dim 6/);
    const unknown = await runCli(
      'eval',
      'embeddings',
      '--benchmark',
      'coco',
      '--annotations',
      directory,
      '--queries',
      queries,
      '--gallery',
      gallery,
    );
    expect(unknown.error?.exitCode).toBe(2);
  });

  it('refuses a split the protocol cannot score and an option it does not take (exit 2, before reading files)', async () => {
    const refused: [string[], string][] = [
      [
        ['shoes', '--split', 'bogus'],
        'shoes: unknown or unscorable split "bogus", expected one of eval, train',
      ],
      [['cirr', '--split', 'test1'], 'cirr: unknown or unscorable split "test1", expected one of val, train'],
      [
        ['fashioniq', '--category', 'hat'],
        'fashioniq: unknown category "hat", expected one of dress, shirt, toptee',
      ],
      [['cirr', '--category', 'dress'], '--category applies to fashioniq only, not cirr'],
      [['cirr', '--dialogs', 'x.json'], '--dialogs applies to chatir only, not cirr'],
      [['chatir', '--split', 'val'], 'chatir takes no --split'],
    ];
    for (const [[benchmark, ...rest], message] of refused) {
      const run = await runCli(
        ...['eval', 'embeddings', '--benchmark', benchmark!, '--annotations', join(directory, 'missing')],
        ...['--queries', 'q.npy', '--gallery', 'g.npy', ...rest],
      );
      expect(run.error?.exitCode).toBe(2);
      expect(run.error?.message).toBe(message);
    }
  });
});
