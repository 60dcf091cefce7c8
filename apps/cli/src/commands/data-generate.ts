import { join, resolve } from 'node:path';
import {
  generateWorld,
  type IdentificationRates,
  LlamaCppParaphraser,
  OpenAiCompatibleParaphraser,
  type Paraphraser,
  WORLD_FOLDERS,
  WORLD_STAGES,
  type WorldFormat,
  type WorldStage,
  type WorldSummary,
} from '@cir/datasets';
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { CliError, integerAtLeast, printResult } from '../output';

interface GenerateOptions {
  out: string;
  images: number;
  transactions: number;
  turns: number;
  seed: number;
  imageSize: number;
  paraphraseEndpoint?: string;
  paraphraseModel?: string;
  paraphraseGguf?: string;
  json?: boolean;
}

/** `cir data generate`: the synthetic world, every benchmark format and the MGF transactions. */
export function registerDataGenerate(data: Command): void {
  data
    .command('generate')
    .description(
      'Generate the synthetic world: a seeded catalog rendered to PNG pictures with captions, multi-turn ' +
        "transactions built with MAI's Modification Generation Framework (rollback and combination last turns), " +
        'and every benchmark format written from them (FashionMT, FashionIQ, CIRR, Shoes, multi-turn FashionIQ, ' +
        'MTCIR, ChatIR). The same options write byte-identical files.',
    )
    .requiredOption('--out <dir>', 'folder to write the world to')
    .option('--images <n>', 'catalog products, one picture each', integerAtLeast(1), 10_000)
    .option(
      '--transactions <n>',
      'multi-turn transactions, 80 % train and 20 % test',
      integerAtLeast(0),
      5000,
    )
    .option(
      '--turns <n>',
      'modification texts per transaction, 2 to 4 (FashionMT needs 3)',
      integerAtLeast(2),
      3,
    )
    .option('--seed <n>', 'random seed', integerAtLeast(0), 1)
    .option('--image-size <px>', 'picture side in pixels', integerAtLeast(8), 64)
    .option(
      '--paraphrase-endpoint <url>',
      'reword the texts with an OpenAI-compatible API (key from CIR_LLM_API_KEY)',
    )
    .option('--paraphrase-model <name>', 'model for --paraphrase-endpoint')
    .option(
      '--paraphrase-gguf <file>',
      'reword the texts with a local GGUF model (needs node-llama-cpp installed)',
    )
    .option('--json', 'print the summary as one JSON object (no progress bars)')
    .addHelpText(
      'after',
      `
Writes under --out: images/, captions.jsonl, ${Object.values(WORLD_FOLDERS).join('/, ')}/,
catalog.json, transactions.json (kind, images, rollback turn, kept attributes per transaction),
history-report.json and manifest.json.

Examples:
  cir data generate --out world                                 # 10,000 pictures, 5,000 transactions
  cir data generate --out small --images 1000 --transactions 200 --image-size 32
  cir data generate --out world --json | jq .historyReport
  cir data generate --out world --paraphrase-endpoint http://127.0.0.1:8080/v1 --paraphrase-model qwen2.5-1.5b`,
    )
    .action(async (options: GenerateOptions) => {
      const paraphraser = await createParaphraser(options);
      const outDir = resolve(options.out);
      const bars = options.json || !process.stderr.isTTY ? undefined : new StageBars();
      let summary: WorldSummary;
      try {
        summary = await generateWorld({
          outDir,
          images: options.images,
          transactions: options.transactions,
          turns: options.turns,
          seed: options.seed,
          imageSize: options.imageSize,
          paraphraser,
          onProgress: bars && ((stage, done, total) => bars.update(stage, done, total)),
        });
      } catch (error) {
        // Options the catalog or the generator cannot satisfy (too many pictures for the categories, 5 turns).
        if (error instanceof RangeError) throw new CliError(error.message, 2);
        throw error;
      } finally {
        bars?.stop();
      }
      printResult(summary, options, () => describeSummary(summary));
    });
}

/**
 * The paraphraser the options ask for, tried once on a short text so that a missing package, model file or
 * endpoint stops the run before thousands of pictures are rendered.
 */
async function createParaphraser(options: GenerateOptions): Promise<Paraphraser | undefined> {
  if (options.paraphraseEndpoint && options.paraphraseGguf) {
    throw new CliError('Use one of --paraphrase-endpoint and --paraphrase-gguf, not both.', 2);
  }
  if (options.paraphraseEndpoint && !options.paraphraseModel) {
    throw new CliError('--paraphrase-endpoint needs --paraphrase-model.', 2);
  }
  if (options.paraphraseModel && !options.paraphraseEndpoint) {
    throw new CliError('--paraphrase-model names the model of --paraphrase-endpoint: give both.', 2);
  }
  try {
    let paraphraser: Paraphraser;
    if (options.paraphraseEndpoint) {
      paraphraser = new OpenAiCompatibleParaphraser({
        baseUrl: options.paraphraseEndpoint,
        model: options.paraphraseModel!,
        apiKey: process.env.CIR_LLM_API_KEY,
      });
    } else if (options.paraphraseGguf) {
      paraphraser = new LlamaCppParaphraser({ modelPath: resolve(options.paraphraseGguf) });
    } else {
      return undefined;
    }
    await paraphraser.paraphrase('1. is red ');
    return paraphraser;
  } catch (error) {
    throw new CliError(`The paraphraser does not work: ${(error as Error).message}`, 2);
  }
}

/** One cli-progress bar per stage on stderr, each added when its stage first reports. */
class StageBars {
  private readonly multiBar = new MultiBar(
    {
      stream: process.stderr,
      format: ' {stage} |{bar}| {value}/{total}  {duration_formatted}',
      hideCursor: true,
      clearOnComplete: false,
    },
    Presets.shades_classic,
  );
  private readonly bars = new Map<WorldStage, SingleBar>();

  update(stage: WorldStage, done: number, total: number): void {
    let bar = this.bars.get(stage);
    if (!bar) {
      bar = this.multiBar.create(total, 0, { stage: stage.padEnd(12) });
      this.bars.set(stage, bar);
    }
    bar.setTotal(total);
    bar.update(done);
  }

  stop(): void {
    this.multiBar.stop();
  }
}

function seconds(milliseconds: number): string {
  return `${(milliseconds / 1000).toFixed(1)} s`;
}

function percent(rate: number): string {
  return `${(rate * 100).toFixed(1)} %`;
}

function describeSummary(summary: WorldSummary): string {
  const total = WORLD_STAGES.reduce((sum, stage) => sum + summary.timings[stage], 0);
  const { transactions, products } = summary;
  const stageDetails: Record<WorldStage, string> = {
    catalog: `${summary.images} products (${products.train} train, ${products.test} test)`,
    render: `${summary.images} pictures of ${summary.imageSize} px and captions.jsonl`,
    transactions:
      `${transactions.train + transactions.test} of ${summary.turns} turns (${transactions.train} train, ` +
      `${transactions.test} test; ${transactions.rollback} rollback, ${transactions.combination} combination)`,
    paraphrase:
      summary.paraphraser === 'template'
        ? 'template texts'
        : `${summary.paraphraser}, ${summary.paraphraseFallbacks} rewordings rejected for losing the structure`,
    formats: `${Object.keys(WORLD_FOLDERS).length - summary.skipped.length} formats`,
    report: 'catalog.json, transactions.json, history-report.json, manifest.json',
  };
  const rates = (name: string, entry: IdentificationRates) =>
    `  ${name.padEnd(12)} last turn only ${percent(entry.lastTurnOnlyRate).padStart(7)}   full history ` +
    `${percent(entry.fullHistoryRate).padStart(7)}   (${entry.count} transactions)`;
  return [
    `Generated a synthetic world in ${summary.outDir} (seed ${summary.seed}) in ${seconds(total)}`,
    ...WORLD_STAGES.map(
      (stage) =>
        `  ${stage.padEnd(13)}${seconds(summary.timings[stage]).padStart(8)}  ${stageDetails[stage]}`,
    ),
    'Final targets an attribute oracle identifies:',
    rates('rollback', summary.historyReport.rollback),
    rates('combination', summary.historyReport.combination),
    'Formats:',
    ...(Object.keys(WORLD_FOLDERS) as WorldFormat[]).map((format) => {
      const skip = summary.skipped.find((entry) => entry.format === format);
      const where = skip ? `skipped: ${skip.reason}` : join(summary.outDir, WORLD_FOLDERS[format]);
      return `  ${format.padEnd(20)}${where}`;
    }),
  ].join('\n');
}
