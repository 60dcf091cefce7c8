import { benchmarkTopK } from '../similarity/top-k-benchmark';
import { benchmarkAttention } from './attention-benchmark';
import { benchmarkMatMul } from './matmul-benchmark';

/** What a benchmark returns: its name and its figures. */
export interface BenchmarkResult {
  name: string;
}

/** A numeric flag of a benchmark. Every value is an integer; `minimum` is the smallest one it takes (default 1). */
export interface BenchmarkOption {
  name: string;
  description: string;
  default: number;
  minimum?: number;
}

/** A named benchmark that `cir bench <name>` and `pnpm bench` can run. Options are numeric flags. */
export interface BenchmarkDefinition {
  name: string;
  description: string;
  options: BenchmarkOption[];
  run(options: Record<string, number>): Promise<BenchmarkResult>;
  /** The result for a reader (`cir bench` without `--json`); default `summarizeBenchmark`, one key=value line. */
  summarize?(result: BenchmarkResult): string;
}

export const coreTensorBenchmarks: BenchmarkDefinition[] = [
  {
    name: 'matmul',
    description: 'size³ float32 matMul on every registered tfjs backend (GFLOP/s).',
    options: [
      { name: 'size', description: 'matrix size', default: 512 },
      { name: 'repeats', description: 'timed repetitions', default: 10 },
    ],
    run: (options) => benchmarkMatMul({ size: options.size, repeats: options.repeats }),
  },
  {
    name: 'attention',
    description: 'One pre-norm transformer block forward+backward (ms), batch 32, 48 tokens, d 128, 4 heads.',
    options: [
      { name: 'batch', description: 'batch size', default: 32 },
      { name: 'tokens', description: 'tokens per item', default: 48 },
      { name: 'dim', description: 'model width', default: 128 },
      { name: 'repeats', description: 'timed repetitions', default: 10 },
    ],
    run: (options) =>
      benchmarkAttention({
        batch: options.batch,
        tokens: options.tokens,
        dim: options.dim,
        repeats: options.repeats,
      }),
  },
  {
    name: 'topk',
    description: 'Exact top-k of normalized queries over N normalized gallery vectors (queries/s).',
    options: [
      { name: 'n', description: 'gallery size N', default: 100_000 },
      { name: 'queries', description: 'queries per call', default: 64 },
      { name: 'dim', description: 'vector dimension', default: 256 },
      { name: 'k', description: 'results per query', default: 10 },
      { name: 'repeats', description: 'timed repetitions', default: 5 },
    ],
    run: (options) =>
      benchmarkTopK({
        galleryCount: options.n,
        queryCount: options.queries,
        dim: options.dim,
        k: options.k,
        repeats: options.repeats,
      }),
  },
];

/** Runs benchmarks one after another, printing one line each (a JSON object with `json`). */
export async function runBenchmarks(
  definitions: BenchmarkDefinition[],
  options: { json?: boolean; write?: (line: string) => void } = {},
): Promise<void> {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  for (const definition of definitions) {
    const defaults = Object.fromEntries(definition.options.map((option) => [option.name, option.default]));
    const result = await definition.run(defaults);
    write(options.json ? JSON.stringify(result) : summarizeBenchmark(result));
  }
}

/** One human-readable line: `name  key=value …` with numbers rounded. */
export function summarizeBenchmark(result: BenchmarkResult): string {
  const format = (value: unknown): string => {
    if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toPrecision(4);
    if (Array.isArray(value)) return `[${value.map(format).join(', ')}]`;
    if (value && typeof value === 'object') {
      return `{${Object.entries(value)
        .map(([key, inner]) => `${key}=${format(inner)}`)
        .join(' ')}}`;
    }
    return String(value);
  };
  const fields = Object.entries(result).filter(([key]) => key !== 'name');
  return `${result.name.padEnd(10)} ${fields.map(([key, value]) => `${key}=${format(value)}`).join('  ')}`;
}
