import { resolve } from 'node:path';
import { type BenchmarkDefinition, coreTensorBenchmarks, summarizeBenchmark } from '@cir/core-tensor';
import { indexBenchmarks } from '@cir/index';
import { mioBenchmarks } from '@cir/mio';
import { maiBenchmarks } from '@cir/models-mai';
import { type Command, InvalidArgumentError } from 'commander';
import { CliError, printResult } from '../output';
import { DEFAULT_DEMO_DIRECTORY } from './demo';
import {
  hasFinishedDemo,
  readTurnTexts,
  serveLoadBenchmark,
  serveLoadDemoDirectory,
  serveLoadSettings,
} from './serve-load-benchmark';

/** Every benchmark the CLI knows, from the packages that define them. */
export const benchmarks: BenchmarkDefinition[] = [
  ...coreTensorBenchmarks,
  ...mioBenchmarks,
  ...indexBenchmarks,
  ...maiBenchmarks,
  serveLoadBenchmark,
];

function parseNumber(value: string): number {
  // Plain decimal numbers only: Number() alone would also read "0x10", "1e3" and "".
  if (!/^-?\d+(\.\d+)?$/.test(value)) throw new InvalidArgumentError(`"${value}" is not a number.`);
  return Number(value);
}

/** Refuses an option value the benchmark cannot take: each is an integer of at least its `minimum` (default 1). */
function checkOptionValues(definition: BenchmarkDefinition, options: Record<string, unknown>): void {
  for (const option of definition.options) {
    const given = options[option.name];
    const minimum = option.minimum ?? 1;
    if (typeof given === 'number' && (!Number.isInteger(given) || given < minimum)) {
      throw new CliError(
        `--${option.name} ${given}: ${definition.name} takes an integer of at least ${minimum} (${option.description})`,
        2,
      );
    }
  }
}

export function registerBench(program: Command): void {
  // An option several benchmarks take may mean something else in each: its help says what, per benchmark.
  const optionUses = new Map<string, Map<string, string[]>>();
  for (const definition of benchmarks) {
    for (const option of definition.options) {
      const uses = optionUses.get(option.name) ?? new Map<string, string[]>();
      uses.set(option.description, [...(uses.get(option.description) ?? []), definition.name]);
      optionUses.set(option.name, uses);
    }
  }
  const command = program
    .command('bench')
    .argument('[name]', `benchmark to run: ${benchmarks.map((definition) => definition.name).join(', ')}`)
    .description('Run a performance benchmark and print its figures (one JSON object with --json).')
    .option('--all', 'run every benchmark, one line each (serve-load only when a finished demo exists)')
    .option('--json', 'print JSON (one object per benchmark)')
    .option(
      '--demo-dir <dir>',
      `the demo serve-load serves (default $CIR_DEMO_DIR, else ./${DEFAULT_DEMO_DIRECTORY})`,
    )
    .option(
      '--method <name>',
      'the method serve-load serves (default: the demo collection\'s, mai); another one (sum, text-only, image-only) serves the demo catalog as collection "demo-<method>", built on first use and kept',
    )
    .option(
      '--texts <file>',
      "the modification texts serve-load's shoppers send, one a line (default: samples of every kind MAI reads)",
    );
  for (const [name, uses] of optionUses) {
    const description = [...uses].map(([text, names]) => `${text} (${names.join(', ')})`).join('; ');
    command.option(`--${name} <number>`, description, parseNumber);
  }
  command.addHelpText(
    'after',
    `
Benchmarks:
${benchmarks
  .map(
    (definition) =>
      `  ${definition.name.padEnd(10)} ${definition.description}\n${definition.options
        .map((option) => `             --${option.name} ${option.description} (default ${option.default})`)
        .join('\n')}`,
  )
  .join('\n')}

Examples:
  cir bench topk --n 100000 --json
  cir bench attention
  cir bench serve-load --demo-dir cir-demo --pause 1000
  cir bench serve-load --method sum           the zero-shot baseline under the same load
  cir bench serve-load --texts my-texts.txt   your shoppers' modification texts, one a line
  cir bench --all --json > bench.jsonl`,
  );
  command.action(async (name: string | undefined, options: Record<string, unknown>) => {
    if (typeof options.demoDir === 'string') process.env.CIR_DEMO_DIR = resolve(options.demoDir);
    for (const option of ['method', 'texts'] as const) {
      if (typeof options[option] === 'string' && name !== serveLoadBenchmark.name) {
        throw new CliError(`--${option} applies to serve-load only`, 2);
      }
    }
    if (typeof options.method === 'string') serveLoadSettings.method = options.method;
    if (typeof options.texts === 'string') serveLoadSettings.texts = await readTurnTexts(options.texts);
    let selected: BenchmarkDefinition[];
    if (options.all) {
      selected = [];
      for (const definition of benchmarks) {
        if (definition === serveLoadBenchmark && !(await hasFinishedDemo())) {
          process.stderr.write(
            `serve-load skipped: no finished demo in ${serveLoadDemoDirectory()} (run \`cir demo\`, or give --demo-dir)\n`,
          );
        } else selected.push(definition);
      }
    } else if (!name) {
      process.stdout.write(`${command.helpInformation()}\n`);
      return;
    } else {
      const definition = benchmarks.find((candidate) => candidate.name === name);
      if (!definition) {
        throw new CliError(
          `Unknown benchmark "${name}". Available: ${benchmarks.map((candidate) => candidate.name).join(', ')}.`,
          2,
        );
      }
      selected = [definition];
    }
    if (!options.all) {
      const [definition] = selected;
      const foreign = [...optionUses.keys()].filter(
        (option) => options[option] !== undefined && !definition!.options.some((own) => own.name === option),
      );
      if (foreign.length > 0) {
        const own = definition!.options.map((option) => `--${option.name}`).join(', ') || 'no options';
        throw new CliError(
          `${foreign.map((option) => `--${option}`).join(', ')} does not apply to ${definition!.name} (it takes ${own})`,
          2,
        );
      }
    }
    for (const definition of selected) checkOptionValues(definition, options);
    for (const definition of selected) {
      const values: Record<string, number> = {};
      for (const option of definition.options) {
        const given = options[option.name];
        values[option.name] = typeof given === 'number' ? given : option.default;
      }
      const result = await definition.run(values);
      printResult(result, { json: Boolean(options.json) }, () =>
        definition.summarize ? definition.summarize(result) : summarizeBenchmark(result),
      );
    }
  });
}
