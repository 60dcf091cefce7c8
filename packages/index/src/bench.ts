// `pnpm bench` entry of @cir/index: every benchmark of this package, one line each (`--json` for JSON).
import { runBenchmarks } from '@cir/core-tensor';
import { indexBenchmarks } from './benchmarks';

await runBenchmarks(indexBenchmarks, { json: process.argv.includes('--json') });
