import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { TINY_CLIP_SPECIAL_TOKENS, type TinyClipFolder } from '../write-tiny-clip';

/**
 * An independent float64 computation of the tiny CLIP graphs (see tiny-clip-graphs.ts for the equations), from the
 * weights read back out of the written .onnx files, with its own tokenization and pixel normalisation. It shares no
 * code with transformers.js or onnxruntime, so agreement checks the whole loading path.
 */

type Weights = Map<string, { dims: number[]; values: Float64Array }>;

const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];
const LAYER_NORM_EPSILON = 1e-5;

/** The float initializers of an ONNX file. */
export async function readFloatInitializers(file: string): Promise<Weights> {
  const { onnx } = onnxProto;
  const model = onnx.ModelProto.toObject(onnx.ModelProto.decode(await readFile(file)), { longs: Number });
  const weights: Weights = new Map();
  for (const tensor of model.graph.initializer as {
    name: string;
    dims: number[];
    dataType: number;
    rawData: Uint8Array;
  }[]) {
    if (tensor.dataType !== onnx.TensorProto.DataType.FLOAT) continue;
    const view = new DataView(tensor.rawData.buffer, tensor.rawData.byteOffset, tensor.rawData.byteLength);
    const values = Float64Array.from({ length: tensor.rawData.byteLength / 4 }, (_, i) =>
      view.getFloat32(i * 4, true),
    );
    weights.set(tensor.name, { dims: tensor.dims, values });
  }
  return weights;
}

/** `<|startoftext|> words <|endoftext|>`, lower-cased, words and punctuation runs split, truncated to keep the EOS. */
export function referenceTokenIds(folder: TinyClipFolder, text: string): number[] {
  const { tokenIds } = folder;
  const words = text.toLowerCase().match(/\w+|[^\w\s]+/g) ?? [];
  const ids = words.map((word) => tokenIds[word] ?? tokenIds[TINY_CLIP_SPECIAL_TOKENS.unknown]!);
  return [
    tokenIds[TINY_CLIP_SPECIAL_TOKENS.start]!,
    ...ids.slice(0, folder.maxTextLength - 2),
    tokenIds[TINY_CLIP_SPECIAL_TOKENS.end]!,
  ];
}

export interface ReferenceOutput {
  /** `[projectionDim]`, not normalised. */
  pooled: Float64Array;
  /** `[tokens, width]`: every real token for text, class token + patches for images. */
  hidden: Float64Array;
}

/** The text tower on one unpadded token sequence. */
export function referenceText(weights: Weights, ids: number[]): ReferenceOutput {
  const tokenEmbedding = weight(weights, 'text.token_embedding');
  const width = tokenEmbedding.dims[1]!;
  const positions = weight(weights, 'text.position_embedding').values;
  const embeddings = new Float64Array(ids.length * width);
  ids.forEach((id, position) => {
    for (let k = 0; k < width; k++) {
      embeddings[position * width + k] =
        tokenEmbedding.values[id * width + k]! + positions[position * width + k]!;
    }
  });
  // With no padding before a token, the causal masked mean is the plain mean of the tokens up to it.
  const causalMean = new Float64Array(ids.length * width);
  for (let position = 0; position < ids.length; position++) {
    for (let k = 0; k < width; k++) {
      let sum = 0;
      for (let earlier = 0; earlier <= position; earlier++) sum += embeddings[earlier * width + k]!;
      causalMean[position * width + k] = sum / (position + 1);
    }
  }
  const mixed = residualMixing(weights, 'text', causalMean, embeddings, ids.length, width);
  const hidden = new Float64Array(mixed.length);
  for (let position = 0; position < ids.length; position++) {
    hidden.set(
      layerNorm(weights, 'text.final_layer_norm', mixed.subarray(position * width, (position + 1) * width)),
      position * width,
    );
  }
  const eos = hidden.subarray((ids.length - 1) * width, ids.length * width);
  return { pooled: project(weights, 'text.projection', eos), hidden };
}

/** The vision tower on one `[size, size, 3]` RGB image whose size is the crop size (so resize and crop are identities). */
export function referenceImage(weights: Weights, pixels: Uint8Array, size: number): ReferenceOutput {
  const patchEmbedding = weight(weights, 'vision.patch_embedding');
  const [width, , patchSize] = patchEmbedding.dims as [number, number, number, number];
  const grid = size / patchSize;
  const tokenCount = grid * grid + 1;
  const normalized = (y: number, x: number, channel: number) =>
    (pixels[(y * size + x) * 3 + channel]! / 255 - CLIP_MEAN[channel]!) / CLIP_STD[channel]!;
  const embeddings = new Float64Array(tokenCount * width);
  embeddings.set(weight(weights, 'vision.class_embedding').values, 0);
  for (let gridY = 0; gridY < grid; gridY++) {
    for (let gridX = 0; gridX < grid; gridX++) {
      const token = 1 + gridY * grid + gridX;
      for (let k = 0; k < width; k++) {
        let sum = 0;
        for (let channel = 0; channel < 3; channel++) {
          for (let y = 0; y < patchSize; y++) {
            for (let x = 0; x < patchSize; x++) {
              const kernel = patchEmbedding.values[((k * 3 + channel) * patchSize + y) * patchSize + x]!;
              sum += kernel * normalized(gridY * patchSize + y, gridX * patchSize + x, channel);
            }
          }
        }
        embeddings[token * width + k] = sum;
      }
    }
  }
  const positions = weight(weights, 'vision.position_embedding').values;
  for (let i = 0; i < embeddings.length; i++) embeddings[i]! += positions[i]!;
  const context = new Float64Array(embeddings.length);
  for (let k = 0; k < width; k++) {
    let mean = 0;
    for (let token = 0; token < tokenCount; token++) mean += embeddings[token * width + k]! / tokenCount;
    for (let token = 0; token < tokenCount; token++) {
      context[token * width + k] = embeddings[token * width + k]! + mean;
    }
  }
  const hidden = residualMixing(weights, 'vision', context, embeddings, tokenCount, width);
  const classToken = layerNorm(weights, 'vision.post_layer_norm', hidden.subarray(0, width));
  return { pooled: project(weights, 'vision.projection', classToken), hidden };
}

/** residual + tanh(input · mixing + bias), row by row. */
function residualMixing(
  weights: Weights,
  prefix: string,
  input: Float64Array,
  residual: Float64Array,
  rows: number,
  width: number,
): Float64Array {
  const mixing = weight(weights, `${prefix}.mixing`).values;
  const bias = weight(weights, `${prefix}.mixing_bias`).values;
  const output = new Float64Array(rows * width);
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < width; column++) {
      let sum = bias[column]!;
      for (let k = 0; k < width; k++) sum += input[row * width + k]! * mixing[k * width + column]!;
      output[row * width + column] = residual[row * width + column]! + Math.tanh(sum);
    }
  }
  return output;
}

function layerNorm(weights: Weights, prefix: string, row: Float64Array): Float64Array {
  const scale = weight(weights, `${prefix}.scale`).values;
  const bias = weight(weights, `${prefix}.bias`).values;
  const mean = row.reduce((sum, value) => sum + value, 0) / row.length;
  const variance = row.reduce((sum, value) => sum + (value - mean) ** 2, 0) / row.length;
  return row.map(
    (value, k) => ((value - mean) / Math.sqrt(variance + LAYER_NORM_EPSILON)) * scale[k]! + bias[k]!,
  );
}

function project(weights: Weights, name: string, row: Float64Array): Float64Array {
  const projection = weight(weights, name);
  const [inputs, outputs] = projection.dims as [number, number];
  const result = new Float64Array(outputs);
  for (let column = 0; column < outputs; column++) {
    for (let k = 0; k < inputs; k++) result[column]! += row[k]! * projection.values[k * outputs + column]!;
  }
  return result;
}

function weight(weights: Weights, name: string): { dims: number[]; values: Float64Array } {
  const found = weights.get(name);
  if (!found) throw new Error(`tiny CLIP reference: no initializer ${name}`);
  return found;
}

/** Reads both towers' weights of a tiny CLIP folder. */
export async function readTinyClipWeights(
  folder: TinyClipFolder,
): Promise<{ text: Weights; vision: Weights }> {
  const [text, vision] = await Promise.all([
    readFloatInitializers(join(folder.directory, 'onnx', 'text_model.onnx')),
    readFloatInitializers(join(folder.directory, 'onnx', 'vision_model.onnx')),
  ]);
  return { text, vision };
}
