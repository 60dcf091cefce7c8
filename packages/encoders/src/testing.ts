/**
 * Test fixtures of the encoders, for the packages that need a real mini encoder in their own tests (models-mai, the
 * server): a 210-picture generated world with a tiny mini encoder trained on it, in a few seconds. Not for
 * production use.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@cir/core-tensor';
import { generateWorld } from '@cir/datasets';
import { MiniClipEncoder } from './mini/mini-clip-encoder';
import type { MiniClipConfig } from './mini/mini-clip-model';
import { trainMiniClip } from './mini/train-mini-clip';

export interface TinyEncoderWorld {
  /** Temporary folder holding everything below; `dispose` removes it. */
  root: string;
  /** The generated world: `images/` + `captions.jsonl`, a valid catalog folder of 210 items. */
  catalog: string;
  encoderDirectory: string;
  /** The encoder, loaded from `encoderDirectory`. */
  encoder: MiniClipEncoder;
  /** Disposes the encoder and removes `root`. */
  dispose(): Promise<void>;
}

/**
 * Generates a 210-image world of 32-pixel pictures (about the smallest the world generator accepts: every format
 * needs enough held-out products per category) and trains a mini encoder of `config` on its captions for one epoch.
 * @param prefix the temporary folder's name prefix (which test made it)
 */
export async function createTinyEncoderWorld(options: {
  prefix: string;
  seed: number;
  config: Partial<Omit<MiniClipConfig, 'vocabularySize'>> & { imageSize: 32 };
}): Promise<TinyEncoderWorld> {
  await initBackend();
  const root = await mkdtemp(join(tmpdir(), options.prefix));
  const catalog = join(root, 'world');
  const encoderDirectory = join(root, 'encoder');
  try {
    await generateWorld({
      outDir: catalog,
      images: 210,
      transactions: 60,
      seed: options.seed,
      imageSize: 32,
    });
    await trainMiniClip({
      pairsFile: join(catalog, 'captions.jsonl'),
      outDirectory: encoderDirectory,
      epochs: 1,
      batchSize: 16,
      config: options.config,
    });
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  const encoder = await MiniClipEncoder.load(encoderDirectory);
  return {
    root,
    catalog,
    encoderDirectory,
    encoder,
    async dispose() {
      await encoder.dispose();
      await rm(root, { recursive: true, force: true });
    },
  };
}
