import {
  DATASET_FORMATS,
  type DatasetFormat,
  DatasetFormatError,
  type DatasetReport,
  datasetStats,
  describeLocation,
  type LoadMode,
  type RecordIssue,
  type StatsDetails,
} from '@cir/datasets';
import type { Command } from 'commander';
import { CliError, printResult } from '../output';
import { registerDataGenerate } from './data-generate';

interface DataOptions {
  format: string;
  split?: string;
  category?: string;
  skipInvalid?: boolean;
  json?: boolean;
}

/** How many warnings (and, for stats, invalid records) the pretty output lists before "… and N more". */
const SHOWN_ISSUES = 5;

const FORMATS_HELP = `
Formats and PATH:
  fashioniq     FashionIQ folder (captions/, image_splits/) or one cap.<category>.<split>.json
                --split train|val|test (default val), --category dress|shirt|toptee (default: all, summed)
  cirr          CIRR folder (captions/, image_splits/) or one cap.rc2.<split>.json
                --split train|val|test1 (default val); images = keys of image_splits/split.rc2.<split>.json
  shoes         Shoes folder (relative_captions_shoes.json, train_im_names.txt, eval_im_names.txt) or the
                captions file; --split train|eval counts the triplets whose two images are in that list
  mt-fashioniq  multi-turn FashionIQ folder (data/, image_splits/) or one data/<category>.<split>.json
                --split train|val (default val), --category as for fashioniq
  fashionmt     a FashionMT *_cap.json (images: the sibling *_index_names.txt when present)
  mtcir         an MTCIR .jsonl file
  chatir        a ChatIR dialog file (malformed "question? answer" rounds are warnings)
  pairs         image-caption pairs: .jsonl, .csv or .tsv`;

/** `cir data …`: generate, inspect and validate data sets. */
export function registerData(program: Command): void {
  const data = program
    .command('data')
    .description('Generate the synthetic world, and inspect or validate benchmark files (stats, validate).');
  registerDataGenerate(data);

  withDataOptions(data.command('stats'))
    .description('Count the records, images, invalid records and warnings of a data set.')
    .option('--skip-invalid', 'count invalid records instead of stopping at the first one')
    .addHelpText(
      'after',
      `${FORMATS_HELP}

Examples:
  cir data stats --format cirr ../shared/benchmarks/cirr
  cir data stats --format fashioniq ../shared/benchmarks/fashion-iq --category dress --json
  cir data stats --format pairs captions.csv --skip-invalid`,
    )
    .action(async (path: string, options: DataOptions) => {
      const report = await loadReport(path, options, options.skipInvalid ? 'skip' : 'strict');
      printResult(summarize(report), options, () => describeReport(report, SHOWN_ISSUES));
    });

  withDataOptions(data.command('validate'))
    .description('List every invalid record of a data set; exits 1 when there is one (warnings do not fail).')
    .addHelpText(
      'after',
      `${FORMATS_HELP}

Examples:
  cir data validate --format chatir ../shared/benchmarks/chatir/dialogues/ChatGPT_BLIP2.json
  cir data validate --format mtcir pairs.jsonl --json | jq '.invalidRecords[].message'`,
    )
    .action(async (path: string, options: DataOptions) => {
      const report = await loadReport(path, options, 'skip');
      printResult({ ...summarize(report), invalidRecords: report.issues.invalid }, options, () =>
        describeReport(report, Number.POSITIVE_INFINITY),
      );
      if (report.invalid > 0) {
        throw new CliError(
          `${report.invalid} invalid record${report.invalid === 1 ? '' : 's'} in ${report.file}`,
        );
      }
    });
}

function withDataOptions(command: Command): Command {
  return command
    .argument('<path>', 'data set folder or file (see the formats below)')
    .requiredOption('--format <format>', `data set format: ${DATASET_FORMATS.join(', ')}`)
    .option('--split <split>', 'split of a data set folder')
    .option('--category <category>', 'FashionIQ category of a data set folder')
    .option('--json', 'print one JSON object');
}

/** Runs `datasetStats`, turning its errors into one-line CLI errors: bad files exit 1, bad options exit 2. */
async function loadReport(path: string, options: DataOptions, mode: LoadMode): Promise<DatasetReport> {
  if (!(DATASET_FORMATS as readonly string[]).includes(options.format)) {
    throw new CliError(`Unknown format "${options.format}". Available: ${DATASET_FORMATS.join(', ')}.`, 2);
  }
  try {
    return await datasetStats(options.format as DatasetFormat, path, {
      split: options.split,
      category: options.category,
      mode,
    });
  } catch (error) {
    if (error instanceof DatasetFormatError) {
      const recordError = mode === 'strict' && error.location !== undefined;
      throw new CliError(`${error.message}${recordError ? ' (--skip-invalid counts such records)' : ''}`);
    }
    if (error instanceof RangeError) throw new CliError(error.message, 2);
    throw error;
  }
}

function summarize(report: DatasetReport): Omit<DatasetReport, 'issues'> {
  const { issues: _issues, ...summary } = report;
  return summary;
}

/** Counts, details, then the invalid records (up to `invalidShown`) and the first warnings, one per line. */
function describeReport(report: DatasetReport, invalidShown: number): string {
  const lines = [
    `${report.format} ${report.file}`,
    `  records ${report.records}, images ${report.images}, invalid ${report.invalid}, warnings ${report.warnings}`,
    ...describeDetails(report.details ?? {}, '  '),
    ...describeIssues('invalid records', report.issues.invalid, invalidShown),
    ...describeIssues('warnings', report.issues.warnings, SHOWN_ISSUES),
  ];
  return lines.join('\n');
}

function describeDetails(details: StatsDetails, indent: string): string[] {
  return Object.entries(details).flatMap(([key, value]) => {
    if (typeof value === 'number') return [`${indent}${key} ${value}`];
    const entries = Object.entries(value);
    if (entries.every(([, inner]) => typeof inner === 'number')) {
      return [`${indent}${key}: ${entries.map(([name, inner]) => `${name} ${inner}`).join(', ')}`];
    }
    return [`${indent}${key}:`, ...describeDetails(value, `${indent}  `)];
  });
}

function describeIssues(title: string, issues: RecordIssue[], shown: number): string[] {
  if (issues.length === 0) return [];
  const listed = issues
    .slice(0, shown)
    .map((issue) => `  ${issue.file}${describeLocation(issue.location)}: ${issue.message}`);
  const more = issues.length > shown ? [`  … and ${issues.length - shown} more`] : [];
  return [`${title}:`, ...listed, ...more];
}
