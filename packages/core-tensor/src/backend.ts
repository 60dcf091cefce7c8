import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

/**
 * Run-time backend selection for TensorFlow.js.
 *
 * Order: @tensorflow/tfjs-node-gpu → @tensorflow/tfjs-node → wasm (SIMD) → cpu. The two native packages are
 * optional dependencies whose install script (a libtensorflow download) never runs here, so we look for their
 * compiled binding on disk before importing them: importing a package without its binding registers its kernels
 * and then throws, which would spam "kernel already registered" warnings for the next candidate.
 */
export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendInfo {
  /** The backend that runs, in our naming (tfjs calls both native ones "tensorflow"). */
  name: BackendName;
  /** The name tfjs reports for it. */
  tfjsName: string;
  /** Whether the wasm backend uses its SIMD binary (false for other backends). */
  simd: boolean;
  /** Threads tfjs computes with: wasm in Node is single-threaded (tfjs#3830); native ones use libtensorflow's pool. */
  threads: number;
  /** Why each faster candidate was skipped. */
  skipped: { name: BackendName; reason: string }[];
  /** Whether CIR_BACKEND (or an explicit option) forced the choice. */
  forced: boolean;
  tfjsVersion: string;
}

const require = createRequire(import.meta.url);
let current: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;

const NATIVE_PACKAGES: Record<'tensorflow-gpu' | 'tensorflow', string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

/** Returns the reason a native tfjs package cannot load, or undefined when its binding is present. */
function nativeBindingProblem(packageName: string): string | undefined {
  let packageDir: string;
  try {
    packageDir = dirname(require.resolve(`${packageName}/package.json`));
  } catch {
    return `${packageName} is not installed`;
  }
  const libDir = join(packageDir, 'lib');
  const hasBinding =
    existsSync(libDir) &&
    readdirSync(libDir).some((entry) => existsSync(join(libDir, entry, 'tfjs_binding.node')));
  return hasBinding
    ? undefined
    : `${packageName} is installed without its native binding (its install script downloads libtensorflow, which needs internet)`;
}

function parseBackendName(value: string): BackendName {
  const normalized = value.trim().toLowerCase();
  const aliases: Record<string, BackendName> = {
    gpu: 'tensorflow-gpu',
    'tensorflow-gpu': 'tensorflow-gpu',
    'tfjs-node-gpu': 'tensorflow-gpu',
    node: 'tensorflow',
    tensorflow: 'tensorflow',
    'tfjs-node': 'tensorflow',
    wasm: 'wasm',
    cpu: 'cpu',
  };
  const name = aliases[normalized];
  if (!name) {
    throw new Error(
      `CIR_BACKEND="${value}" is not a backend. Use one of: ${BACKEND_ORDER.join(', ')} (or gpu, node).`,
    );
  }
  return name;
}

async function tryActivate(name: BackendName): Promise<string | undefined> {
  try {
    if (name === 'tensorflow-gpu' || name === 'tensorflow') {
      const problem = nativeBindingProblem(NATIVE_PACKAGES[name]);
      if (problem) return problem;
      await import(NATIVE_PACKAGES[name]);
      if (!(await tf.setBackend('tensorflow'))) return 'tfjs could not initialise the tensorflow backend';
      return undefined;
    }
    if (name === 'wasm') {
      await import('@tensorflow/tfjs-backend-wasm');
      if (!(await tf.setBackend('wasm'))) return 'tfjs could not initialise the wasm backend';
      shareIdentityOnWasm();
      return undefined;
    }
    if (!(await tf.setBackend('cpu'))) return 'tfjs could not initialise the cpu backend';
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message.split('\n')[0] : String(error);
  }
}

export interface InitBackendOptions {
  /** Force one backend; defaults to the CIR_BACKEND environment variable, else the fastest available. */
  backend?: BackendName | string;
}

/**
 * Selects and initialises the fastest available backend once per process; later calls return the same info.
 * A forced backend that cannot start is an error (never a silent fallback).
 */
export function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  if (current) return Promise.resolve(current);
  pending ??= (async () => {
    const requested = options.backend ?? process.env.CIR_BACKEND;
    const forced = requested !== undefined && requested !== '' && requested !== 'auto';
    const candidates = forced ? [parseBackendName(requested)] : BACKEND_ORDER;
    const skipped: BackendInfo['skipped'] = [];
    for (const name of candidates) {
      const problem = await tryActivate(name);
      if (problem === undefined) {
        await tf.ready();
        const simd = name === 'wasm' ? Boolean(tf.env().getBool('WASM_HAS_SIMD_SUPPORT')) : false;
        current = {
          name,
          tfjsName: tf.getBackend(),
          simd,
          threads: name === 'wasm' || name === 'cpu' ? 1 : 0,
          skipped,
          forced,
          tfjsVersion: tf.version_core,
        };
        return current;
      }
      skipped.push({ name, reason: problem });
      if (forced) {
        throw new Error(`The backend "${name}" forced by CIR_BACKEND could not start: ${problem}`);
      }
    }
    throw new Error(
      `No TensorFlow.js backend could start: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`,
    );
  })();
  pending.catch(() => {
    pending = undefined;
  });
  return pending;
}

/**
 * tfjs-wasm's Identity kernel copies its input, and autodiff clones (Identity) every tensor a kernel saves for the
 * backward pass: ~12% of a MAI training step went to those copies. Tensors are immutable in tfjs (a variable's
 * `assign` swaps its data id), so the clone can share the data with a reference count, as tfjs's cpu backend does
 * and as the wasm backend's own Reshape does. Strings keep the original kernel.
 */
let identityShared = false;
function shareIdentityOnWasm(): void {
  const original = tf.getKernel(tf.Identity, 'wasm');
  if (!original || identityShared) return;
  identityShared = true;
  tf.unregisterKernel(tf.Identity, 'wasm');
  tf.registerKernel({
    kernelName: tf.Identity,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      if (x.dtype === 'string') return original.kernelFunc(args);
      (args.backend as unknown as { incRef(dataId: tf.DataId): void }).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
}

/** The active backend, or undefined before initBackend() resolved. */
export function backendInfo(): BackendInfo | undefined {
  return current;
}

export { tf };
