import { defineConfig, type Options } from 'tsup';

/** Shared tsup settings: ESM + .d.ts, Node target, dependencies left external. */
export function packageConfig(options: Partial<Options> = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
    ...options,
  });
}
