import type { BenchmarkDefinition } from '@cir/core-tensor';
import { benchmarkAnnRecall } from './ann-benchmark';

export const indexBenchmarks: BenchmarkDefinition[] = [
  {
    name: 'ann',
    description:
      'LanceDB store (default index) against the exact store on random normalised vectors: recall@k, queries/s, build s.',
    options: [
      { name: 'count', description: 'gallery size', default: 100_000 },
      { name: 'dim', description: 'vector dimension', default: 256 },
      { name: 'queries', description: 'queries in total', default: 200 },
      { name: 'k', description: 'results per query', default: 10 },
      { name: 'seed', description: 'random seed', default: 1, minimum: 0 },
      { name: 'repeats', description: 'timed searches per store (median)', default: 3 },
    ],
    run: (options) =>
      benchmarkAnnRecall({
        count: options.count,
        dim: options.dim,
        queries: options.queries,
        k: options.k,
        seed: options.seed,
        repeats: options.repeats,
      }),
  },
];
