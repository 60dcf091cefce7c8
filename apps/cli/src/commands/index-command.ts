import { resolve } from 'node:path';
import { CollectionRegistry, type StoredCollection } from '@cir/server';
import type { Command } from 'commander';
import { CliError, printResult } from '../output';
import { ProgressBar } from '../progress';
import {
  buildProgress,
  DEFAULT_DATA_DIRECTORY,
  type RetrievalOptions,
  retrievalOptions,
  retrievalSetup,
} from '../retrieval-setup';
import { registerQuery } from './query';

interface BuildOptions extends RetrievalOptions {
  catalog: string;
  name: string;
  method?: string;
  replace?: boolean;
  json?: boolean;
}

/** `cir index …`: build and inspect collections (what `cir serve` and `cir query` answer from). */
export function registerIndex(program: Command): void {
  const index = program
    .command('index')
    .description(
      'Build, list and query collections: a catalog folder encoded by a method into a searchable index.',
    );
  retrievalOptions(
    index
      .command('build')
      .description(
        'Encode a catalog folder (images at its top level or under images/, captions from captions.jsonl) ' +
          'into a collection under --data-dir. A rebuild swaps in atomically: a crash leaves the previous one.',
      ),
  )
    .requiredOption('--catalog <dir>', 'catalog folder (a world from `cir data generate` is one)')
    .requiredOption('--name <name>', 'collection name (lower-case letters, digits, - and _)')
    .option('--method <name>', 'retrieval method (default: mai with --model, else sum)')
    .option('--replace', 'rebuild an existing collection')
    .option('--json', 'print the collection record as JSON')
    .addHelpText(
      'after',
      `
Examples:
  cir index build --demo --catalog cir-demo --name shop
  cir index build --encoder world/encoder --model my-mai --catalog world --name shop --data-dir shop-data`,
    )
    .action(async (options: BuildOptions) => {
      const setup = await retrievalSetup(options);
      const bar = new ProgressBar(!options.json);
      const registry = await CollectionRegistry.open({
        dataDir: setup.dataDir,
        provider: setup.provider,
        onBuildProgress: buildProgress(bar),
      });
      const started = performance.now();
      try {
        await registry.createFromCatalog({
          name: options.name,
          catalog: resolve(options.catalog),
          ...(options.method && { method: options.method }),
          ...(options.replace && { replace: true }),
        });
      } catch (error) {
        throw new CliError((error as Error).message, 2);
      }
      await registry.whenIdle(options.name);
      bar.stop();
      const record = registry.record(options.name);
      if (record.error) throw new CliError(`building "${options.name}" failed: ${record.error}`);
      const seconds = (performance.now() - started) / 1000;
      printResult(
        { ...record, dataDir: setup.dataDir, seconds },
        options,
        () =>
          `Built "${record.name}": ${record.items} items with ${record.method} in ${seconds.toFixed(1)} s → ${setup.dataDir}`,
      );
    });
  registerQuery(index);
  retrievalOptions(
    index
      .command('list')
      .description(
        'List the collections of --data-dir from their files (no model is loaded). With --encoder or --demo, ' +
          'also load each one and show whether it serves (status ready or failed, with the reason).',
      ),
  )
    .option('--json', 'print {"dataDir", "collections": [{name, method, items, status, builtAt?, error?}]}')
    .action(async (options: RetrievalOptions & { json?: boolean }) => {
      let dataDir: string;
      let collections: (StoredCollection & { status: string })[];
      if (options.encoder || options.demo) {
        const setup = await retrievalSetup(options);
        dataDir = setup.dataDir;
        collections = (await CollectionRegistry.open({ dataDir, provider: setup.provider })).list();
      } else {
        dataDir = resolve(options.dataDir ?? DEFAULT_DATA_DIRECTORY);
        collections = (await CollectionRegistry.readStored(dataDir)).map((stored) => ({
          ...stored,
          status: stored.error ? 'unreadable' : 'stored',
        }));
      }
      printResult({ dataDir, collections }, options, () =>
        collections.length === 0
          ? `no collections in ${dataDir}`
          : collections
              .map(
                (c) =>
                  `${c.name.padEnd(16)} ${String(c.items).padStart(7)} items  ${c.method.padEnd(10)} ${c.status}${c.error ? `  (${c.error})` : ''}`,
              )
              .join('\n'),
      );
    });
}
