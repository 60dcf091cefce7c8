// Starts a server on an existing data folder, uploads one image to collection "shop" and holds the rebuild at
// one point, so that a test can SIGKILL the process mid-build. Vite's module runner loads the TypeScript
// sources the way vitest does (a clean clone has no dist/).
// Arguments: <dataDir> <encoder folder> <stage: encoded | saved>
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// vite is not a dependency of this package: take the one vitest runs on.
const require = createRequire(import.meta.url);
const vitestFolder = realpathSync(dirname(require.resolve('vitest/package.json')));
const vitePath = createRequire(join(vitestFolder, 'package.json')).resolve('vite');
const { runnerImport } = await import(pathToFileURL(vitePath).href);

const conditions = ['source', 'import', 'module', 'node', 'default'];
const { module } = await runnerImport(fileURLToPath(new URL('./stalled-rebuild.ts', import.meta.url)), {
  configFile: false,
  logLevel: 'silent',
  // Workspace packages must be transformed from their sources (the `source` export condition).
  environments: { inline: { resolve: { conditions, noExternal: [/^@cir\//] } } },
});
await module.stalledRebuild(...process.argv.slice(2));
