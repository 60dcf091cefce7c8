import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MiniClipEncoder } from '@cir/encoders';
import { createTinyEncoderWorld, type TinyEncoderWorld } from '@cir/encoders/testing';
import type { ComposedRetriever, RetrieverProvider } from '@cir/index';
import { DEFAULT_MAI_CONFIG, type MaiConfig, MaiModel, MaiRetriever } from '@cir/models-mai';
import { type CirServer, createServer } from '../server';

/** A mini encoder small enough to train in a few seconds on the 32-pixel world. */
const TINY_ENCODER = {
  imageSize: 32 as const,
  patchSize: 8,
  width: 32,
  layers: 1,
  heads: 2,
  feedForwardMultiplier: 2,
  embedDim: 32,
  maxTextLength: 16,
};

/** An untrained MAI: the server only needs a real retriever, not a good one. */
const TINY_MAI: MaiConfig = {
  ...DEFAULT_MAI_CONFIG,
  inputDim: TINY_ENCODER.width,
  dim: 16,
  heads: 2,
  queries: 4,
  bsaLayers: 1,
  msaLayers: 1,
  feedForwardMultiplier: 2,
  embedDim: 8,
  maxTextTokens: TINY_ENCODER.maxTextLength,
};

export interface TinyWorld extends TinyEncoderWorld {
  provider: RetrieverProvider;
}

/**
 * A 210-image world and a tiny mini encoder trained on it (`createTinyEncoderWorld`), in a few seconds, with an
 * untrained MAI provider over that encoder.
 */
export async function createTinyWorld(): Promise<TinyWorld> {
  const world = await createTinyEncoderWorld({ prefix: 'cir-server-world-', seed: 1, config: TINY_ENCODER });
  return { ...world, provider: tinyProvider(world.encoder) };
}

/** Two methods, both MAI with a different memory, so that tests can tell methods apart. */
export function tinyProvider(encoder: MiniClipEncoder): RetrieverProvider {
  const configs: Record<string, MaiConfig> = {
    mai: TINY_MAI,
    'mai-concat': { ...TINY_MAI, memory: 'concat' },
  };
  return {
    methods: Object.keys(configs),
    async create(method: string): Promise<ComposedRetriever> {
      const config = configs[method];
      if (!config) throw new Error(`unknown method "${method}" (known: ${Object.keys(configs).join(', ')})`);
      return new MaiRetriever(new MaiModel(config, 7), encoder, { name: method });
    },
  };
}

/** A tiny world served: `createServer` on a data folder of its own, with the world's catalog built as "shop". */
export interface TinyShop {
  world: TinyWorld;
  app: CirServer;
  dataDir: string;
  /** Closes the server and removes the world and the data folder. */
  dispose(): Promise<void>;
}

export async function createTinyShop(options: { token?: string } = {}): Promise<TinyShop> {
  const world = await createTinyWorld();
  const dataDir = await mkdtemp(join(tmpdir(), 'cir-server-shop-'));
  const app = await createServer({ dataDir, provider: world.provider, ...options });
  await app.collections.createFromCatalog({ name: 'shop', catalog: world.catalog });
  await app.collections.whenIdle('shop');
  return {
    world,
    app,
    dataDir,
    async dispose() {
      await app.close();
      await world.dispose();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
