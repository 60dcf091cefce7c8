import { createRequire } from 'node:module';

export interface OnnxRuntimeInfo {
  available: boolean;
  version?: string;
  /** Execution providers the installed binding knows, and whether their libraries ship in the package. */
  providers: { name: string; bundled: boolean }[];
  error?: string;
}

const require = createRequire(import.meta.url);

/** What onnxruntime-node offers on this machine (CUDA appears as not bundled unless its libraries were installed). */
export function onnxRuntimeInfo(): OnnxRuntimeInfo {
  try {
    const ort = require('onnxruntime-node') as {
      env: { versions?: { common?: string } };
      listSupportedBackends?: () => { name: string; bundled: boolean }[];
    };
    const version = (require('onnxruntime-node/package.json') as { version: string }).version;
    return { available: true, version, providers: ort.listSupportedBackends?.() ?? [] };
  } catch (error) {
    return {
      available: false,
      providers: [],
      error: error instanceof Error ? error.message.split('\n')[0] : String(error),
    };
  }
}
