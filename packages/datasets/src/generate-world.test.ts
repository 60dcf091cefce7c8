import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImageCaptionPairs } from './formats/image-caption-pairs';
import { generateWorld, type WorldStage, type WorldSummary } from './generate-world';
import type { Transaction } from './mgf/transactions';

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'generate-world-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

const SMALL = { images: 350, transactions: 60, imageSize: 16, seed: 5 };

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}

describe('generateWorld', () => {
  let first: WorldSummary;
  const stages = new Map<WorldStage, [number, number]>();

  beforeAll(async () => {
    first = await generateWorld({
      ...SMALL,
      outDir: join(directory, 'first'),
      onProgress: (stage, done, total) => stages.set(stage, [done, total]),
    });
  });

  it('writes byte-identical files for the same seed', async () => {
    await generateWorld({ ...SMALL, outDir: join(directory, 'second') });
    const files = await listFiles(join(directory, 'first'));
    expect(await listFiles(join(directory, 'second'))).toEqual(files);
    expect(files.filter((file) => file.includes('.tmp-'))).toEqual([]);
    for (const file of files) {
      const bytes = await readFile(join(directory, 'first', file));
      expect(bytes.equals(await readFile(join(directory, 'second', file))), file).toBe(true);
    }
    await generateWorld({ ...SMALL, seed: 6, outDir: join(directory, 'other-seed') });
    const transactions = (root: string) => readFile(join(directory, root, 'transactions.json'), 'utf8');
    expect(await transactions('other-seed')).not.toBe(await transactions('first'));
  });

  it('writes every format, and a manifest that lists every file', async () => {
    const root = join(directory, 'first');
    expect(first.skipped).toEqual([]);
    for (const [format, files] of Object.entries(first.files)) {
      expect(files.length, format).toBeGreaterThan(0);
      for (const file of files) expect(existsSync(join(root, file)), file).toBe(true);
    }
    const manifest = JSON.parse(await readFile(join(root, 'manifest.json'), 'utf8'));
    const { outDir: _outDir, historyReport: _historyReport, timings: _timings, ...expected } = first;
    expect(manifest).toEqual(expected);
    expect(first.transactions).toEqual({
      train: 48,
      test: 12,
      rollback: first.historyReport.rollback.count,
      combination: first.historyReport.combination.count,
    });
    expect(first.products.train + first.products.test).toBe(350);
    expect((await listFiles(join(root, 'images'))).length).toBe(350);
  });

  it('holds the test pictures out of the train transactions', async () => {
    const root = join(directory, 'first');
    const catalog = JSON.parse(await readFile(join(root, 'catalog.json'), 'utf8')) as {
      id: string;
      split: string;
    }[];
    const split = new Map(catalog.map((product) => [product.id, product.split]));
    const transactions = JSON.parse(await readFile(join(root, 'transactions.json'), 'utf8')) as Record<
      'train' | 'test',
      Transaction[]
    >;
    for (const name of ['train', 'test'] as const) {
      for (const transaction of transactions[name]) {
        for (const id of transaction.productIds) expect(split.get(id)).toBe(name);
      }
    }
  });

  it('makes targets depend on the history and writes the report', async () => {
    const report = JSON.parse(await readFile(join(directory, 'first', 'history-report.json'), 'utf8'));
    expect(report).toEqual(first.historyReport);
    for (const rates of [report.rollback, report.combination]) {
      expect(rates.lastTurnOnlyRate).toBeLessThanOrEqual(0.7);
      expect(rates.fullHistoryRate).toBeGreaterThanOrEqual(0.95);
    }
  });

  it('writes image-caption pairs that the loader reads', async () => {
    const root = join(directory, 'first');
    const catalog = JSON.parse(await readFile(join(root, 'catalog.json'), 'utf8')) as {
      image: string;
      caption: string;
    }[];
    const pairs = await loadImageCaptionPairs(join(root, 'captions.jsonl'));
    expect(pairs.records).toEqual(catalog.map(({ image, caption }) => ({ image, caption })));
  });

  it('reports every stage to the end, without paraphrasing by default', () => {
    for (const stage of ['catalog', 'render', 'transactions', 'formats', 'report'] as const) {
      const [done, total] = stages.get(stage)!;
      expect(done, stage).toBe(total);
    }
    expect(stages.has('paraphrase')).toBe(false);
    expect(first.paraphraser).toBe('template');
  });

  it('skips FashionMT for other turn counts', async () => {
    const summary = await generateWorld({ ...SMALL, turns: 2, outDir: join(directory, 'two-turns') });
    expect(summary.skipped).toEqual([
      { format: 'fashionMt', reason: 'FashionMT transactions have 3 turns, these have 2' },
    ]);
    expect(summary.files.fashionMt).toEqual([]);
    expect(summary.files.multiTurnFashionIq.length).toBeGreaterThan(0);
    expect(existsSync(join(directory, 'two-turns', 'fashionmt'))).toBe(false);
  });

  it('keeps paraphrases the oracle reads alike and counts the others', async () => {
    // Upper case keeps items and keep clauses readable but breaks MAI's case-sensitive rollback opening.
    const summary = await generateWorld({
      ...SMALL,
      outDir: join(directory, 'paraphrased'),
      paraphraser: { name: 'shout', paraphrase: async (text) => text.toUpperCase() },
    });
    expect(summary.paraphraser).toBe('shout');
    expect(summary.paraphraseFallbacks).toBe(summary.transactions.rollback);
    const transactions = JSON.parse(
      await readFile(join(directory, 'paraphrased', 'transactions.json'), 'utf8'),
    ) as Record<'train' | 'test', Transaction[]>;
    const [transaction] = transactions.train;
    expect(transaction!.texts[0]).toBe(transaction!.texts[0]!.toUpperCase());
    expect(summary.historyReport.rollback.fullHistoryRate).toBe(1);
    expect(summary.historyReport.combination.fullHistoryRate).toBe(1);
  });
});
