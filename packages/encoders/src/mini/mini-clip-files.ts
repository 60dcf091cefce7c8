import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  readSafetensorsFile,
  replaceDirectory,
  restoreInterruptedReplace,
  writeFileAtomic,
  writeJsonAtomic,
  writeSafetensorsFile,
} from '@cir/core-tensor';
import { DEFAULT_MINI_CLIP_CONFIG, MiniClip, type MiniClipConfig } from './mini-clip-model';
import { BatchTokenizer } from './word-level-tokenizer';

/** Files of a saved mini encoder, in the Hugging Face folder layout (config + tokenizer + weights). */
export const MINI_CLIP_FILES = {
  config: 'config.json',
  weights: 'model.safetensors',
  tokenizer: 'tokenizer.json',
  tokenizerConfig: 'tokenizer_config.json',
} as const;

export interface SavedMiniClip {
  model: MiniClip;
  tokenizer: BatchTokenizer;
  config: MiniClipConfig;
  /** "mini-clip@<first 16 hex of the weights' sha256>": changes whenever the weights change. */
  id: string;
}

/** Encoder identity from the weights file's bytes. */
export function miniClipId(weightBytes: Uint8Array): string {
  return `mini-clip@${createHash('sha256').update(weightBytes).digest('hex').slice(0, 16)}`;
}

/** Writes the encoder folder atomically (core-tensor's replaceDirectory): a killed save leaves the previous one. */
export async function saveMiniClip(
  directory: string,
  model: MiniClip,
  tokenizerJson: object,
  tokenizerConfig: object,
  metadata: Record<string, unknown> = {},
): Promise<string> {
  let id = '';
  await replaceDirectory(directory, async (temporary) => {
    const parameters = model.exportParameters();
    const tensors = Object.fromEntries(
      Object.entries(parameters).map(([name, tensor]) => [
        name,
        { dtype: 'F32' as const, shape: tensor.shape, data: tensor.data },
      ]),
    );
    await writeSafetensorsFile(join(temporary, MINI_CLIP_FILES.weights), tensors, {
      format: 'cir-mini-clip',
    });
    id = miniClipId(await readFile(join(temporary, MINI_CLIP_FILES.weights)));
    await writeJsonAtomic(join(temporary, MINI_CLIP_FILES.config), {
      model_type: 'cir-mini-clip',
      id,
      ...model.config,
      ...metadata,
    });
    await writeFileAtomic(join(temporary, MINI_CLIP_FILES.tokenizer), JSON.stringify(tokenizerJson));
    await writeJsonAtomic(join(temporary, MINI_CLIP_FILES.tokenizerConfig), tokenizerConfig);
  });
  return id;
}

/** Loads a saved mini encoder; names the missing file when the folder is incomplete. */
export async function loadMiniClip(directory: string): Promise<SavedMiniClip> {
  await restoreInterruptedReplace(directory);
  for (const file of Object.values(MINI_CLIP_FILES)) {
    if (!existsSync(join(directory, file))) {
      throw new Error(
        `${join(directory, file)} is missing: ${directory} is not a mini encoder folder (cir train encoder writes one)`,
      );
    }
  }
  const stored = JSON.parse(await readFile(join(directory, MINI_CLIP_FILES.config), 'utf8')) as Record<
    string,
    unknown
  >;
  if (typeof stored.vocabularySize !== 'number') {
    throw new Error(`${join(directory, MINI_CLIP_FILES.config)}: vocabularySize is missing`);
  }
  const config: MiniClipConfig = {
    ...DEFAULT_MINI_CLIP_CONFIG,
    ...pickConfig(stored),
    vocabularySize: stored.vocabularySize,
  };
  const model = new MiniClip(config);
  const { tensors } = await readSafetensorsFile(join(directory, MINI_CLIP_FILES.weights));
  model.importParameters(
    Object.fromEntries(
      Object.entries(tensors).map(([name, tensor]) => [
        name,
        { shape: tensor.shape, data: tensor.data as Float32Array },
      ]),
    ),
  );
  const tokenizerJson = JSON.parse(
    await readFile(join(directory, MINI_CLIP_FILES.tokenizer), 'utf8'),
  ) as object;
  const tokenizerConfig = JSON.parse(
    await readFile(join(directory, MINI_CLIP_FILES.tokenizerConfig), 'utf8'),
  ) as object;
  const tokenizer = new BatchTokenizer(tokenizerJson, tokenizerConfig, config.maxTextLength);
  const id = miniClipId(await readFile(join(directory, MINI_CLIP_FILES.weights)));
  return { model, tokenizer, config, id };
}

function pickConfig(stored: Record<string, unknown>): Partial<MiniClipConfig> {
  const keys = Object.keys(DEFAULT_MINI_CLIP_CONFIG).concat('vocabularySize') as (keyof MiniClipConfig)[];
  return Object.fromEntries(
    keys.filter((key) => key in stored).map((key) => [key, stored[key]]),
  ) as Partial<MiniClipConfig>;
}
