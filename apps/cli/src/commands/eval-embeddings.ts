import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  FASHION_IQ_CATEGORIES,
  fashionIqPaths,
  fashionMtKind,
  loadChatIrDialogs,
  loadChatIrSearchSpace,
  loadCirrPairs,
  loadCirrSplit,
  loadFashionIqTriplets,
  loadFashionMtTransactions,
  loadImageList,
  loadImageNameList,
  loadIndexNames,
  loadShoesTriplets,
  splitShoesTriplets,
} from '@cir/datasets';
import {
  averageFashionIq,
  evaluateChatIr,
  evaluateCirr,
  evaluateFashionIq,
  evaluateFashionMt,
  evaluateShoes,
  type NpyArray,
  readNpy,
  toMarkdown,
} from '@cir/eval';
import type { Command } from 'commander';
import { CliError, printResult } from '../output';

export const EMBEDDING_BENCHMARKS = ['fashioniq', 'cirr', 'shoes', 'chatir', 'fashionmt'] as const;
type EmbeddingBenchmark = (typeof EMBEDDING_BENCHMARKS)[number];

/**
 * What each protocol takes: the --split values whose annotations hold targets (CIRR test1 and FashionIQ test keep
 * theirs hidden), and whether --category or --dialogs mean anything to it.
 */
const PROTOCOL_OPTIONS: Record<
  EmbeddingBenchmark,
  { splits: readonly string[]; category: boolean; dialogs: boolean }
> = {
  fashioniq: { splits: ['val', 'train'], category: true, dialogs: false },
  cirr: { splits: ['val', 'train'], category: false, dialogs: false },
  shoes: { splits: ['eval', 'train'], category: false, dialogs: false },
  chatir: { splits: [], category: false, dialogs: true },
  fashionmt: { splits: ['test', 'train'], category: false, dialogs: false },
};

/** Refuses (exit 2) a split the protocol cannot score and an option it does not take, before any file is read. */
function checkProtocolOptions(benchmark: EmbeddingBenchmark, options: EvalEmbeddingsOptions): void {
  const takes = PROTOCOL_OPTIONS[benchmark];
  if (options.split !== undefined && !takes.splits.includes(options.split)) {
    throw new CliError(
      takes.splits.length === 0
        ? `${benchmark} takes no --split`
        : `${benchmark}: unknown or unscorable split "${options.split}", expected one of ${takes.splits.join(', ')}`,
      2,
    );
  }
  if (options.category !== undefined) {
    if (!takes.category) throw new CliError(`--category applies to fashioniq only, not ${benchmark}`, 2);
    if (!(FASHION_IQ_CATEGORIES as readonly string[]).includes(options.category)) {
      throw new CliError(
        `fashioniq: unknown category "${options.category}", expected one of ${FASHION_IQ_CATEGORIES.join(', ')}`,
        2,
      );
    }
  }
  if (options.dialogs !== undefined && !takes.dialogs) {
    throw new CliError(`--dialogs applies to chatir only, not ${benchmark}`, 2);
  }
}

interface EvalEmbeddingsOptions {
  benchmark: string;
  annotations: string;
  split?: string;
  category?: string;
  dialogs?: string;
  queries: string;
  gallery: string;
  json?: boolean;
}

/** A 2-D matrix from a .npy file, checked to be [rows, dim]. */
async function readMatrix(file: string): Promise<{ data: Float32Array; rows: number; dim: number }> {
  const array = await readNpy(file);
  if (array.shape.length !== 2) {
    throw new CliError(`${file}: expected a 2-D array [rows, dim], got shape (${array.shape.join(', ')})`);
  }
  return { data: array.data, rows: array.shape[0]!, dim: array.shape[1]! };
}

/** Queries and gallery of one evaluation, with a clear error when their widths differ. */
async function readPair(queriesFile: string, galleryFile: string) {
  const [queries, gallery] = await Promise.all([readMatrix(queriesFile), readMatrix(galleryFile)]);
  if (queries.dim !== gallery.dim) {
    throw new CliError(`${queriesFile} has dim ${queries.dim} but ${galleryFile} has dim ${gallery.dim}`);
  }
  return { queries: queries.data, gallery: gallery.data, dim: gallery.dim };
}

/** Rounds of ChatIR queries: one 3-D array [rounds, dialogs, dim], or a path with "{round}" per round. */
async function readRoundQueries(pattern: string): Promise<{ rounds: Float32Array[]; dim: number }> {
  if (!pattern.includes('{round}')) {
    const array: NpyArray = await readNpy(pattern);
    if (array.shape.length !== 3) {
      throw new CliError(
        `${pattern}: expected [rounds, dialogs, dim] or a path with {round}, got shape (${array.shape.join(', ')})`,
      );
    }
    const [rounds, dialogs, dim] = array.shape as [number, number, number];
    return {
      rounds: Array.from({ length: rounds }, (_value, round) =>
        array.data.subarray(round * dialogs * dim, (round + 1) * dialogs * dim),
      ),
      dim,
    };
  }
  const rounds: Float32Array[] = [];
  let dim = 0;
  for (let round = 0; existsSync(pattern.replaceAll('{round}', String(round))); round++) {
    const matrix = await readMatrix(pattern.replaceAll('{round}', String(round)));
    rounds.push(matrix.data);
    dim = matrix.dim;
  }
  if (rounds.length === 0) throw new CliError(`no file matches ${pattern.replaceAll('{round}', '0')}`);
  return { rounds, dim };
}

/** Runs one benchmark protocol on precomputed embeddings and returns a JSON-able result plus a Markdown table. */
export async function evaluateEmbeddings(
  options: EvalEmbeddingsOptions,
): Promise<{ result: object; table: string }> {
  const benchmark = options.benchmark as EmbeddingBenchmark;
  // An unknown benchmark is refused by the switch's default below.
  if (PROTOCOL_OPTIONS[benchmark]) checkProtocolOptions(benchmark, options);
  const root = options.annotations;
  switch (benchmark) {
    case 'fashioniq': {
      const split = (options.split ?? 'val') as 'val';
      const categories = options.category
        ? [options.category]
        : options.queries.includes('{category}')
          ? ['dress', 'shirt', 'toptee']
          : undefined;
      if (!categories) {
        throw new CliError(
          'fashioniq: give --category, or use {category} in --queries and --gallery to score all three',
          2,
        );
      }
      const perCategory: Record<string, Awaited<ReturnType<typeof evaluateFashionIq>>> = {};
      for (const category of categories) {
        const paths = fashionIqPaths(root, category as 'dress', split);
        const { records } = await loadFashionIqTriplets(paths.captions);
        const galleryNames = await loadImageList(paths.split);
        const embeddings = await readPair(
          options.queries.replaceAll('{category}', category),
          options.gallery.replaceAll('{category}', category),
        );
        perCategory[category] = await evaluateFashionIq(records, { ...embeddings, galleryNames });
      }
      const average = averageFashionIq(Object.values(perCategory));
      const rows = Object.entries(perCategory).map(([category, value]) => [
        category,
        value.recallAt10,
        value.recallAt50,
        undefined,
      ]);
      if (categories.length > 1)
        rows.push(['average', average.recallAt10, average.recallAt50, average.average]);
      return {
        result: { benchmark, split, categories: perCategory, ...(categories.length > 1 && { average }) },
        table: toMarkdown({
          title: `FashionIQ ${split}`,
          columns: ['category', 'R@10', 'R@50', '(R@10+R@50)/2'],
          rows,
        }),
      };
    }
    case 'cirr': {
      const split = options.split ?? 'val';
      const { records } = await loadCirrPairs(join(root, 'captions', `cap.rc2.${split}.json`));
      const galleryNames = Object.keys(
        await loadCirrSplit(join(root, 'image_splits', `split.rc2.${split}.json`)),
      );
      const value = await evaluateCirr(records, {
        ...(await readPair(options.queries, options.gallery)),
        galleryNames,
      });
      return {
        result: { benchmark, split, ...value },
        table: toMarkdown({
          title: `CIRR ${split}`,
          columns: ['R@1', 'R@5', 'R@10', 'R@50', 'Rs@1', 'Rs@2', 'Rs@3', '(R@5+Rs@1)/2'],
          rows: [
            [
              value.recallAt1,
              value.recallAt5,
              value.recallAt10,
              value.recallAt50,
              value.recallSubsetAt1,
              value.recallSubsetAt2,
              value.recallSubsetAt3,
              value.average,
            ],
          ],
        }),
      };
    }
    case 'shoes': {
      const split = (options.split ?? 'eval') as 'eval' | 'train';
      const { records } = await loadShoesTriplets(join(root, 'relative_captions_shoes.json'));
      const names = await loadImageNameList(
        join(root, split === 'eval' ? 'eval_im_names.txt' : 'train_im_names.txt'),
      );
      const other = await loadImageNameList(
        join(root, split === 'eval' ? 'train_im_names.txt' : 'eval_im_names.txt'),
      );
      const assigned = splitShoesTriplets(
        records,
        split === 'eval' ? other : names,
        split === 'eval' ? names : other,
      );
      const triplets = split === 'eval' ? assigned.eval : assigned.train;
      const value = await evaluateShoes(triplets, {
        ...(await readPair(options.queries, options.gallery)),
        galleryNames: names,
      });
      return {
        result: { benchmark, split, ...value },
        table: toMarkdown({
          title: `Shoes ${split}`,
          columns: ['R@1', 'R@10', 'R@50'],
          rows: [[value.recallAt1, value.recallAt10, value.recallAt50]],
        }),
      };
    }
    case 'chatir': {
      const dialogsFile = options.dialogs?.includes('/')
        ? options.dialogs
        : join(root, 'dialogues', options.dialogs ?? 'VisDial_v1.0_queries_val.json');
      const { records } = await loadChatIrDialogs(dialogsFile);
      const galleryNames = await loadChatIrSearchSpace(join(root, 'protocol', 'Search_Space_val_50k.json'));
      const { rounds, dim } = await readRoundQueries(options.queries);
      const gallery = await readMatrix(options.gallery);
      if (gallery.dim !== dim)
        throw new CliError(`queries have dim ${dim} but ${options.gallery} has dim ${gallery.dim}`);
      const value = await evaluateChatIr(records, {
        queriesPerRound: rounds,
        gallery: gallery.data,
        dim,
        galleryNames,
      });
      const { ranksPerRound: _ranks, ...summary } = value;
      return {
        result: { benchmark, dialogFile: dialogsFile, ...summary },
        table: toMarkdown({
          title: `ChatIR cumulative Hits@${value.k}`,
          columns: ['round', `Hits@${value.k}`, `Recall@${value.k} (this round)`],
          rows: value.hitsPerRound.map((hits, round) => [String(round), hits, value.recallPerRound[round]]),
        }),
      };
    }
    case 'fashionmt': {
      const split = options.split ?? 'test';
      const captionsFile = root.endsWith('.json') ? root : findFashionMtCaptions(root, split);
      const { records } = await loadFashionMtTransactions(captionsFile);
      const galleryNames = await loadIndexNames(
        captionsFile.replace(/_[^_/]+_cap\.json$/, '_index_names.txt'),
      );
      const value = await evaluateFashionMt(records, records.map(fashionMtKind), {
        ...(await readPair(options.queries, options.gallery)),
        galleryNames,
      });
      const row = (
        name: string,
        recalls?: {
          recallAt1: number;
          recallAt5: number;
          recallAt10: number;
          recallAt20: number;
          mean: number;
        },
      ) =>
        recalls
          ? [name, recalls.recallAt1, recalls.recallAt5, recalls.recallAt10, recalls.recallAt20, recalls.mean]
          : [name];
      return {
        result: { benchmark, split, captions: captionsFile, ...value },
        table: toMarkdown({
          title: `FashionMT ${split} (final turn); Mean = ${value.mean.toFixed(2)}`,
          columns: ['kind', 'R@1', 'R@5', 'R@10', 'R@20', 'mean'],
          rows: [
            row('combination', value.combination),
            row('rollback', value.rollback),
            row('all', value.all),
          ],
        }),
      };
    }
    default:
      throw new CliError(
        `unknown benchmark "${options.benchmark}"; use one of ${EMBEDDING_BENCHMARKS.join(', ')}`,
        2,
      );
  }
}

/** `<root>/modifiers/*_<split>_cap.json` (or directly in root). */
function findFashionMtCaptions(root: string, split: string): string {
  for (const folder of [join(root, 'modifiers'), root]) {
    if (!existsSync(folder)) continue;
    const match = readdirSync(folder).find((file) => file.endsWith(`_${split}_cap.json`));
    if (match) return join(folder, match);
  }
  throw new CliError(`no *_${split}_cap.json under ${root} or ${join(root, 'modifiers')}`);
}

export function registerEvalEmbeddings(evaluate: Command): void {
  evaluate
    .command('embeddings')
    .description(
      "Score precomputed query and gallery embeddings (.npy) with a benchmark's official protocol.",
    )
    .requiredOption('--benchmark <name>', EMBEDDING_BENCHMARKS.join(' | '))
    .requiredOption('--annotations <path>', 'the benchmark folder (fashionmt: its folder or one *_cap.json)')
    .requiredOption(
      '--queries <file.npy>',
      'float32 [records, dim]: row i = record i of the annotation file, in file order',
    )
    .requiredOption(
      '--gallery <file.npy>',
      'float32 [images, dim]: row j = image j of the split file, in file order',
    )
    .option(
      '--split <split>',
      'fashioniq/cirr: val (default) or train; shoes: eval (default) or train; fashionmt: test (default) or train; chatir: none',
    )
    .option(
      '--category <category>',
      'fashioniq: dress | shirt | toptee (or {category} in the file names for all three)',
    )
    .option('--dialogs <file>', 'chatir: dialog file in dialogues/ (default VisDial_v1.0_queries_val.json)')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Protocols (exactly as published):
  fashioniq  per category, gallery = split.<category>.val.json, reference kept, R@10/R@50 (+ average over categories)
  cirr       gallery = split.rc2.<split>.json, reference removed, R@1/5/10/50, R_subset@1/2/3 over img_set, (R@5+Rs@1)/2
  shoes      eval triplets (ARTEMIS split) vs eval_im_names.txt, reference removed, R@1/10/50
  chatir     cumulative Hits@10 per round over the 50k search space; --queries is [rounds, dialogs, dim] or q.{round}.npy
  fashionmt  final turn vs *_index_names.txt, reference kept, R@1/5/10/20 for combination and rollback, Mean

Examples:
  cir eval embeddings --benchmark cirr --annotations ../shared/benchmarks/cirr --queries q.npy --gallery g.npy
  cir eval embeddings --benchmark fashioniq --annotations ../shared/benchmarks/fashion-iq \\
      --queries q.{category}.npy --gallery g.{category}.npy --json`,
    )
    .action(async (options: EvalEmbeddingsOptions) => {
      if (!(EMBEDDING_BENCHMARKS as readonly string[]).includes(options.benchmark)) {
        throw new CliError(
          `unknown benchmark "${options.benchmark}"; use one of ${EMBEDDING_BENCHMARKS.join(', ')}`,
          2,
        );
      }
      const { result, table } = await evaluateEmbeddings(options);
      printResult(result, options, () => table);
    });
}
