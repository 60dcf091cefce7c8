// Runs buildLanceStore in a separate process and holds it at one build stage, so that a test can SIGKILL it
// there. Vite's module runner loads the TypeScript sources the way vitest does.
// Arguments: <directory> <stage to stop at> <item count> <dim>
import { fileURLToPath } from 'node:url';
import { runnerImport } from 'vite';

const [directory, stopStage, itemCount, dim] = process.argv.slice(2);
const conditions = ['source', 'import', 'module', 'node', 'default'];
const { module } = await runnerImport(fileURLToPath(new URL('../lance-store.ts', import.meta.url)), {
  configFile: false,
  logLevel: 'silent',
  // runnerImport loads through its "inline" environment: workspace packages must be transformed from their
  // sources (the `source` export condition), never taken from a dist/ folder that a clean clone does not have.
  environments: { inline: { resolve: { conditions, noExternal: [/^@cir\//] } } },
});
const items = Array.from({ length: Number(itemCount) }, (_, index) => ({
  id: `new-${index}`,
  vector: Float32Array.from({ length: Number(dim) }, (_, position) => Math.cos(index + position)),
}));
await module.buildLanceStore(directory, items, {
  encoderId: 'test-encoder@1',
  dim: Number(dim),
  hooks: {
    afterStage: async (stage) => {
      if (stage !== stopStage) return;
      process.stdout.write(`stopped at ${stage}\n`);
      // A pending promise alone would let Node exit; the timer keeps the process alive until it is killed.
      await new Promise((resolve) => setTimeout(resolve, 600_000));
    },
  },
});
process.stdout.write('finished\n');
