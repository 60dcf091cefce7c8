#!/usr/bin/env node
// `pnpm test`: lint (biome), then every package's typecheck and vitest suite through turbo (one package at a time:
// the machine has 2 cores and each suite already uses both), then one summary line over all packages:
// "Tests: N passed, N failed, N skipped". Extra arguments go to turbo (e.g. --filter=@cir/core-tensor).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const packageDirectories = ['packages', 'apps'].flatMap((group) =>
  readdirSync(join(root, group)).map((name) => join(root, group, name)),
);
const reportPath = (directory) => join(directory, '.test-results', 'vitest.json');
for (const directory of packageDirectories) rmSync(reportPath(directory), { force: true });

const environment = {
  ...process.env,
  PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
  TURBO_TELEMETRY_DISABLED: '1',
};
const lint = spawnSync(join(root, 'node_modules', '.bin', 'biome'), ['check', '.'], {
  cwd: root,
  stdio: 'inherit',
  env: environment,
});
if (lint.status !== 0)
  process.stdout.write('\nLint failed: run `pnpm format` and `pnpm lint` to see and fix it.\n');
const turbo = spawnSync(
  join(root, 'node_modules', '.bin', 'turbo'),
  ['run', 'typecheck', 'test', '--concurrency=1', ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit', env: environment },
);

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
for (const directory of packageDirectories) {
  if (!existsSync(reportPath(directory))) continue;
  const report = JSON.parse(readFileSync(reportPath(directory), 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
  for (const file of report.testResults) {
    for (const test of file.assertionResults) {
      if (test.status === 'failed') failures.push(`${file.name.replace(`${root}/`, '')} > ${test.fullName}`);
    }
  }
}
if (failures.length > 0)
  process.stdout.write(`\nFailed tests:\n${failures.map((line) => `  ${line}`).join('\n')}\n`);
process.stdout.write(`\nTests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(lint.status === 0 && turbo.status === 0 && failed === 0 ? 0 : 1);
