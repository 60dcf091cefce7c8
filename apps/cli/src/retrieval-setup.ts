import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RetrieverProvider } from '@cir/index';
import { maiRetrieverProvider } from '@cir/models-mai';
import type { CollectionRegistry } from '@cir/server';
import type { Command } from 'commander';
import { DEFAULT_DEMO_DIRECTORY, type DemoManifest, readDemoManifest } from './commands/demo';
import { CliError } from './output';
import type { ProgressBar } from './progress';

/** Where collections are kept when neither --data-dir nor --demo says. */
export const DEFAULT_DATA_DIRECTORY = 'cir-data';

/** The name of the collection `--demo` serves and queries. */
export const DEMO_COLLECTION = 'demo';

/** Options shared by `serve`, `index` and `query`: where collections live and which models answer. */
export interface RetrievalOptions {
  dataDir?: string;
  encoder?: string;
  model?: string;
  demo?: boolean;
  demoDir: string;
}

/** Adds the shared options to a command. */
export function retrievalOptions(command: Command): Command {
  return demoOptions(
    dataDirOption(command)
      .option('--encoder <dir>', 'mini encoder folder (`cir train encoder` writes one)')
      .option(
        '--model <dir>',
        'trained MAI model folder; without it the zero-shot "sum" method is the default',
      ),
  );
}

/** Adds the options that say where collections are (no model): --data-dir, --demo, --demo-dir. */
export function collectionOptions(command: Command): Command {
  return demoOptions(dataDirOption(command));
}

function dataDirOption(command: Command): Command {
  return command.option(
    '--data-dir <dir>',
    `where collections are kept (default ./${DEFAULT_DATA_DIRECTORY}, or <demo-dir>/server with --demo)`,
  );
}

function demoOptions(command: Command): Command {
  return command
    .option('--demo', 'use what `cir demo` built: its encoder, its MAI model and the "demo" collection')
    .option('--demo-dir <dir>', 'the folder `cir demo --out` wrote', DEFAULT_DEMO_DIRECTORY);
}

export interface RetrievalSetup {
  provider: RetrieverProvider;
  dataDir: string;
  demo?: DemoManifest;
}

/**
 * Loads the provider (encoder + optional MAI model) the options name, with errors that say what to run.
 * @param turnWorker whether MAI collections compute turns in a worker thread as well (for a server under load;
 *   one-shot commands gain nothing from it)
 */
export async function retrievalSetup(
  options: RetrievalOptions,
  { turnWorker = false }: { turnWorker?: boolean } = {},
): Promise<RetrievalSetup> {
  const demo = await demoOf(options);
  const encoderDirectory = options.encoder ?? demo?.encoder;
  if (!encoderDirectory) {
    throw new CliError('give --encoder <dir> (a mini encoder folder), or --demo after `cir demo`', 2);
  }
  const modelDirectory = options.model ?? demo?.model;
  for (const [what, directory] of [
    ['encoder', encoderDirectory],
    ['model', modelDirectory],
  ] as const) {
    if (directory && !existsSync(directory))
      throw new CliError(`${what} folder ${resolve(directory)} does not exist`, 2);
  }
  const provider = await maiRetrieverProvider({
    encoderDirectory: resolve(encoderDirectory),
    ...(modelDirectory && { modelDirectory: resolve(modelDirectory) }),
    turnWorker,
  });
  return { provider, dataDir: dataDirectoryOf(options, demo), ...(demo && { demo }) };
}

/** The finished demo that `--demo` names (undefined without it); an unfinished one is a usage error saying what to run. */
export async function demoOf(
  options: Pick<RetrievalOptions, 'demo' | 'demoDir'>,
): Promise<DemoManifest | undefined> {
  if (!options.demo) return undefined;
  const demo = await readDemoManifest(options.demoDir);
  if (!demo) {
    throw new CliError(
      `${resolve(options.demoDir)} holds no finished demo: run \`cir demo${options.demoDir === DEFAULT_DEMO_DIRECTORY ? '' : ` --out ${options.demoDir}`}\` first (or \`cir demo --quick\`).`,
      2,
    );
  }
  return demo;
}

/** Where collections are kept: --data-dir, else the demo's `<world>/server` (with --demo), else ./cir-data. */
export function dataDirectoryOf(options: Pick<RetrievalOptions, 'dataDir'>, demo?: DemoManifest): string {
  return resolve(options.dataDir ?? (demo ? join(demo.world, 'server') : DEFAULT_DATA_DIRECTORY));
}

/** Builds the demo collection from the demo's catalog when the data folder does not hold it yet. */
export async function ensureDemoCollection(
  registry: CollectionRegistry,
  demo: DemoManifest,
  say: (line: string) => void,
): Promise<void> {
  if (registry.list().some((collection) => collection.name === DEMO_COLLECTION)) return;
  say(`building the "${DEMO_COLLECTION}" collection from ${demo.world} (once; it is kept on disk)`);
  await registry.createFromCatalog({ name: DEMO_COLLECTION, catalog: demo.world });
  await registry.whenIdle(DEMO_COLLECTION);
  const record = registry.record(DEMO_COLLECTION);
  if (record.status !== 'ready') throw new CliError(`building the demo collection failed: ${record.error}`);
}

/** A progress callback for collection builds. */
export function buildProgress(bar: ProgressBar) {
  return (name: string, done: number, total: number) => bar.update(`encode ${name}`, done, total);
}
