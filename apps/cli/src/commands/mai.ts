import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '@cir/core-tensor';
import { toMarkdown, writeLinePlotPng } from '@cir/eval';
import {
  DEFAULT_MAI_STEPS,
  evaluateVariant,
  MAI_ABLATIONS,
  MAI_METHODS,
  type MaiContext,
  type MaiVariant,
  type MethodResult,
  prepareMaiContext,
  trainedVariant,
  zeroShotResults,
} from '@cir/models-mai';
import type { Command } from 'commander';
import { CliError, integerAtLeast, printResult } from '../output';
import { ProgressBar } from '../progress';

interface MaiCommandOptions {
  data: string;
  encoder?: string;
  steps: number;
  seed: number;
  json?: boolean;
}

async function context(options: MaiCommandOptions, bar: ProgressBar): Promise<MaiContext> {
  if (!existsSync(options.data)) {
    throw new CliError(
      `${resolve(options.data)} does not exist: make a world with \`cir data generate --out <dir>\``,
      2,
    );
  }
  return prepareMaiContext({
    dataDirectory: options.data,
    encoderDirectory: options.encoder,
    onProgress: (stage, done, total) => bar.update(stage, done, total),
  });
}

function trainingProgress(bar: ProgressBar, name: string) {
  return (progress: { step: number; totalSteps: number; loss: number; examplesPerSecond: number }) =>
    bar.update(`train ${name}`, progress.step, progress.totalSteps, `loss ${progress.loss.toFixed(3)}`);
}

const COLUMNS = [
  'method',
  'C R@1',
  'C R@5',
  'C R@10',
  'C R@20',
  'R R@1',
  'R R@5',
  'R R@10',
  'R R@20',
  'Mean',
];

/** One table row: combination recalls, rollback recalls, Mean. */
function row(result: MethodResult): (string | number | undefined)[] {
  const { combination: c, rollback: r } = result;
  return [
    result.method,
    c?.recallAt1,
    c?.recallAt5,
    c?.recallAt10,
    c?.recallAt20,
    r?.recallAt1,
    r?.recallAt5,
    r?.recallAt10,
    r?.recallAt20,
    result.mean,
  ];
}

export function registerTrainMai(train: Command): void {
  train
    .command('mai')
    .description(
      'Train MAI on FashionMT-format sessions (cached frozen features, AdamW one-cycle, checkpoints, resume).',
    )
    .requiredOption('--data <dir>', 'a world from `cir data generate` (fashionmt/ + captions.jsonl)')
    .option('--encoder <dir>', 'frozen encoder folder (default <data>/encoder)')
    .option('--out <dir>', 'where to copy the trained model (it is also kept under <data>/models/)')
    .option('--steps <n>', 'training steps of 16 sessions', integerAtLeast(1), DEFAULT_MAI_STEPS)
    .option('--seed <n>', 'seed', integerAtLeast(0), 1)
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Checkpoints go to <data>/models/mai-<hash>.run/ every 25 steps; run the same command again after an interruption
(even kill -9) and it resumes. A finished model is reused by \`cir eval mai\`.

Example:
  cir train mai --data world`,
    )
    .action(async (options: MaiCommandOptions & { out?: string }) => {
      const bar = new ProgressBar(!options.json);
      const prepared = await context(options, bar);
      const mai = MAI_METHODS[0]!;
      const trained = await trainedVariant(prepared, mai, {
        steps: options.steps,
        seed: options.seed,
        onProgress: trainingProgress(bar, 'mai'),
      });
      const result = await evaluateVariant(prepared, trained, mai.description);
      bar.stop();
      if (options.out) {
        const { saveMaiModel } = await import('@cir/models-mai');
        await saveMaiModel(resolve(options.out), trained.model, {
          name: 'mai',
          encoderId: prepared.encoderId,
          steps: options.steps,
        });
      }
      printResult({ model: options.out ? resolve(options.out) : trained.directory, ...result }, options, () =>
        [
          `Trained MAI in ${result.trainingSeconds?.toFixed(0)} s → ${options.out ? resolve(options.out) : trained.directory}`,
          toMarkdown({
            title: 'FashionMT test, final turn (C = combination, R = rollback)',
            columns: COLUMNS,
            rows: [row(result)],
          }),
        ].join('\n\n'),
      );
    });
}

export function registerEvalMai(evaluate: Command): void {
  evaluate
    .command('mai')
    .description(
      'Evaluate MAI and every baseline on FashionMT-format test sessions (trains what is missing).',
    )
    .requiredOption('--data <dir>', 'a world from `cir data generate`')
    .option('--encoder <dir>', 'frozen encoder folder (default <data>/encoder)')
    .option(
      '--steps <n>',
      'training steps for variants that are not trained yet',
      integerAtLeast(1),
      DEFAULT_MAI_STEPS,
    )
    .option('--seed <n>', 'seed', integerAtLeast(0), 1)
    .option(
      '--ablations',
      "also the paper's Table 3 (components), Table 5 (memory policies) and Table 6 (CCL terms)",
    )
    .option(
      '--report <dir>',
      'where to write mai-results.json, mai-results.md and the recall plot mai-recall.png (default <data>/reports)',
    )
    .option(
      '--json',
      'print one JSON object: {"results": [{"method", "mean", "combination", "rollback", …}]}',
    )
    .addHelpText(
      'after',
      `
Methods: ${MAI_METHODS.map((method) => method.name).join(', ')}, and the zero-shot text-only, image-only and sum.
Metrics (MAI's FashionMT protocol): final turn only, R@1/5/10/20 for combination and for rollback sessions, and
Mean = the average of the two kinds' means.

Examples:
  cir eval mai --data world
  cir eval mai --data world --ablations --json > ablations.json`,
    )
    .action(async (options: MaiCommandOptions & { ablations?: boolean; report?: string }) => {
      const bar = new ProgressBar(!options.json);
      const prepared = await context(options, bar);
      const comparison = await compareMaiMethods(prepared, { ...options, bar });
      bar.stop();
      const report = await writeMaiReport(
        resolve(options.report ?? join(options.data, 'reports')),
        comparison,
      );
      printResult(
        report.output,
        options,
        () => `${comparison.markdown}\n\nWritten to ${report.files.join(', ')}`,
      );
    });
}

export interface MaiComparison {
  results: MethodResult[];
  ablations?: { table: string; results: MethodResult[] }[];
  markdown: string;
}

/**
 * Trains what is missing and scores MAI, its trained baselines and the zero-shot ones (and, with `ablations`, the
 * paper's Tables 3, 5 and 6) on the test sessions; the Markdown holds one table per group.
 */
export async function compareMaiMethods(
  prepared: MaiContext,
  options: { steps: number; seed: number; ablations?: boolean; bar: ProgressBar },
): Promise<MaiComparison> {
  // Trains (or reuses) each variant, then scores it (or reuses its cached scores).
  const scoreVariants = async (variants: readonly MaiVariant[]): Promise<MethodResult[]> => {
    const scored: MethodResult[] = [];
    for (const variant of variants) {
      const trained = await trainedVariant(prepared, variant, {
        steps: options.steps,
        seed: options.seed,
        onProgress: trainingProgress(options.bar, variant.name),
      });
      scored.push(await evaluateVariant(prepared, trained, variant.description));
    }
    return scored;
  };
  const results = [...(await scoreVariants(MAI_METHODS)), ...(await zeroShotResults(prepared))];
  const ablations: { table: string; results: MethodResult[] }[] = [];
  if (options.ablations) {
    for (const { table, rows } of MAI_ABLATIONS) {
      ablations.push({ table, results: await scoreVariants(rows) });
    }
  }
  const markdown = [
    toMarkdown({
      title: 'FashionMT test, final turn (C = combination, R = rollback)',
      columns: COLUMNS,
      rows: results.map(row),
    }),
    ...ablations.map(({ table, results: tableResults }) =>
      toMarkdown({
        title: table,
        columns: [...COLUMNS, 'memory tokens @3', 'memory tokens @10'],
        rows: tableResults.map((result) => [
          ...row(result),
          result.memoryTokens?.turns3,
          result.memoryTokens?.turns10,
        ]),
      }),
    ),
  ].join('\n\n');
  return { results, ...(options.ablations && { ablations }), markdown };
}

/**
 * Writes `mai-results.json`, `mai-results.md` and `mai-recall.png` (R@K of every method for combination and
 * rollback sessions) to `directory`.
 */
export async function writeMaiReport(
  directory: string,
  comparison: MaiComparison,
): Promise<{ output: object; files: string[] }> {
  const output = {
    results: comparison.results,
    ...(comparison.ablations && { ablations: comparison.ablations }),
    report: directory,
  };
  await mkdir(directory, { recursive: true });
  const files = ['mai-results.json', 'mai-results.md', 'mai-recall.png'].map((file) => join(directory, file));
  await writeJsonAtomic(files[0]!, output);
  await writeFileAtomic(files[1]!, `${comparison.markdown}\n`);
  const recalls = (recall: MethodResult['combination']) =>
    recall ? [recall.recallAt1, recall.recallAt5, recall.recallAt10, recall.recallAt20] : [];
  await writeLinePlotPng(
    files[2]!,
    comparison.results.flatMap((result) => [
      { name: `${result.method} (combination)`, values: recalls(result.combination) },
      { name: `${result.method} (rollback)`, values: recalls(result.rollback) },
    ]),
    {
      title: 'FashionMT test, final turn: R@K (K = 1, 5, 10, 20)',
      xTitle: 'K index (0 = R@1, 1 = R@5, 2 = R@10, 3 = R@20)',
      yTitle: 'recall (%)',
    },
  );
  return { output, files };
}
