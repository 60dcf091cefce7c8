import { type BenchmarkDefinition, coreTensorBenchmarks, summarizeBenchmark } from '@cir/core-tensor';
import { indexBenchmarks } from '@cir/index';
import { mioBenchmarks } from '@cir/mio';
import { maiBenchmarks } from '@cir/models-mai';
import { type Command, InvalidArgumentError } from 'commander';
import { CliError, printResult } from '../output';
import { serveLoadBenchmark } from './serve-load-benchmark';

/** Every benchmark the CLI knows, from the packages that define them. */
export const benchmarks: BenchmarkDefinition[] = [
  ...coreTensorBenchmarks,
  ...mioBenchmarks,
  ...indexBenchmarks,
  ...maiBenchmarks,
  serveLoadBenchmark,
];

function parseNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new InvalidArgumentError(`"${value}" is not a number.`);
  return parsed;
}

export function registerBench(program: Command): void {
  const optionNames = new Map<string, string>();
  for (const definition of benchmarks) {
    for (const option of definition.options) {
      if (!optionNames.has(option.name)) optionNames.set(option.name, option.description);
    }
  }
  const command = program
    .command('bench')
    .argument('[name]', `benchmark to run: ${benchmarks.map((definition) => definition.name).join(', ')}`)
    .description('Run a performance benchmark and print its figures (one JSON object with --json).')
    .option('--all', 'run every benchmark, one line each')
    .option('--json', 'print JSON (one object per benchmark)');
  for (const [name, description] of optionNames) {
    command.option(`--${name} <number>`, `${description} (benchmarks that take it)`, parseNumber);
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
  cir bench --all --json > bench.jsonl`,
  );
  command.action(async (name: string | undefined, options: Record<string, unknown>) => {
    let selected: BenchmarkDefinition[];
    if (options.all) selected = benchmarks;
    else if (!name) {
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
    for (const definition of selected) {
      const values: Record<string, number> = {};
      for (const option of definition.options) {
        const given = options[option.name];
        values[option.name] = typeof given === 'number' ? given : option.default;
      }
      const result = await definition.run(values);
      printResult(result, { json: Boolean(options.json) }, () => summarizeBenchmark(result));
    }
  });
}
