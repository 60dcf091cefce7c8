import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyClipFolder } from './write-tiny-clip';

const { onnx } = onnxProto;

/** Each graph input or output as "name: type [dims]". */
async function signature(file: string): Promise<{ inputs: string[]; outputs: string[] }> {
  const model = onnx.ModelProto.toObject(onnx.ModelProto.decode(await readFile(file)), { longs: Number });
  const describe = (value: {
    name: string;
    type: { tensorType: { elemType: number; shape: { dim: object[] } } };
  }) => {
    const { elemType, shape } = value.type.tensorType;
    const dims = shape.dim.map((dim) =>
      'dimValue' in dim ? dim.dimValue : (dim as { dimParam: string }).dimParam,
    );
    return `${value.name}: ${onnx.TensorProto.DataType[elemType]} [${dims.join(', ')}]`;
  };
  return { inputs: model.graph.input.map(describe), outputs: model.graph.output.map(describe) };
}

describe('writeTinyClipFolder', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'write-tiny-clip-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes the transformers.js folder layout with the input and output names of real CLIP exports', async () => {
    const folder = await writeTinyClipFolder(join(root, 'layout'), {
      textDim: 12,
      visionDim: 20,
      projectionDim: 6,
      imageSize: 48,
      patchSize: 16,
      vocabulary: ['red', 'shirt'],
    });
    expect((await readdir(folder.directory)).sort()).toEqual([
      'config.json',
      'onnx',
      'preprocessor_config.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    expect(await signature(join(folder.directory, 'onnx/text_model.onnx'))).toEqual({
      inputs: [
        'input_ids: INT64 [batch_size, sequence_length]',
        'attention_mask: INT64 [batch_size, sequence_length]',
      ],
      outputs: [
        'text_embeds: FLOAT [batch_size, 6]',
        'last_hidden_state: FLOAT [batch_size, sequence_length, 12]',
      ],
    });
    expect(await signature(join(folder.directory, 'onnx/vision_model.onnx'))).toEqual({
      inputs: ['pixel_values: FLOAT [batch_size, 3, 48, 48]'],
      outputs: ['image_embeds: FLOAT [batch_size, 6]', 'last_hidden_state: FLOAT [batch_size, 10, 20]'],
    });
    const json = async (file: string) => JSON.parse(await readFile(join(folder.directory, file), 'utf8'));
    expect(await json('config.json')).toMatchObject({
      model_type: 'clip',
      projection_dim: 6,
      text_config: { hidden_size: 12, vocab_size: 5, max_position_embeddings: 16 },
      vision_config: { hidden_size: 20, image_size: 48, patch_size: 16 },
    });
    expect(await json('tokenizer_config.json')).toMatchObject({
      tokenizer_class: 'CLIPTokenizer',
      model_max_length: 16,
    });
    expect(await json('preprocessor_config.json')).toMatchObject({
      image_processor_type: 'CLIPImageProcessor',
      size: { shortest_edge: 48 },
      do_center_crop: true,
      crop_size: { height: 48, width: 48 },
    });
    expect(folder.tokenIds).toEqual({
      red: 0,
      shirt: 1,
      '<|unknown|>': 2,
      '<|startoftext|>': 3,
      '<|endoftext|>': 4,
    });
  });

  it('derives every weight from the seed', async () => {
    const [first, again, other] = await Promise.all(
      [1, 1, 2].map((seed, index) => writeTinyClipFolder(join(root, `seed-${index}`), { seed })),
    );
    const bytes = (directory: string) => readFile(join(directory, 'onnx/vision_model.onnx'));
    expect(await bytes(again!.directory)).toEqual(await bytes(first!.directory));
    expect(await bytes(other!.directory)).not.toEqual(await bytes(first!.directory));
  });

  it('rejects sizes and vocabularies it cannot build', async () => {
    await expect(writeTinyClipFolder(join(root, 'bad'), { imageSize: 30, patchSize: 8 })).rejects.toThrow(
      'patchSize 8 does not divide imageSize 30',
    );
    await expect(writeTinyClipFolder(join(root, 'bad'), { vocabulary: ['Red'] })).rejects.toThrow(
      'vocabulary word "Red"',
    );
    await expect(writeTinyClipFolder(join(root, 'bad'), { textDim: 0 })).rejects.toThrow(
      'textDim must be a positive integer',
    );
  });
});
