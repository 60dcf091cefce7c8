import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Rng } from '@cir/core-tensor';
import { env } from '@huggingface/transformers';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  readTinyClipWeights,
  referenceImage,
  referenceText,
  referenceTokenIds,
} from './__fixtures__/tiny-clip-reference';
import { OnnxClipEncoder } from './onnx-clip-encoder';
import { type TinyClipFolder, writeTinyClipFolder } from './write-tiny-clip';

// Installed before transformers.js is imported (vi.hoisted runs ahead of the imports), so that the fetch it binds
// at import time is this spy: any network attempt would call it.
const fetchSpy = vi.hoisted(() => {
  const spy = vi.fn(async () => {
    throw new Error('a test tried to use the network');
  });
  globalThis.fetch = spy as unknown as typeof fetch;
  return spy;
});

const TOLERANCE = 1e-4;

describe('OnnxClipEncoder on a tiny CLIP folder', () => {
  let root: string;
  let folder: TinyClipFolder;
  let weights: Awaited<ReturnType<typeof readTinyClipWeights>>;
  let encoder: OnnxClipEncoder;
  /** Three noise images at the crop size (so the processor's resize and centre crop are identities), as RGB. */
  const pixels = [1, 2, 3].map((seed) => {
    const rng = new Rng(seed);
    return Uint8Array.from({ length: 32 * 32 * 3 }, () => rng.int(256));
  });
  let imageSources: (string | Uint8Array)[];
  const texts = [
    'a red shirt',
    'Blue DRESS, with long sleeves!',
    'zebra photo',
    // Longer than maxTextLength (16): truncated to BOS + 14 words + EOS.
    'a photo of a black bag with a white shirt and a green dress with short sleeves and shoes',
  ];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'onnx-clip-encoder-'));
    folder = await writeTinyClipFolder(join(root, 'tiny-clip'), { seed: 7, imageSize: 32, patchSize: 8 });
    weights = await readTinyClipWeights(folder);
    encoder = await OnnxClipEncoder.load(folder.directory, { threads: 1, batchSize: 2 });
    const pngs = await Promise.all(
      pixels.map((data) =>
        sharp(Buffer.from(data), { raw: { width: 32, height: 32, channels: 3 } })
          .png()
          .toBuffer(),
      ),
    );
    await writeFile(join(root, 'first.png'), pngs[0]!);
    await writeFile(join(root, 'second.png'), pngs[1]!);
    imageSources = [join(root, 'first.png'), join(root, 'second.png'), new Uint8Array(pngs[2]!)];
  });

  afterAll(async () => {
    await encoder?.dispose();
    await rm(root, { recursive: true, force: true });
  });

  it('reports its identity and shapes', async () => {
    const onnxBytes = await Promise.all(
      ['text_model.onnx', 'vision_model.onnx'].map((file) => readFile(join(folder.directory, 'onnx', file))),
    );
    const digest = createHash('sha256');
    for (const bytes of onnxBytes) digest.update(bytes);
    expect(encoder.id).toBe(`onnx:tiny-clip@${digest.digest('hex').slice(0, 16)}`);
    expect(encoder).toMatchObject({
      modelType: 'clip',
      dim: 8,
      textTokenDim: 16,
      imageTokenDim: 24,
      normalized: true,
    });
    // The towers' token widths differ, so there is no single tokenDim.
    expect(encoder.tokenDim).toBeUndefined();
  });

  it('encodes texts as an independent computation of the graph does (tokenizer included)', async () => {
    const batch = await encoder.encodeTexts(texts);
    const sequence = folder.maxTextLength;
    expect(batch).toMatchObject({ count: 4, dim: 8, tokenCount: sequence, tokenDim: 16 });
    texts.forEach((text, row) => {
      const ids = referenceTokenIds(folder, text);
      const reference = referenceText(weights.text, ids);
      expectClose(batch.pooled.subarray(row * 8, (row + 1) * 8), unitLength(reference.pooled));
      const tokens = batch.tokens!.subarray(row * sequence * 16, (row + 1) * sequence * 16);
      expectClose(tokens.subarray(0, ids.length * 16), reference.hidden);
      const mask = Array.from({ length: sequence }, (_, position) => (position < ids.length ? 1 : 0));
      expect(Array.from(batch.tokenMask!.subarray(row * sequence, (row + 1) * sequence))).toEqual(mask);
    });
  });

  it('encodes images (paths and bytes) as an independent computation of the graph does', async () => {
    const batch = await encoder.encodeImages(imageSources);
    expect(batch).toMatchObject({ count: 3, dim: 8, tokenCount: 17, tokenDim: 24 });
    pixels.forEach((data, row) => {
      const reference = referenceImage(weights.vision, data, 32);
      expectClose(batch.pooled.subarray(row * 8, (row + 1) * 8), unitLength(reference.pooled));
      expectClose(batch.tokens!.subarray(row * 17 * 24, (row + 1) * 17 * 24), reference.hidden);
    });
  });

  it('gives the same embeddings batched as one at a time', async () => {
    const textBatch = await encoder.encodeTexts(texts);
    const imageBatch = await encoder.encodeImages(imageSources);
    for (const [row, text] of texts.entries()) {
      const single = await encoder.encodeTexts([text]);
      expectClose(single.pooled, textBatch.pooled.subarray(row * 8, (row + 1) * 8), 1e-5);
      // One text alone is padded only to its own length; its real tokens are the batch's.
      const length = single.tokenCount!;
      const batchRow = textBatch.tokens!.subarray(row * folder.maxTextLength * 16);
      expectClose(single.tokens!, batchRow.subarray(0, length * 16), 1e-5);
    }
    for (const [row, source] of imageSources.entries()) {
      const single = await encoder.encodeImages([source]);
      expectClose(single.pooled, imageBatch.pooled.subarray(row * 8, (row + 1) * 8), 1e-5);
      expectClose(single.tokens!, imageBatch.tokens!.subarray(row * 17 * 24, (row + 1) * 17 * 24), 1e-5);
    }
    expect(await encoder.encodeTexts([])).toEqual({ count: 0, pooled: new Float32Array(0), dim: 8 });
  });

  it('returns raw projections when normalize is false', async () => {
    const raw = await OnnxClipEncoder.load(folder.directory, { normalize: false });
    try {
      expect(raw.normalized).toBe(false);
      const batch = await raw.encodeTexts([texts[0]!]);
      expectClose(batch.pooled, referenceText(weights.text, referenceTokenIds(folder, texts[0]!)).pooled);
    } finally {
      await raw.dispose();
    }
  });

  it('reads a relative folder path as a path, not as a hub model id', async () => {
    const workingDirectory = process.cwd();
    process.chdir(root);
    try {
      // "tiny-clip" is shaped like a hub id, which transformers.js would look up under env.localModelPath.
      const relative = await OnnxClipEncoder.load('tiny-clip');
      expect(relative.id).toBe(encoder.id);
      await relative.dispose();
    } finally {
      process.chdir(workingDirectory);
    }
  });

  it.each([
    ['config.json'],
    ['tokenizer.json'],
    ['tokenizer_config.json'],
    ['preprocessor_config.json'],
    ['onnx/text_model.onnx'],
    ['onnx/vision_model.onnx'],
  ])('names a missing %s', async (file) => {
    const incomplete = join(root, `without-${file.replace('/', '-')}`);
    await cp(folder.directory, incomplete, { recursive: true });
    await rm(join(incomplete, file));
    await expect(OnnxClipEncoder.load(incomplete)).rejects.toThrow(`missing ${join(incomplete, file)}.`);
  });

  it('looks for the _quantized files with dtype q8', async () => {
    await expect(OnnxClipEncoder.load(folder.directory, { dtype: 'q8' })).rejects.toThrow(
      `missing ${join(folder.directory, 'onnx/text_model_quantized.onnx')}, ${join(folder.directory, 'onnx/vision_model_quantized.onnx')}.`,
    );
  });

  it('rejects model types it cannot load, saying why for BLIP', async () => {
    const blip = join(root, 'blip');
    await cp(folder.directory, blip, { recursive: true });
    const config = JSON.parse(await readFile(join(blip, 'config.json'), 'utf8'));
    await writeFile(join(blip, 'config.json'), JSON.stringify({ ...config, model_type: 'blip' }));
    await expect(OnnxClipEncoder.load(blip)).rejects.toThrow(
      /model_type "blip" is not supported; OnnxClipEncoder loads clip and siglip exports\. .*no BLIP model classes/,
    );
  });

  it('loads model_type siglip with the SigLIP classes, which read pooler_output', async () => {
    const siglip = join(root, 'siglip');
    await cp(folder.directory, siglip, { recursive: true });
    const config = JSON.parse(await readFile(join(siglip, 'config.json'), 'utf8'));
    await writeFile(join(siglip, 'config.json'), JSON.stringify({ ...config, model_type: 'siglip' }));
    // The tiny graphs have CLIP's output names, so the SigLIP path finds no pooler_output.
    await expect(OnnxClipEncoder.load(siglip)).rejects.toThrow(
      'onnx/text_model.onnx has no output "pooler_output" (its outputs: text_embeds, last_hidden_state)',
    );
  });

  const providers = join(
    dirname(createRequire(import.meta.url).resolve('onnxruntime-node')),
    '..',
    'bin/napi-v6/linux/x64',
  );
  it.skipIf(existsSync(join(providers, 'libonnxruntime_providers_cuda.so')))(
    'says that the CUDA provider is not installed when device is cuda',
    async () => {
      await expect(OnnxClipEncoder.load(folder.directory, { device: 'cuda' })).rejects.toThrow(
        /device "cuda" needs onnxruntime-node's CUDA execution provider, which is not installed: missing .*libonnxruntime_providers_(shared|cuda)\.so/,
      );
    },
  );

  it('never touches the network, and keeps transformers.js from doing so', async () => {
    // The loads and encodes above ran with the spy as the global fetch.
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(env.allowRemoteModels).toBe(false);
    await expect(
      env.fetch('https://huggingface.co/Xenova/clip-vit-base-patch32/resolve/main/config.json'),
    ).rejects.toThrow(
      /keeps @huggingface\/transformers offline, but it tried to fetch https:\/\/huggingface\.co/,
    );
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});

function unitLength(values: Float64Array): Float64Array {
  const norm = Math.hypot(...values);
  return values.map((value) => value / norm);
}

function expectClose(actual: Float32Array, expected: ArrayLike<number>, tolerance = TOLERANCE): void {
  expect(actual.length).toBe(expected.length);
  let largest = 0;
  for (let i = 0; i < actual.length; i++) largest = Math.max(largest, Math.abs(actual[i]! - expected[i]!));
  expect(largest).toBeLessThan(tolerance);
}
