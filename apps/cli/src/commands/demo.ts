import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeJsonAtomic } from '@cir/core-tensor';
import { generateWorld } from '@cir/datasets';
import { trainMiniClip } from '@cir/encoders';
import { DEFAULT_MAI_STEPS, MAI_METHODS, prepareMaiContext, variantDirectory } from '@cir/models-mai';
import type { Command } from 'commander';
import { CliError, integerAtLeast, printResult } from '../output';
import { ProgressBar } from '../progress';
import { compareMaiMethods, writeMaiReport } from './mai';

/** Sizes of the full demo and of `--quick`. */
export const DEMO_SIZES = {
  full: { images: 10_000, transactions: 5000, encoderEpochs: 3, steps: DEFAULT_MAI_STEPS },
  quick: { images: 2000, transactions: 1000, encoderEpochs: 3, steps: 60 },
} as const;

/** Where `cir demo` puts things by default, and what `cir serve --demo` reads. */
export const DEFAULT_DEMO_DIRECTORY = 'cir-demo';

/** `<demo>/demo.json`: what the demo built, for `cir serve --demo` and `cir query`. */
export interface DemoManifest {
  world: string;
  encoder: string;
  /** The trained MAI model folder served by default. */
  model: string;
  report: string;
  quick: boolean;
}

/**
 * The manifest a finished `cir demo` wrote into `directory` (undefined when there is none).
 * @throws naming the file when it is not JSON or lacks the folders it must name
 */
export async function readDemoManifest(directory: string): Promise<DemoManifest | undefined> {
  const file = join(resolve(directory), 'demo.json');
  if (!existsSync(file)) return undefined;
  let manifest: Partial<DemoManifest>;
  try {
    manifest = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new CliError(`${file}: not a demo manifest (${(error as Error).message}); run \`cir demo\` again`);
  }
  for (const key of ['world', 'encoder'] as const) {
    if (typeof manifest?.[key] !== 'string' || manifest[key] === '') {
      throw new CliError(`${file}: "${key}" is missing (a folder path); run \`cir demo\` again`);
    }
  }
  return manifest as DemoManifest;
}

interface DemoOptions {
  out: string;
  quick?: boolean;
  seed: number;
  steps?: number;
  json?: boolean;
}

/** Writes the world unless the folder already holds one made with the same sizes and seed. */
async function ensureWorld(
  directory: string,
  sizes: { images: number; transactions: number },
  seed: number,
  bar: ProgressBar,
): Promise<'generated' | 'reused'> {
  const manifestFile = join(directory, 'manifest.json');
  if (existsSync(manifestFile)) {
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as {
      images: number;
      seed: number;
      transactions: { train: number; test: number };
    };
    const transactions = manifest.transactions.train + manifest.transactions.test;
    if (manifest.images === sizes.images && manifest.seed === seed && transactions === sizes.transactions) {
      return 'reused';
    }
  }
  await generateWorld({
    outDir: directory,
    images: sizes.images,
    transactions: sizes.transactions,
    seed,
    onProgress: (stage, done, total) => bar.update(`world: ${stage}`, done, total),
  });
  return 'generated';
}

/** `cir demo`: the whole pipeline on the synthetic world, ending with the results table. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'See it work: generate the synthetic shop → train the mini encoder → cache features → train MAI and its ' +
        'baselines → evaluate them with the FashionMT protocol → print the table, write the report and a plot.',
    )
    .option(
      '--out <dir>',
      'folder for everything the demo makes (reused by a second run)',
      DEFAULT_DEMO_DIRECTORY,
    )
    .option(
      '--quick',
      `a smaller run (${DEMO_SIZES.quick.images} pictures, ${DEMO_SIZES.quick.transactions} sessions, ${DEMO_SIZES.quick.steps} MAI steps)`,
    )
    .option(
      '--steps <n>',
      'MAI training steps per method (default: 150, or 60 with --quick)',
      integerAtLeast(1),
    )
    .option('--seed <n>', 'seed of the world and of training', integerAtLeast(0), 1)
    .option('--json', 'print one JSON object (results and file paths), no progress bars')
    .addHelpText(
      'after',
      `
Every stage is reused when its output exists, and training resumes after an interruption: run the same command
again. The full demo takes roughly 4–12 minutes on 2 CPU cores, depending on the machine; --quick about 3.

Then:
  cir serve --demo          the web page over the demo catalog, MAI answering (http://127.0.0.1:8080)
  cir query --demo --reference <id> --text "is red" --text "1. has long sleeves"

Examples:
  cir demo
  cir demo --quick --out /tmp/demo --json | jq '.results[] | {method, mean}'`,
    )
    .action(async (options: DemoOptions) => {
      const started = performance.now();
      const sizes = options.quick ? DEMO_SIZES.quick : DEMO_SIZES.full;
      const steps = options.steps ?? sizes.steps;
      const directory = resolve(options.out);
      const bar = new ProgressBar(!options.json);
      const say = (line: string) => {
        if (!options.json) {
          bar.stop();
          process.stderr.write(`${line}\n`);
        }
      };
      say(`1/5 synthetic world → ${directory}`);
      const world = await ensureWorld(directory, sizes, options.seed, bar);
      if (world === 'reused') say('    reused the existing world');
      const encoderDirectory = join(directory, 'encoder');
      say(`2/5 mini encoder → ${encoderDirectory}`);
      if (existsSync(join(encoderDirectory, 'config.json'))) {
        say('    reused the trained encoder');
      } else {
        await trainMiniClip({
          pairsFile: join(directory, 'captions.jsonl'),
          outDirectory: encoderDirectory,
          epochs: sizes.encoderEpochs,
          seed: options.seed,
          onProgress: (progress) =>
            bar.update('encoder', progress.step, progress.totalSteps, `loss ${progress.loss.toFixed(3)}`),
        });
      }
      say('3/5 features of the catalog and the modification texts (cached)');
      const prepared = await prepareMaiContext({
        dataDirectory: directory,
        encoderDirectory,
        onProgress: (stage, done, total) => bar.update(stage, done, total),
      });
      say(
        `4/5 training ${MAI_METHODS.map((method) => method.name).join(', ')} (${steps} steps each) and evaluating`,
      );
      const comparison = await compareMaiMethods(prepared, { steps, seed: options.seed, bar });
      bar.stop();
      say('5/5 report');
      const report = await writeMaiReport(join(directory, 'reports'), comparison);
      const manifest: DemoManifest = {
        world: directory,
        encoder: encoderDirectory,
        model: variantDirectory(prepared, MAI_METHODS[0]!.config, steps, options.seed),
        report: join(directory, 'reports'),
        quick: Boolean(options.quick),
      };
      await writeJsonAtomic(join(directory, 'demo.json'), manifest);
      const seconds = (performance.now() - started) / 1000;
      printResult({ ...report.output, demo: manifest, seconds }, options, () =>
        [
          comparison.markdown,
          `Report: ${report.files.join(', ')}`,
          `Done in ${Math.round(seconds)} s. Next: \`cir serve --demo${options.out === DEFAULT_DEMO_DIRECTORY ? '' : ` --demo-dir ${options.out}`}\` and open the printed address.`,
        ].join('\n\n'),
      );
    });
}
