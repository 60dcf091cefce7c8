import { existsSync, readdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { loadChatIrDialogs } from './formats/chatir';
import { CIRR_SPLITS, loadCirrPairs, loadCirrSplit } from './formats/cirr';
import {
  FASHION_IQ_SPLITS,
  fashionIqPaths,
  loadFashionIqTriplets,
  loadImageList,
} from './formats/fashion-iq';
import { fashionMtKind, loadFashionMtTransactions, loadIndexNames } from './formats/fashion-mt';
import { loadImageCaptionPairs } from './formats/image-caption-pairs';
import { loadMtcirPairs } from './formats/mtcir';
import { loadMultiTurnFashionIq, MULTI_TURN_FASHION_IQ_SPLITS } from './formats/multi-turn-fashion-iq';
import { loadImageNameList, loadShoesTriplets, SHOES_SPLITS, splitShoesTriplets } from './formats/shoes';
import type { LoadMode, LoadResult, RecordIssue } from './load-result';
import {
  type DatasetStats,
  FASHION_IQ_CATEGORIES,
  type FashionIqCategory,
  type FashionMtKind,
} from './records';

export const DATASET_FORMATS = [
  'fashioniq',
  'cirr',
  'shoes',
  'mt-fashioniq',
  'fashionmt',
  'mtcir',
  'chatir',
  'pairs',
] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

export interface DatasetStatsOptions {
  /** fashioniq (train|val|test), cirr (train|val|test1), mt-fashioniq (train|val): default val; shoes: train|eval. */
  split?: string;
  /** fashioniq and mt-fashioniq: one of dress, shirt, toptee; without it every category is counted. */
  category?: string;
  mode?: LoadMode;
}

/** Format-specific counts (per category, per split, per kind), JSON-printable. */
export type StatsDetails = { [key: string]: number | StatsDetails };

export interface DatasetReport extends DatasetStats {
  details?: StatsDetails;
  /** Every invalid record (skip mode) and every warning, in file order. */
  issues: { invalid: RecordIssue[]; warnings: RecordIssue[] };
}

/** The counts of one loaded file: `images` is its gallery size, else the distinct images its records reference. */
interface FileStats {
  /** The category, when a report sums several files. */
  name?: string;
  file: string;
  loaded: LoadResult<object>;
  images: number;
  details?: StatsDetails;
}

/**
 * Loads a data set and counts its records, images, invalid records and warnings. fashioniq, cirr, mt-fashioniq and
 * shoes take the data set's root folder (or one captions file); fashionmt, mtcir, chatir and pairs take a file.
 * Images are the split's gallery file when there is one (a sibling `image_splits/split.<name>.json`, the FashionMT
 * `*_index_names.txt`, the Shoes name lists), else the distinct images the records reference. In strict mode (the
 * default) the first invalid record throws a DatasetFormatError; a bad option value throws a RangeError.
 */
export async function datasetStats(
  format: DatasetFormat,
  path: string,
  options: DatasetStatsOptions = {},
): Promise<DatasetReport> {
  const mode = options.mode ?? 'strict';
  switch (format) {
    case 'fashioniq':
      return fashionIqStats(path, options, mode);
    case 'cirr':
      return cirrStats(path, options, mode);
    case 'shoes':
      return shoesStats(path, options, mode);
    case 'mt-fashioniq':
      return multiTurnFashionIqStats(path, options, mode);
    case 'fashionmt':
      return fashionMtStats(path, options, mode);
    case 'mtcir': {
      refuseOptions(format, options, []);
      const loaded = await loadMtcirPairs(path, { mode });
      const images = loaded.records.flatMap((pair) => [pair.reference, pair.target]);
      const modifications = loaded.records.reduce((sum, pair) => sum + pair.modifications.length, 0);
      return report(format, path, [
        { file: path, loaded, images: distinct(images), details: { modifications } },
      ]);
    }
    case 'chatir':
      return chatIrStats(path, options, mode);
    case 'pairs': {
      refuseOptions(format, options, []);
      const loaded = await loadImageCaptionPairs(path, { mode });
      return report(format, path, [
        { file: path, loaded, images: distinct(loaded.records.map((pair) => pair.image)) },
      ]);
    }
  }
}

async function fashionIqStats(
  path: string,
  options: DatasetStatsOptions,
  mode: LoadMode,
): Promise<DatasetReport> {
  const files = (await isFolder(path))
    ? categoryFiles(
        options,
        FASHION_IQ_SPLITS,
        (category, split) => fashionIqPaths(path, category, split).captions,
      )
    : singleFile('fashioniq', path, options);
  // One file after the other, so strict mode reports the first bad record in category order.
  const parts: FileStats[] = [];
  for (const { name, file } of files) {
    const loaded = await loadFashionIqTriplets(file, { mode });
    const referenced = loaded.records.flatMap((triplet) =>
      triplet.target === undefined ? [triplet.reference] : [triplet.reference, triplet.target],
    );
    parts.push({ name, file, loaded, images: await galleryOrReferenced(file, referenced, loadImageList) });
  }
  return report('fashioniq', path, parts);
}

async function cirrStats(path: string, options: DatasetStatsOptions, mode: LoadMode): Promise<DatasetReport> {
  let file = path;
  if (await isFolder(path)) {
    refuseOptions('cirr', options, ['split']);
    const split = oneOf(options.split ?? 'val', CIRR_SPLITS, 'split');
    file = join(path, 'captions', `cap.rc2.${split}.json`);
  } else refuseOptions('cirr', options, [], ' with a captions file (pass the data set folder to choose)');
  const loaded = await loadCirrPairs(file, { mode });
  const referenced = loaded.records.flatMap((pair) => [pair.reference, ...pair.imageSet.members]);
  const images = await galleryOrReferenced(file, referenced, async (splitFile) =>
    Object.keys(await loadCirrSplit(splitFile)),
  );
  return report('cirr', path, [{ file, loaded, images }]);
}

async function multiTurnFashionIqStats(
  path: string,
  options: DatasetStatsOptions,
  mode: LoadMode,
): Promise<DatasetReport> {
  const files = (await isFolder(path))
    ? categoryFiles(options, MULTI_TURN_FASHION_IQ_SPLITS, (category, split) =>
        join(path, 'data', `${category}.${split}.json`),
      )
    : singleFile('mt-fashioniq', path, options);
  const parts: FileStats[] = [];
  for (const { name, file } of files) {
    const loaded = await loadMultiTurnFashionIq(file, { mode });
    const referenced = loaded.records.flatMap((session) => [
      session.target.asin,
      ...session.turns.map((turn) => turn.asin),
    ]);
    parts.push({ name, file, loaded, images: await galleryOrReferenced(file, referenced, loadImageList) });
  }
  return report('mt-fashioniq', path, parts);
}

async function shoesStats(
  path: string,
  options: DatasetStatsOptions,
  mode: LoadMode,
): Promise<DatasetReport> {
  refuseOptions('shoes', options, ['split']);
  const split = options.split === undefined ? undefined : oneOf(options.split, SHOES_SPLITS, 'split');
  const folder = await isFolder(path);
  const file = folder ? join(path, 'relative_captions_shoes.json') : path;
  const directory = folder ? path : dirname(path);
  const trainFile = join(directory, 'train_im_names.txt');
  const evalFile = join(directory, 'eval_im_names.txt');
  const loaded = await loadShoesTriplets(file, { mode });
  const referenced = distinct(loaded.records.flatMap((triplet) => [triplet.reference, triplet.target]));
  if (split === undefined && !(existsSync(trainFile) && existsSync(evalFile))) {
    return report('shoes', path, [{ file, loaded, images: referenced }]);
  }
  // With a split the name lists are required: a missing one is named by the loader.
  const trainNames = await loadImageNameList(trainFile);
  const evalNames = await loadImageNameList(evalFile);
  const assigned = splitShoesTriplets(loaded.records, trainNames, evalNames);
  if (split === undefined) {
    const details = {
      train: assigned.train.length,
      eval: assigned.eval.length,
      unassigned: assigned.unassigned.length,
    };
    return report('shoes', path, [{ file, loaded, images: referenced, details }]);
  }
  // Invalid records and warnings stay those of the whole file: a record that cannot be read has no split.
  return report('shoes', path, [
    {
      file,
      loaded: { ...loaded, records: assigned[split] },
      images: distinct(split === 'train' ? trainNames : evalNames),
      details: { unassigned: assigned.unassigned.length },
    },
  ]);
}

async function fashionMtStats(
  path: string,
  options: DatasetStatsOptions,
  mode: LoadMode,
): Promise<DatasetReport> {
  refuseOptions('fashionmt', options, []);
  const loaded = await loadFashionMtTransactions(path, { mode });
  // "FC_test_cap.json" → "FC_index_names.txt": one gallery per sub-dataset, shared by its splits.
  const indexFile = join(dirname(path), basename(path).replace(/_[^_]+_cap\.json$/, '_index_names.txt'));
  const images =
    indexFile !== path && existsSync(indexFile)
      ? distinct(await loadIndexNames(indexFile))
      : distinct(
          loaded.records.flatMap((transaction) => [
            transaction.ref,
            transaction.tar1,
            transaction.tar2,
            transaction.tar3,
          ]),
        );
  const kinds: Record<FashionMtKind, number> = { rollback: 0, combination: 0, plain: 0 };
  for (const transaction of loaded.records) kinds[fashionMtKind(transaction)]++;
  return report('fashionmt', path, [{ file: path, loaded, images, details: { kinds } }]);
}

async function chatIrStats(
  path: string,
  options: DatasetStatsOptions,
  mode: LoadMode,
): Promise<DatasetReport> {
  refuseOptions('chatir', options, []);
  const loaded = await loadChatIrDialogs(path, { mode });
  const rounds = loaded.records.flatMap((dialog) => dialog.rounds);
  const malformed = rounds.filter((round) => !round.wellFormed);
  const withoutSeparator = malformed.filter((round) => !round.raw.includes('? ')).length;
  const details = {
    rounds: rounds.length,
    malformedRounds: { withoutSeparator, severalSeparators: malformed.length - withoutSeparator },
  };
  return report('chatir', path, [
    { file: path, loaded, images: distinct(loaded.records.map((dialog) => dialog.image)), details },
  ]);
}

/**
 * The captions file of each requested category of the split (default val). Without --category: every category
 * that has a file for the split (FashionIQ's dress, shirt and toptee; a synthetic world's own categories), or
 * FashionIQ's three when none is found, so that the loader names the missing file. A requested category may be
 * any present one or one of FashionIQ's.
 */
function categoryFiles<Split extends string>(
  options: DatasetStatsOptions,
  splits: readonly Split[],
  captionsFile: (category: FashionIqCategory, split: Split) => string,
): { name?: string; file: string }[] {
  const split = oneOf(options.split ?? 'val', splits, 'split');
  const pattern = captionsFile('{category}' as FashionIqCategory, split);
  const [before, after] = pattern.split('{category}') as [string, string];
  const folder = dirname(before + after);
  const present = existsSync(folder)
    ? readdirSync(folder)
        .map((name) => join(folder, name))
        .filter((file) => file.startsWith(before) && file.endsWith(after))
        .map((file) => file.slice(before.length, file.length - after.length))
        .filter((category) => category.length > 0 && !category.includes('.'))
        .sort()
    : [];
  const known = [...new Set([...present, ...FASHION_IQ_CATEGORIES])];
  const categories =
    options.category !== undefined
      ? [oneOf(options.category, known, 'category')]
      : present.length > 0
        ? present
        : [...FASHION_IQ_CATEGORIES];
  return categories.map((category) => ({
    name: category,
    file: captionsFile(category as FashionIqCategory, split),
  }));
}

/** A captions file given directly names its own category and split, so the options would be ignored. */
function singleFile(
  format: DatasetFormat,
  file: string,
  options: DatasetStatsOptions,
): { name?: string; file: string }[] {
  refuseOptions(format, options, [], ' with a captions file (pass the data set folder to choose)');
  return [{ file }];
}

/** `<root>/captions/cap.<name>.json` or `<root>/data/<name>.json` → `<root>/image_splits/split.<name>.json`. */
async function galleryOrReferenced(
  captionsFile: string,
  referenced: string[],
  readGallery: (file: string) => Promise<string[]>,
): Promise<number> {
  const name = basename(captionsFile).replace(/^cap\./, '');
  const splitFile = join(dirname(dirname(captionsFile)), 'image_splits', `split.${name}`);
  return existsSync(splitFile) ? distinct(await readGallery(splitFile)) : distinct(referenced);
}

/** One file's report as is; several files (categories) summed, with each file's counts in `details`. */
function report(format: DatasetFormat, path: string, parts: FileStats[]): DatasetReport {
  const counts = (part: FileStats) => ({
    records: part.loaded.records.length,
    images: part.images,
    invalid: part.loaded.invalid.length,
    warnings: part.loaded.warnings.length,
  });
  const issues = {
    invalid: parts.flatMap((part) => part.loaded.invalid),
    warnings: parts.flatMap((part) => part.loaded.warnings),
  };
  if (parts.length === 1) {
    const [part] = parts;
    return {
      format,
      file: part.file,
      ...counts(part),
      ...(part.details ? { details: part.details } : {}),
      issues,
    };
  }
  const details: StatsDetails = {};
  for (const part of parts) details[part.name ?? part.file] = counts(part);
  const sum = (key: 'records' | 'images' | 'invalid' | 'warnings') =>
    parts.reduce((total, part) => total + counts(part)[key], 0);
  return {
    format,
    file: path,
    records: sum('records'),
    images: sum('images'),
    invalid: sum('invalid'),
    warnings: sum('warnings'),
    details,
    issues,
  };
}

/** Options a format does not take are refused rather than silently ignored. */
function refuseOptions(
  format: DatasetFormat,
  options: DatasetStatsOptions,
  accepted: readonly ('split' | 'category')[],
  hint = '',
): void {
  for (const key of ['split', 'category'] as const) {
    if (options[key] !== undefined && !accepted.includes(key)) {
      throw new RangeError(`--${key} does not apply to ${format}${hint}`);
    }
  }
}

function oneOf<Value extends string>(value: string, allowed: readonly Value[], what: string): Value {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new RangeError(`unknown ${what} "${value}", expected one of ${allowed.join(', ')}`);
  }
  return value as Value;
}

async function isFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    // A missing path is reported by the loader, which names it.
    return false;
  }
}

function distinct(names: Iterable<string>): number {
  return new Set(names).size;
}
