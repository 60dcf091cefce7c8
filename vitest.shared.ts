import { defineConfig } from 'vitest/config';

/**
 * Shared vitest configuration. Workspace packages resolve to their TypeScript sources through the `source`
 * export condition, so one package's tests run without building its dependencies first.
 */
export default defineConfig({
  resolve: { conditions: ['source', 'import', 'module', 'node', 'default'] },
  ssr: { resolve: { conditions: ['source', 'import', 'module', 'node', 'default'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    // The JSON report feeds the one-line summary that `pnpm test` prints at the end (scripts/run-tests.mjs).
    reporters: ['default', 'json'],
    outputFile: { json: '.test-results/vitest.json' },
  },
});
