#!/usr/bin/env node
// `pnpm cir <args>`: builds the CLI and the packages it depends on (turbo cache: a no-op when nothing changed),
// then runs it. Build output goes to stderr only on failure, so `--json` output on stdout stays clean.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const turbo = join(root, 'node_modules', '.bin', 'turbo');
const build = spawnSync(turbo, ['run', 'build', '--filter=@cir/cli...', '--output-logs=errors-only'], {
  cwd: root,
  encoding: 'utf8',
  env: {
    ...process.env,
    PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
    TURBO_TELEMETRY_DISABLED: '1',
  },
});
if (build.status !== 0) {
  process.stderr.write(build.stdout ?? '');
  process.stderr.write(build.stderr ?? '');
  process.stderr.write(`\ncir: building the workspace failed (turbo exit ${build.status ?? build.error}).\n`);
  process.exit(1);
}
const cli = spawnSync(
  process.execPath,
  [join(root, 'apps', 'cli', 'dist', 'bin.js'), ...process.argv.slice(2)],
  {
    stdio: 'inherit',
  },
);
process.exit(cli.status ?? 1);
