import { readFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

const SOURCE = fileURLToPath(new URL('../turn-worker.ts', import.meta.url));

/**
 * npm packages stay outside the bundle, imported by their absolute path (so that the bundle runs from any folder),
 * and each bundled module keeps its own `import.meta.url` (core-tensor finds onnxruntime-node from its own folder).
 */
const keepModuleLocations: Plugin = {
  name: 'keep-module-locations',
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === 'resolving' || args.path.startsWith('@cir/')) return undefined;
      if (isBuiltin(args.path)) return { path: args.path, external: true };
      const resolved = await builder.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: 'resolving',
      });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      return { path: resolved.path, external: true };
    });
    builder.onLoad({ filter: /\.ts$/ }, async (args) => ({
      contents: (await readFile(args.path, 'utf8')).replaceAll(
        'import.meta.url',
        JSON.stringify(pathToFileURL(args.path).href),
      ),
      loader: 'ts',
    }));
  },
};

/**
 * `turn-worker.ts` with the workspace packages it imports, from their TypeScript sources, as one ES module in
 * `directory`: tests start the real worker thread from it without building the packages (vitest runs the sources).
 * @returns the bundle's path
 */
export async function bundleTurnWorker(directory: string): Promise<string> {
  const outfile = join(directory, 'turn-worker.mjs');
  await build({
    entryPoints: [SOURCE],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    conditions: ['source'],
    plugins: [keepModuleLocations],
    logLevel: 'silent',
  });
  return outfile;
}
