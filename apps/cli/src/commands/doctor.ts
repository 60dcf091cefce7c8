import { existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { initBackend, onnxRuntimeInfo } from '@cir/core-tensor';
import type { Command } from 'commander';
import { printResult } from '../output';
import { cliVersion } from '../version';

/** Where the shared benchmark annotations are expected: CIR_SHARED_DIR, else ../shared beside the checkout. */
export function sharedDirectory(): string {
  return resolve(process.env.CIR_SHARED_DIR ?? join(process.cwd(), '..', 'shared'));
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'Check the machine: tfjs backend (SIMD, threads), onnxruntime providers, versions, shared data.',
    )
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Examples:
  cir doctor                 # which backend runs, and why faster ones were skipped
  CIR_BACKEND=cpu cir doctor # force a backend (tensorflow-gpu, tensorflow, wasm, cpu)
  cir doctor --json | jq .backend.name`,
    )
    .action(async (options: { json?: boolean }) => {
      const backend = await initBackend();
      const onnxruntime = onnxRuntimeInfo();
      const shared = sharedDirectory();
      const report = {
        cir: cliVersion,
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        cpus: cpus().length,
        memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
        backend,
        onnxruntime,
        sharedBenchmarks: {
          path: join(shared, 'benchmarks'),
          present: existsSync(join(shared, 'benchmarks')),
        },
      };
      printResult(report, options, () => {
        const providers = onnxruntime.providers
          .map((provider) => `${provider.name}${provider.bundled ? '' : ' (libraries not installed)'}`)
          .join(', ');
        const lines = [
          `cir ${report.cir} on node ${report.node} (${report.platform}), ${report.cpus} CPUs, ${report.memoryGiB} GiB`,
          `tfjs backend   ${backend.name}${backend.forced ? ' (forced by CIR_BACKEND)' : ''}, SIMD ${backend.simd ? 'on' : 'off'}, ${
            backend.threads === 0 ? 'native thread pool' : `${backend.threads} thread`
          }, tfjs ${backend.tfjsVersion}`,
          ...backend.skipped.map((skip) => `  skipped ${skip.name}: ${skip.reason}`),
          onnxruntime.available
            ? `onnxruntime    ${onnxruntime.version}, providers: ${providers}`
            : `onnxruntime    unavailable: ${onnxruntime.error}`,
          `benchmarks     ${report.sharedBenchmarks.present ? 'found' : 'not found'} at ${report.sharedBenchmarks.path}`,
        ];
        return lines.join('\n');
      });
    });
}
