// `pnpm bench` entry of @cir/models-mai: its benchmarks, one line each (`--json` for JSON).
import { runBenchmarks } from '@cir/core-tensor';
import { maiBenchmarks } from './mai-step-benchmark';

await runBenchmarks(maiBenchmarks, { json: process.argv.includes('--json') });
