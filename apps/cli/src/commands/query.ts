import { createInterface } from 'node:readline/promises';
import type { RetrievalSession, TurnResult } from '@cir/index';
import { type CollectionItem, CollectionRegistry, filterCatalog } from '@cir/server';
import type { Command } from 'commander';
import { CliError, integerAtLeast, printResult } from '../output';
import { ProgressBar } from '../progress';
import {
  buildProgress,
  DEMO_COLLECTION,
  ensureDemoCollection,
  type RetrievalOptions,
  retrievalOptions,
  retrievalSetup,
} from '../retrieval-setup';

interface QueryOptions extends RetrievalOptions {
  collection?: string;
  reference?: string;
  text?: string[];
  limit: number;
  interactive?: boolean;
  json?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function formatTurn(result: TurnResult, captions: ReadonlyMap<string, string | undefined>): string {
  const back = result.returnedTo
    ? ` (back to ${result.returnedTo}: ${captions.get(result.returnedTo) ?? ''})`
    : '';
  return [
    `turn ${result.turn}${back}:`,
    ...result.results.map(
      (hit, rank) =>
        `  ${String(rank + 1).padStart(2)}. ${hit.id.padEnd(14)} ${hit.score.toFixed(3)}  ${captions.get(hit.id) ?? ''}`,
    ),
  ].join('\n');
}

/** The interactive commands that take an argument: a bare one is a mistake, not a modification text. */
const COMMAND_USAGE = {
  find: 'find <words> (items whose id or caption has words starting with them)',
  ref: 'ref <id> (the item the next turn starts from)',
  back: 'back <turn> (forget the later turns)',
} as const;

/** The hint that follows "no item …": how to find an id. */
const FIND_HINT = 'find ids with `cir index items --find <words>`';

/** Reads commands from the terminal: text → a turn; `find <words>`; `ref <id>`; `back <turn>`; `history`; `quit`. */
async function interactive(
  session: RetrievalSession,
  items: readonly CollectionItem[],
  captions: ReadonlyMap<string, string | undefined>,
  options: { reference?: string; limit: number },
): Promise<void> {
  const terminal = createInterface({ input: process.stdin, output: process.stderr });
  let reference = options.reference;
  process.stderr.write(
    'Type a modification ("is red", "go back to the first one, in blue") to search. Commands: find <words>, ' +
      'ref <id>, back <turn>, history, quit.\n',
  );
  const prompt = () => {
    terminal.setPrompt(reference ? `[${reference}] > ` : '> ');
    terminal.prompt();
  };
  prompt();
  // The line iterator keeps the lines that arrive while a turn runs (piped input), where question() dropped them.
  for await (const input of terminal) {
    const line = input.trim();
    if (line === 'quit' || line === 'exit') break;
    if (line === '') {
      prompt();
      continue;
    }
    try {
      const [command, argument] = line.split(/\s+/, 2);
      const usage = COMMAND_USAGE[command as keyof typeof COMMAND_USAGE];
      if (usage && !argument) throw new Error(`usage: ${usage}`);
      if (command === 'find' && argument) {
        const words = line.slice('find'.length).trim();
        const found = filterCatalog(items, words);
        process.stdout.write(
          `${found.length} items match "${words}"${found.length > options.limit ? `, the first ${options.limit}` : ''}${found.length > 0 ? ' (ref <id> starts from one):' : ''}\n`,
        );
        for (const item of found.slice(0, options.limit))
          process.stdout.write(`  ${item.id.padEnd(14)} ${item.caption ?? ''}\n`);
      } else if (command === 'ref' && argument) {
        if (!captions.has(argument))
          throw new Error(`no item "${argument}" in this collection: try find <words>`);
        reference = argument;
      } else if (command === 'back' && argument) {
        if (!/^\d+$/.test(argument))
          throw new Error(`usage: ${COMMAND_USAGE.back}; "${argument}" is not a turn number`);
        await session.rollback(Number(argument));
        process.stderr.write(`rolled back to turn ${argument}\n`);
        reference = undefined;
      } else if (command === 'history') {
        for (const turn of session.history())
          process.stdout.write(`  ${turn.turn}. [${turn.referenceId ?? 'previous best'}] ${turn.text}\n`);
      } else {
        const result = await session.turn({
          ...(reference && { referenceId: reference }),
          text: line,
          limit: options.limit,
        });
        process.stdout.write(`${formatTurn(result, captions)}\n`);
        reference = undefined;
      }
    } catch (error) {
      process.stderr.write(`error: ${(error as Error).message}\n`);
    }
    prompt();
  }
  terminal.close();
}

/** `cir query` (and `cir index query`): one-shot and multi-turn queries against a collection, from the terminal. */
export function registerQuery(parent: Command): void {
  retrievalOptions(
    parent
      .command('query')
      .description(
        'Query a collection from the terminal: one turn, several turns (repeat --text), or --interactive. ' +
          'Later turns start from the previous best result unless a reference is given.',
      ),
  )
    .option('--collection <name>', 'collection to query (default "demo" with --demo)')
    .option('--reference <id>', 'the item the first turn starts from (required without --interactive)')
    .option('--text <text>', 'a modification text; repeat for later turns', collect)
    .option('--limit <n>', 'results per turn', integerAtLeast(1), 10)
    .option(
      '--interactive',
      'read turns from the terminal (find <words>, ref <id>, back <turn>, history, quit)',
    )
    .option(
      '--json',
      'print one JSON object: {collection, method, reference, turns: [{turn, text, returnedTo?, results: [{id, score, caption}]}]}',
    )
    .addHelpText(
      'after',
      `
With the mai method, a text can return to an earlier item of the session ("go back to the second one, with long
sleeves", "back to the previous one, in red", "back to turn 2", or MAI's template "I prefer the SECOND, and 1. …")
or keep what an earlier one had ("in blue, but keep the pattern of the first one", or "1. is blue 2. keep the
pattern in the first turn"); the baselines read every text as a plain change. --interactive's "back <turn>" forgets
the later turns of the session instead.

Examples:
  cir index items --demo --find "floral shirt"      (an id to start from)
  cir query --demo --reference shirt-000042 --text "is red" --text "go back to the first one, with long sleeves"
  cir query --demo --interactive --reference shirt-000042
  cir query --data-dir shop-data --encoder world/encoder --collection shop --reference sku-1 --text "in blue" --json`,
    )
    .action(async (options: QueryOptions) => {
      const setup = await retrievalSetup(options);
      const name = options.collection ?? (setup.demo ? DEMO_COLLECTION : undefined);
      if (!name) throw new CliError('give --collection <name> (or --demo)', 2);
      const bar = new ProgressBar(!options.json);
      const registry = await CollectionRegistry.open({
        dataDir: setup.dataDir,
        provider: setup.provider,
        onBuildProgress: buildProgress(bar),
      });
      if (setup.demo && name === DEMO_COLLECTION) {
        await ensureDemoCollection(registry, setup.demo, (line) => {
          if (!options.json) process.stderr.write(`${line}\n`);
        });
        bar.stop();
      }
      const known = registry.list().map((collection) => collection.name);
      if (!known.includes(name)) {
        throw new CliError(
          `no collection "${name}" in ${setup.dataDir} (it has: ${known.join(', ') || 'none'}); build one with \`cir index build\``,
          2,
        );
      }
      const served = registry.servedForSession(name);
      const captions = new Map(served.items.map((item) => [item.id, item.caption]));
      const session = served.retriever.openSession();
      const texts = options.text ?? [];
      if (options.interactive && (texts.length > 0 || options.json)) {
        throw new CliError('--interactive reads its turns from the terminal: drop --text and --json', 2);
      }
      if (texts.some((text) => text.trim() === ''))
        throw new CliError('--text is empty: describe a change', 2);
      if (options.reference && !captions.has(options.reference)) {
        throw new CliError(`no item "${options.reference}" in collection "${name}": ${FIND_HINT}`, 2);
      }
      if (options.interactive) return interactive(session, served.items, captions, options);
      if (texts.length === 0) throw new CliError('give at least one --text (or --interactive)', 2);
      if (!options.reference)
        throw new CliError('give --reference <id>: the item the first turn starts from', 2);
      const turns: (TurnResult & { text: string })[] = [];
      for (const [index, text] of texts.entries()) {
        const result = await session.turn({
          ...(index === 0 && { referenceId: options.reference }),
          text,
          limit: options.limit,
        });
        turns.push({ ...result, text });
      }
      printResult(
        {
          collection: name,
          method: served.method,
          reference: options.reference,
          turns: turns.map((turn) => ({
            turn: turn.turn,
            text: turn.text,
            ...(turn.returnedTo !== undefined && { returnedTo: turn.returnedTo }),
            results: turn.results.map((hit) => ({ ...hit, caption: captions.get(hit.id) })),
          })),
        },
        options,
        () =>
          [
            `${name} (${served.method}), starting from ${options.reference}: ${captions.get(options.reference!) ?? ''}`,
            ...turns.map((turn) => `"${turn.text}"\n${formatTurn(turn, captions)}`),
          ].join('\n'),
      );
    });
}
