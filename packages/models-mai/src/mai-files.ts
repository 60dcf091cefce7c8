import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  readSafetensorsFile,
  replaceDirectory,
  restoreInterruptedReplace,
  writeJsonAtomic,
  writeSafetensorsFile,
} from '@cir/core-tensor';
import { EncoderMismatchError } from '@cir/encoders';
import { DEFAULT_MAI_CONFIG, type MaiConfig } from './config';
import { MaiModel } from './mai-model';

export interface MaiModelInfo {
  format: 'cir-mai';
  /** Name shown in tables, e.g. "mai", "last-turn", "mai-concat". */
  name: string;
  config: MaiConfig;
  /** Encoder whose features the model was trained on; loading with another encoder fails. */
  encoderId: string;
  steps: number;
  trainedOn?: string;
}

/** Saves a trained model folder (model.safetensors + mai.json) atomically: a crash leaves the previous one. */
export async function saveMaiModel(
  directory: string,
  model: MaiModel,
  info: Omit<MaiModelInfo, 'format' | 'config'>,
): Promise<void> {
  await replaceDirectory(directory, async (temporary) => {
    const tensors = Object.fromEntries(
      Object.entries(model.exportParameters()).map(([name, tensor]) => [
        name,
        { dtype: 'F32' as const, shape: tensor.shape, data: tensor.data },
      ]),
    );
    await writeSafetensorsFile(join(temporary, 'model.safetensors'), tensors, { format: 'cir-mai' });
    await writeJsonAtomic(join(temporary, 'mai.json'), { format: 'cir-mai', config: model.config, ...info });
  });
}

/** Loads a model folder written by saveMaiModel; `expectedEncoderId` guards against mixing encoders. */
export async function loadMaiModel(
  directory: string,
  options: { expectedEncoderId?: string } = {},
): Promise<{ model: MaiModel; info: MaiModelInfo }> {
  await restoreInterruptedReplace(directory);
  const infoFile = join(directory, 'mai.json');
  if (!existsSync(infoFile))
    throw new Error(
      `${infoFile} not found: ${directory} is not a MAI model folder (cir train mai writes one)`,
    );
  const info = JSON.parse(await readFile(infoFile, 'utf8')) as MaiModelInfo;
  if (options.expectedEncoderId && info.encoderId !== options.expectedEncoderId) {
    throw new EncoderMismatchError(`MAI model ${directory}`, options.expectedEncoderId, info.encoderId);
  }
  const model = new MaiModel({ ...DEFAULT_MAI_CONFIG, ...info.config });
  const { tensors } = await readSafetensorsFile(join(directory, 'model.safetensors'));
  model.importParameters(
    Object.fromEntries(
      Object.entries(tensors).map(([name, tensor]) => [
        name,
        { shape: tensor.shape, data: tensor.data as Float32Array },
      ]),
    ),
  );
  return { model, info };
}
