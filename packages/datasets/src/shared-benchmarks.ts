import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** src/ and dist/ sit at the same depth, so the repository root is three folders up from either. */
const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/**
 * The folder of real benchmark annotation files: `$CIR_SHARED_DIR/benchmarks`, else `../shared/benchmarks` beside
 * the repository. Undefined when it is absent, so tests on the real files can skip with a message.
 */
export function sharedBenchmarksDirectory(): string | undefined {
  const directory = join(process.env.CIR_SHARED_DIR ?? resolve(repositoryRoot, '..', 'shared'), 'benchmarks');
  return existsSync(directory) ? directory : undefined;
}
