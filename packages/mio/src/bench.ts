// `pnpm bench` entry of @cir/mio: every benchmark of this package, one line each (`--json` for JSON).
import { runBenchmarks } from '@cir/core-tensor';
import { mioBenchmarks } from './mio-benchmark';

await runBenchmarks(mioBenchmarks, { json: process.argv.includes('--json') });
