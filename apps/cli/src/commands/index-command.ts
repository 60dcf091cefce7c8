import { resolve } from 'node:path';
import {
  type CatalogEntry,
  CollectionRegistry,
  catalogWords,
  filterCatalog,
  readCatalogFolder,
  type StoredCollection,
} from '@cir/server';
import type { Command } from 'commander';
import { CliError, integerAtLeast, printResult } from '../output';
import { ProgressBar } from '../progress';
import {
  buildProgress,
  collectionOptions,
  DEFAULT_DATA_DIRECTORY,
  DEMO_COLLECTION,
  dataDirectoryOf,
  demoOf,
  type RetrievalOptions,
  retrievalOptions,
  retrievalSetup,
} from '../retrieval-setup';
import { registerQuery } from './query';

interface ItemsOptions extends Pick<RetrievalOptions, 'dataDir' | 'demo' | 'demoDir'> {
  collection?: string;
  find?: string;
  offset: number;
  limit: number;
  json?: boolean;
}

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
      if (!options.replace && registry.list().some((collection) => collection.name === options.name)) {
        throw new CliError(
          `collection "${options.name}" already exists in ${setup.dataDir}; add --replace to rebuild it`,
          2,
        );
      }
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
  collectionOptions(
    index
      .command('items')
      .description(
        "List a collection's items, or find them by the words of their id or caption (--find), from its files " +
          '(no model is loaded): the ids that `cir query --reference` starts from.',
      ),
  )
    .option('--collection <name>', 'collection to read (default "demo" with --demo)')
    .option(
      '--find <words>',
      'only the items with, for each word, a word of the id or caption starting with it (case ignored)',
    )
    .option('--offset <n>', 'skip this many items (of those found)', integerAtLeast(0), 0)
    .option('--limit <n>', 'items to print', integerAtLeast(1), 20)
    .option('--json', 'print {collection, dataDir, find?, total, offset, items: [{id, caption?}]}')
    .addHelpText(
      'after',
      `
"red sleev" finds "a red shirt with long sleeves"; "red" does not find "colored"; a --find without letters or digits
lists every item. With --demo, before the demo
collection is first built (by \`cir serve --demo\` or \`cir query --demo\`), the items come from the demo's catalog
folder: the same ids.

Examples:
  cir index items --demo --find "floral dress"
  cir index items --data-dir shop-data --collection shop --offset 100 --limit 50 --json`,
    )
    .action(async (options: ItemsOptions) => {
      const demo = await demoOf(options);
      const dataDir = dataDirectoryOf(options, demo);
      const name = options.collection ?? (demo ? DEMO_COLLECTION : undefined);
      if (!name) throw new CliError('give --collection <name> (or --demo)', 2);
      const items = await storedItems(
        dataDir,
        name,
        demo && name === DEMO_COLLECTION ? demo.world : undefined,
      );
      const found = filterCatalog(items, options.find ?? '');
      const page = found.slice(options.offset, options.offset + options.limit);
      // A --find without letters or digits ("", "-") finds every item: say nothing of it.
      const matching = catalogWords(options.find ?? '').length > 0 ? ` matching "${options.find}"` : '';
      const header =
        found.length === 0
          ? `no item of "${name}"${matching}`
          : page.length === 0
            ? `"${name}": ${found.length} items${matching}, none from --offset ${options.offset}`
            : `"${name}": items ${options.offset + 1}–${options.offset + page.length} of ${found.length}${matching}`;
      printResult(
        {
          collection: name,
          dataDir,
          ...(options.find !== undefined && { find: options.find }),
          total: found.length,
          offset: options.offset,
          items: page.map(({ id, caption }) => ({ id, ...(caption !== undefined && { caption }) })),
        },
        options,
        () => [header, ...page.map((item) => `${item.id.padEnd(14)} ${item.caption ?? ''}`)].join('\n'),
      );
    });
}

/**
 * The items of collection `name` from its files; when it is absent and `catalog` is given (the demo's world, which
 * the demo collection is built from), the pictures of that catalog folder. Otherwise a usage error listing what is
 * there.
 */
async function storedItems(
  dataDir: string,
  name: string,
  catalog?: string,
): Promise<readonly CatalogEntry[]> {
  try {
    return await CollectionRegistry.readStoredItems(dataDir, name);
  } catch (error) {
    // Only now list the data folder (it reads every collection.json): is the collection there but unreadable?
    const stored = await CollectionRegistry.readStored(dataDir);
    if (stored.some((collection) => collection.name === name)) throw error;
    if (catalog) return readCatalogFolder(catalog);
    const known = stored.map((collection) => collection.name).join(', ') || 'none';
    throw new CliError(`no collection "${name}" in ${dataDir} (it has: ${known})`, 2);
  }
}
