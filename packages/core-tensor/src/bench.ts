// `pnpm bench` entry of @cir/core-tensor: every benchmark of this package, one line each (`--json` for JSON).
import { coreTensorBenchmarks, runBenchmarks } from './benchmarks/registry';

await runBenchmarks(coreTensorBenchmarks, { json: process.argv.includes('--json') });
