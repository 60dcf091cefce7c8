import { join, relative, sep } from 'node:path';
import { Rng } from '@cir/core-tensor';
import { emitChatIr } from './emitters/chatir';
import { emitCirr } from './emitters/cirr';
import { emitFashionIq } from './emitters/fashion-iq';
import { emitFashionMt } from './emitters/fashion-mt';
import { emitMtcir } from './emitters/mtcir';
import { emitMultiTurnFashionIq } from './emitters/multi-turn-fashion-iq';
import { writeJsonFile } from './emitters/output-files';
import { emitShoes } from './emitters/shoes';
import type { SyntheticWorld } from './emitters/synthetic-world';
import { type HistoryReport, historyReport } from './mgf/history-oracle';
import { type Paraphraser, paraphraseModification } from './mgf/paraphraser';
import { generateTransactions, type Transaction } from './mgf/transactions';
import { CATEGORIES, type Product } from './synthetic/attributes';
import { writeCaptionsFile } from './synthetic/captions-file';
import { generateCatalog } from './synthetic/catalog';
import { productImagePath, renderCatalog } from './synthetic/render-catalog';

/** Bumped when the layout or meaning of the world's files changes. */
export const WORLD_FORMAT_VERSION = 1;
/** Share of each category's products, and of the transactions, held out for evaluation. */
const TEST_SHARE = 0.2;

export const WORLD_STAGES = ['catalog', 'transactions', 'paraphrase', 'render', 'formats', 'report'] as const;
export type WorldStage = (typeof WORLD_STAGES)[number];

export interface GenerateWorldOptions {
  outDir: string;
  /** Catalog products, one picture each. Default 10,000. */
  images?: number;
  /** MGF transactions, 80 % train and 20 % test. Default 5,000. */
  transactions?: number;
  /** Modification texts per transaction. Default 3 (FashionMT's four images). */
  turns?: number;
  seed?: number;
  /** Picture side in pixels. Default 64. */
  imageSize?: number;
  /** Rewords the MGF texts; a rewording that the attribute oracle reads differently is replaced by the original. */
  paraphraser?: Paraphraser;
  onProgress?: (stage: WorldStage, done: number, total: number) => void;
}

/** The world's formats and the folder each is written to, under `outDir`. */
export const WORLD_FOLDERS = {
  fashionMt: 'fashionmt',
  fashionIq: 'fashion-iq',
  cirr: 'cirr',
  shoes: 'shoes',
  multiTurnFashionIq: 'mt-fashion-iq',
  mtcir: 'mtcir',
  chatIr: 'chatir',
} as const;
export type WorldFormat = keyof typeof WORLD_FOLDERS;

/** What `manifest.json` holds: only inputs and outputs, nothing run-dependent, so same seed → same bytes. */
export interface WorldManifest {
  formatVersion: number;
  seed: number;
  images: number;
  imageSize: number;
  turns: number;
  transactions: { train: number; test: number; rollback: number; combination: number };
  products: { train: number; test: number };
  paraphraser: string;
  paraphraseFallbacks: number;
  /** Formats that could not be written for these options, with the reason. */
  skipped: { format: WorldFormat; reason: string }[];
  /** Every file the run wrote besides the pictures, relative to `outDir`, with "/" separators, by format. */
  files: Record<WorldFormat | 'world', string[]>;
}

export interface WorldSummary extends WorldManifest {
  outDir: string;
  historyReport: HistoryReport;
  /** Wall-clock milliseconds per stage. */
  timings: Record<WorldStage, number>;
}

/**
 * Generates the synthetic world: a seeded catalog rendered to PNG pictures with a captions file, MGF transactions
 * over it, every benchmark format written from them, and the side files that oracles and evaluations read
 * (`catalog.json`, `transactions.json`, `history-report.json`, `manifest.json`).
 *
 * Each category's products are split 80/20 into train and test before transactions are drawn, so train and
 * test transactions (80/20 of the count) never share a picture and every format's evaluation split is held out.
 * Same options → byte-identical files (without a paraphraser, or with a deterministic one). Every file is written
 * atomically, so a killed run leaves no half-written file under its final name.
 */
export async function generateWorld(options: GenerateWorldOptions): Promise<WorldSummary> {
  const seed = options.seed ?? 1;
  const turns = options.turns ?? 3;
  const imageSize = options.imageSize ?? 64;
  const transactionCount = options.transactions ?? 5000;
  const { outDir } = options;
  const report = (stage: WorldStage, done: number, total: number) => options.onProgress?.(stage, done, total);
  const timings = Object.fromEntries(WORLD_STAGES.map((stage) => [stage, 0])) as Record<WorldStage, number>;
  const timed = async <T>(stage: WorldStage, run: () => T | Promise<T>): Promise<T> => {
    const start = performance.now();
    const result = await run();
    timings[stage] = Math.round(performance.now() - start);
    return result;
  };
  const relativePath = (file: string) => relative(outDir, file).split(sep).join('/');

  const catalog = await timed('catalog', () => {
    const products = generateCatalog({ count: options.images ?? 10_000, seed });
    report('catalog', products.length, products.length);
    return products;
  });
  const world = await timed('transactions', () => {
    const { train, test } = holdOut(catalog, new Rng(`${seed}:hold-out`));
    const testCount = Math.round(transactionCount * TEST_SHARE);
    const trainTransactions = generateTransactions(train, {
      count: transactionCount - testCount,
      turns,
      seed: `${seed}:train-transactions`,
      idPrefix: 'train',
    });
    report('transactions', trainTransactions.length, transactionCount);
    const testTransactions = generateTransactions(test, {
      count: testCount,
      turns,
      seed: `${seed}:test-transactions`,
      idPrefix: 'test',
    });
    report('transactions', transactionCount, transactionCount);
    const synthetic: SyntheticWorld = {
      root: outDir,
      catalog,
      train: { products: train, transactions: trainTransactions },
      test: { products: test, transactions: testTransactions },
      seed,
    };
    return synthetic;
  });
  const transactions = [...world.train.transactions, ...world.test.transactions];

  const paraphraseFallbacks = await timed('paraphrase', () =>
    options.paraphraser ? paraphraseAll(transactions, options.paraphraser, report) : 0,
  );

  // Rendering is the slow stage, so it comes after everything that can refuse the options.
  const captionsFile = join(outDir, 'captions.jsonl');
  await timed('render', async () => {
    await renderCatalog(catalog, {
      outDir,
      size: imageSize,
      onProgress: (done, total) => report('render', done, total),
    });
    await writeCaptionsFile(catalog, captionsFile);
  });

  const skipped: WorldManifest['skipped'] = [];
  const files = await timed('formats', async () => {
    const emitters: Record<WorldFormat, (folder: string) => Promise<{ files: string[] }>> = {
      fashionMt: (folder) => emitFashionMt(world, folder),
      fashionIq: (folder) => emitFashionIq(world, folder),
      cirr: (folder) => emitCirr(world, folder),
      shoes: (folder) => emitShoes(world, folder),
      multiTurnFashionIq: (folder) => emitMultiTurnFashionIq(world, folder),
      mtcir: (folder) => emitMtcir(world, folder),
      chatIr: (folder) => emitChatIr(world, folder),
    };
    const written = {} as Record<WorldFormat, string[]>;
    const formats = Object.keys(emitters) as WorldFormat[];
    for (const [index, format] of formats.entries()) {
      if (format === 'fashionMt' && turns !== 3) {
        skipped.push({ format, reason: `FashionMT transactions have 3 turns, these have ${turns}` });
        written[format] = [];
      } else {
        const emission = await emitters[format](join(outDir, WORLD_FOLDERS[format]));
        written[format] = emission.files.map(relativePath);
      }
      report('formats', index + 1, formats.length);
    }
    return written;
  });

  return timed('report', async () => {
    const history = historyReport(transactions, catalog);
    const split = new Set(world.test.products.map((product) => product.id));
    const sideFiles = {
      catalog: join(outDir, 'catalog.json'),
      transactions: join(outDir, 'transactions.json'),
      history: join(outDir, 'history-report.json'),
      manifest: join(outDir, 'manifest.json'),
    };
    await writeJsonFile(
      sideFiles.catalog,
      catalog.map((product) => ({
        ...product,
        image: productImagePath(product),
        split: split.has(product.id) ? 'test' : 'train',
      })),
    );
    await writeJsonFile(sideFiles.transactions, {
      train: world.train.transactions,
      test: world.test.transactions,
    });
    await writeJsonFile(sideFiles.history, history, 2);
    const manifest: WorldManifest = {
      formatVersion: WORLD_FORMAT_VERSION,
      seed,
      images: catalog.length,
      imageSize,
      turns,
      transactions: {
        train: world.train.transactions.length,
        test: world.test.transactions.length,
        rollback: history.rollback.count,
        combination: history.combination.count,
      },
      products: { train: world.train.products.length, test: world.test.products.length },
      paraphraser: options.paraphraser?.name ?? 'template',
      paraphraseFallbacks,
      skipped,
      files: { world: [captionsFile, ...Object.values(sideFiles)].map(relativePath), ...files },
    };
    await writeJsonFile(sideFiles.manifest, manifest, 2);
    report('report', 1, 1);
    return { ...manifest, outDir, historyReport: history, timings };
  });
}

/** Each category's products split into train and a held-out TEST_SHARE, both in catalog order. */
function holdOut(catalog: readonly Product[], rng: Rng): { train: Product[]; test: Product[] } {
  const heldOut = new Set<string>();
  for (const category of CATEGORIES) {
    const members = rng.shuffle(catalog.filter((product) => product.category === category));
    for (const product of members.slice(0, Math.round(members.length * TEST_SHARE))) heldOut.add(product.id);
  }
  return {
    train: catalog.filter((product) => !heldOut.has(product.id)),
    test: catalog.filter((product) => heldOut.has(product.id)),
  };
}

/** Paraphrases every text in place; returns how many paraphrases were rejected for losing the structure. */
async function paraphraseAll(
  transactions: Transaction[],
  paraphraser: Paraphraser,
  report: (stage: WorldStage, done: number, total: number) => void,
): Promise<number> {
  const total = transactions.reduce((sum, transaction) => sum + transaction.texts.length, 0);
  let done = 0;
  let fallbacks = 0;
  for (const transaction of transactions) {
    for (const [turn, text] of transaction.texts.entries()) {
      const result = await paraphraseModification(paraphraser, transaction.category, text);
      transaction.texts[turn] = result.text;
      if (result.fellBack) fallbacks++;
      report('paraphrase', ++done, total);
    }
  }
  return fallbacks;
}
