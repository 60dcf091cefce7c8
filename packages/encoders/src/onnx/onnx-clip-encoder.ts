import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { l2NormalizeInPlace } from '@cir/core-tensor';
import { decodeImage, type ImageSource } from '@cir/datasets';
import {
  AutoProcessor,
  AutoTokenizer,
  CLIPTextModelWithProjection,
  CLIPVisionModelWithProjection,
  env,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type Processor,
  RawImage,
  SiglipTextModel,
  SiglipVisionModel,
  Tensor,
} from '@huggingface/transformers';
import type { EncodedBatch, ImageEncoder, TextEncoder } from '../encoder';

export type OnnxDevice = 'cpu' | 'cuda';
export type OnnxDtype = 'fp32' | 'q8' | 'fp16';

export interface OnnxClipEncoderOptions {
  /** onnxruntime execution provider. 'cuda' needs onnxruntime-node's CUDA provider libraries. Default 'cpu'. */
  device?: OnnxDevice;
  /** Intra-op threads of each of the two sessions. Default: onnxruntime's (one per physical core). */
  threads?: number;
  /** Which files: fp32 → onnx/<tower>.onnx, q8 → onnx/<tower>_quantized.onnx, fp16 → onnx/<tower>_fp16.onnx. Default fp32. */
  dtype?: OnnxDtype;
  /** Items per inference run. Default 32. */
  batchSize?: number;
  /** L2-normalise pooled embeddings. Default true. */
  normalize?: boolean;
}

/** The file-name suffix transformers.js appends for each dtype (its DEFAULT_DTYPE_SUFFIX_MAPPING). */
const DTYPE_SUFFIXES: Record<OnnxDtype, string> = { fp32: '', q8: '_quantized', fp16: '_fp16' };
const DEVICES: readonly OnnxDevice[] = ['cpu', 'cuda'];
const METADATA_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'preprocessor_config.json'];
const TOWER_FILES = { text: 'text_model', vision: 'vision_model' } as const;
/** Patch or word hidden states, in CLIP and SigLIP exports alike. */
const TOKEN_OUTPUT = 'last_hidden_state';

type ModelClass = Pick<typeof PreTrainedModel, 'from_pretrained'>;

/** How one model_type loads through transformers.js and which outputs hold its pooled embeddings. */
interface ModelFamily {
  textModel: ModelClass;
  visionModel: ModelClass;
  textPooledOutput: string;
  imagePooledOutput: string;
  /** SigLIP was trained on texts padded to max_length and pools the last position, so it must be padded so too. */
  padding: true | 'max_length';
}

const MODEL_FAMILIES: Record<string, ModelFamily> = {
  clip: {
    textModel: CLIPTextModelWithProjection,
    visionModel: CLIPVisionModelWithProjection,
    textPooledOutput: 'text_embeds',
    imagePooledOutput: 'image_embeds',
    padding: true,
  },
  siglip: {
    textModel: SiglipTextModel,
    visionModel: SiglipVisionModel,
    textPooledOutput: 'pooler_output',
    imagePooledOutput: 'pooler_output',
    padding: 'max_length',
  },
};

/**
 * CLIP and SigLIP ONNX exports (e.g. a downloaded Xenova/clip-vit-base-patch32) from a local folder, loaded through
 * @huggingface/transformers with remote loading off, as an ImageEncoder and a TextEncoder. Texts go through the
 * folder's tokenizer; images are decoded by @cir/datasets and then preprocessed by the folder's image processor
 * (preprocessor_config.json), the reference behaviour for Hugging Face exports.
 */
export class OnnxClipEncoder implements ImageEncoder, TextEncoder {
  readonly normalized: boolean;
  /** The token width shared by both towers; undefined when they differ (see textTokenDim / imageTokenDim). */
  readonly tokenDim: number | undefined;

  private constructor(
    /** "onnx:<folder name>@<first 16 hex of the sha256 of the ONNX files>". */
    readonly id: string,
    readonly modelType: string,
    /** Width of the pooled embeddings. */
    readonly dim: number,
    /** Width of the text tower's last_hidden_state, when the graph outputs it. */
    readonly textTokenDim: number | undefined,
    /** Width of the vision tower's last_hidden_state, when the graph outputs it. */
    readonly imageTokenDim: number | undefined,
    readonly batchSize: number,
    normalize: boolean,
    private readonly family: ModelFamily,
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly endTokenId: number | undefined,
    private readonly processor: Processor,
    private readonly textModel: PreTrainedModel,
    private readonly visionModel: PreTrainedModel,
  ) {
    this.normalized = normalize;
    this.tokenDim = textTokenDim === imageTokenDim ? textTokenDim : undefined;
  }

  /**
   * Loads the folder. Every required file is checked first, and a missing one is named (transformers.js 4.3.1 can
   * fail with "Cannot read properties of undefined (reading 'tokenizer_class')" instead). Switches transformers.js
   * to offline mode for the whole process: remote models off and its fetch replaced by one that throws.
   */
  static async load(directory: string, options: OnnxClipEncoderOptions = {}): Promise<OnnxClipEncoder> {
    // An absolute path is always read as a path; a relative one shaped like "owner/name" would be taken for a hub
    // id and looked up under env.localModelPath instead.
    const folder = resolve(directory);
    const { device = 'cpu', dtype = 'fp32', batchSize = 32, normalize = true, threads } = options;
    checkOptions(device, dtype, batchSize, threads);
    const suffix = DTYPE_SUFFIXES[dtype];
    const towerFiles = Object.values(TOWER_FILES).map((tower) => `onnx/${tower}${suffix}.onnx`);
    checkFilesExist(folder, [...METADATA_FILES, ...towerFiles], dtype);
    const { modelType, family } = await readModelFamily(folder);
    if (device === 'cuda') checkCudaProvider();
    keepTransformersOffline();

    const modelOptions = {
      device,
      dtype,
      local_files_only: true,
      session_options: {
        executionProviders: [device],
        ...(threads === undefined ? {} : { intraOpNumThreads: threads }),
      },
    };
    const [tokenizer, processor] = await Promise.all([
      AutoTokenizer.from_pretrained(folder, { local_files_only: true }),
      AutoProcessor.from_pretrained(folder, { local_files_only: true }),
    ]);
    const textModel = await family.textModel.from_pretrained(folder, modelOptions);
    let visionModel: PreTrainedModel | undefined;
    try {
      visionModel = await family.visionModel.from_pretrained(folder, modelOptions);
      const text = towerShape(textModel, family.textPooledOutput, towerFiles[0]!);
      const vision = towerShape(visionModel, family.imagePooledOutput, towerFiles[1]!);
      if (text.pooledDim !== vision.pooledDim) {
        throw new Error(
          `${folder}: ${towerFiles[0]} embeds into ${text.pooledDim} dimensions but ${towerFiles[1]} into ${vision.pooledDim}; both towers must share one embedding space`,
        );
      }
      const id = `onnx:${basename(folder)}@${await hashModelFiles(folder, suffix)}`;
      return new OnnxClipEncoder(
        id,
        modelType,
        text.pooledDim,
        text.tokenDim,
        vision.tokenDim,
        batchSize,
        normalize,
        family,
        tokenizer,
        templateEndToken(tokenizer),
        processor,
        textModel,
        visionModel,
      );
    } catch (error) {
      await Promise.all([textModel.dispose(), visionModel?.dispose()]);
      throw error;
    }
  }

  /**
   * All texts are tokenized together (padded to the longest, or to model_max_length for SigLIP; truncated to
   * model_max_length), so every batch shares one token layout.
   *
   * @returns pooled `[count, dim]`; tokens `[count, sequence, textTokenDim]` with tokenMask `[count, sequence]`
   *   (the attention_mask) when the graph outputs last_hidden_state
   */
  async encodeTexts(texts: readonly string[]): Promise<EncodedBatch> {
    if (texts.length === 0) return { count: 0, pooled: new Float32Array(0), dim: this.dim };
    const encoded = this.tokenizer([...texts], { padding: this.family.padding, truncation: true });
    const inputIds = encoded.input_ids as Tensor;
    const attentionMask = encoded.attention_mask as Tensor;
    if (this.endTokenId !== undefined) restoreEndTokens(inputIds, attentionMask, this.endTokenId);
    const batch = await this.encodeBatches(
      texts.length,
      this.family.textPooledOutput,
      this.textTokenDim,
      (start, rows) =>
        this.textModel({
          input_ids: tensorRows(inputIds, start, rows),
          attention_mask: tensorRows(attentionMask, start, rows),
        }),
    );
    if (batch.tokens === undefined) return batch;
    return { ...batch, tokenMask: Uint8Array.from(attentionMask.data as BigInt64Array, Number) };
  }

  /**
   * Images are decoded by @cir/datasets' decodeImage (errors name the file; EXIF orientation applied, transparency
   * flattened on white) and preprocessed by the folder's image processor.
   *
   * @returns pooled `[count, dim]`; tokens `[count, patches (+ 1 class token for CLIP), imageTokenDim]` when the
   *   graph outputs last_hidden_state
   */
  async encodeImages(sources: readonly ImageSource[]): Promise<EncodedBatch> {
    return this.encodeBatches(
      sources.length,
      this.family.imagePooledOutput,
      this.imageTokenDim,
      async (start, rows) => {
        const images = await Promise.all(sources.slice(start, start + rows).map(readImage));
        const { pixel_values } = await this.processor(images);
        return this.visionModel({ pixel_values });
      },
    );
  }

  async dispose(): Promise<void> {
    await Promise.all([this.textModel.dispose(), this.visionModel.dispose()]);
  }

  /** Runs `run` on consecutive row ranges of at most batchSize and gathers pooled `[count, dim]` and tokens. */
  private async encodeBatches(
    count: number,
    pooledOutput: string,
    tokenDim: number | undefined,
    run: (start: number, rows: number) => Promise<Record<string, Tensor>>,
  ): Promise<EncodedBatch> {
    const pooled = new Float32Array(count * this.dim);
    let tokens: Float32Array | undefined;
    let tokenCount = 0;
    for (let start = 0; start < count; start += this.batchSize) {
      const rows = Math.min(this.batchSize, count - start);
      const outputs = await run(start, rows);
      // A session returns every graph output, and load() checked that these are among them.
      pooled.set(floatData(outputs[pooledOutput]!, pooledOutput, rows * this.dim), start * this.dim);
      if (tokenDim !== undefined) {
        const hidden = outputs[TOKEN_OUTPUT]!;
        tokenCount = hidden.dims[1]!;
        tokens ??= new Float32Array(count * tokenCount * tokenDim);
        tokens.set(
          floatData(hidden, TOKEN_OUTPUT, rows * tokenCount * tokenDim),
          start * tokenCount * tokenDim,
        );
      }
    }
    if (this.normalized) l2NormalizeInPlace(pooled, count, this.dim);
    return tokens === undefined
      ? { count, pooled, dim: this.dim }
      : { count, pooled, dim: this.dim, tokens, tokenCount, tokenDim };
  }
}

function checkOptions(device: string, dtype: string, batchSize: number, threads: number | undefined): void {
  if (!DEVICES.includes(device as OnnxDevice)) {
    throw new Error(`OnnxClipEncoder: device "${device}" is not supported; use ${DEVICES.join(' or ')}`);
  }
  if (!Object.hasOwn(DTYPE_SUFFIXES, dtype)) {
    throw new Error(
      `OnnxClipEncoder: dtype "${dtype}" is not supported; use ${Object.keys(DTYPE_SUFFIXES).join(', ')}`,
    );
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`OnnxClipEncoder: batchSize must be a positive integer, got ${batchSize}`);
  }
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
    throw new RangeError(`OnnxClipEncoder: threads must be a positive integer, got ${threads}`);
  }
}

function checkFilesExist(folder: string, files: string[], dtype: OnnxDtype): void {
  const missing = files.filter((file) => !existsSync(join(folder, file)));
  if (missing.length === 0) return;
  throw new Error(
    `${folder} is not a complete ONNX model folder: missing ${missing.map((file) => join(folder, file)).join(', ')}. ` +
      `With dtype ${dtype} it needs ${files.join(', ')}.`,
  );
}

async function readModelFamily(folder: string): Promise<{ modelType: string; family: ModelFamily }> {
  const configPath = join(folder, 'config.json');
  let config: { model_type?: unknown };
  try {
    config = JSON.parse(await readFile(configPath, 'utf8'));
  } catch (error) {
    throw new Error(`${configPath} is not valid JSON: ${(error as Error).message}`);
  }
  const modelType = String(config.model_type);
  const family = Object.hasOwn(MODEL_FAMILIES, modelType) ? MODEL_FAMILIES[modelType] : undefined;
  if (family) return { modelType, family };
  const blipNote = modelType.startsWith('blip')
    ? ' @huggingface/transformers 4.3.1 has no BLIP model classes and no BLIP image processor, so BLIP exports cannot load through it.'
    : '';
  throw new Error(
    `${configPath}: model_type "${modelType}" is not supported; OnnxClipEncoder loads ${Object.keys(MODEL_FAMILIES).join(' and ')} exports.${blipNote}`,
  );
}

/**
 * onnxruntime-node ships CPU binaries only; its CUDA provider libraries come from an install-time download that
 * offline installs skip. Without them ORT prints a native error and fails with "Failed to load shared library".
 */
function checkCudaProvider(): void {
  // The onnxruntime-node that transformers.js itself loads (there must only be one per process).
  const require = createRequire(import.meta.url);
  const transformersRequire = createRequire(require.resolve('@huggingface/transformers'));
  const binaries = join(dirname(transformersRequire.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6');
  const folder = join(binaries, process.platform, process.arch);
  const libraries = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];
  const missing = libraries.filter((library) => !existsSync(join(folder, library)));
  if (process.platform === 'linux' && process.arch === 'x64' && missing.length === 0) return;
  throw new Error(
    `device "cuda" needs onnxruntime-node's CUDA execution provider, which is not installed: ${
      process.platform === 'linux' && process.arch === 'x64'
        ? `missing ${missing.map((library) => join(folder, library)).join(', ')}`
        : `onnxruntime-node has no CUDA provider for ${process.platform}/${process.arch}`
    }. Reinstall onnxruntime-node with network access and ONNXRUNTIME_NODE_INSTALL=cuda12 (needs CUDA 12 and cuDNN 9), or use device "cpu".`,
  );
}

function keepTransformersOffline(): void {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  // transformers.js binds the global fetch when it is first imported and calls it through env.fetch.
  env.fetch = refuseNetwork;
}

async function refuseNetwork(input: string | URL): Promise<never> {
  throw new Error(
    `@cir/encoders keeps @huggingface/transformers offline, but it tried to fetch ${String(input)}`,
  );
}

/** The EOS id when the tokenizer's template ends every text with it (CLIP: <|endoftext|>), else undefined. */
function templateEndToken(tokenizer: PreTrainedTokenizer): number | undefined {
  const ids = tokenizer('').input_ids.data as BigInt64Array;
  const last = ids.at(-1);
  return last !== undefined && Number(last) === tokenizer.eos_token_id ? Number(last) : undefined;
}

/**
 * transformers.js truncates after adding the special tokens and so cuts the EOS off long texts, while Python's
 * tokenizers keep it, and CLIP pools at the EOS. A row that fills the whole length without ending in EOS was
 * truncated: its last token becomes EOS again, as in Python.
 */
function restoreEndTokens(inputIds: Tensor, attentionMask: Tensor, endTokenId: number): void {
  const [rows, length] = inputIds.dims as [number, number];
  const ids = inputIds.data as BigInt64Array;
  const mask = attentionMask.data as BigInt64Array;
  for (let row = 0; row < rows; row++) {
    const last = row * length + length - 1;
    if (mask[last] === 1n && ids[last] !== BigInt(endTokenId)) ids[last] = BigInt(endTokenId);
  }
}

/** The pooled width, and the token width when the graph outputs last_hidden_state, from the session's metadata. */
function towerShape(
  model: PreTrainedModel,
  pooledOutput: string,
  file: string,
): { pooledDim: number; tokenDim: number | undefined } {
  const outputs = model.sessions.model.outputMetadata as {
    name: string;
    shape?: readonly (number | string)[];
  }[];
  const lastDimension = (name: string): number | undefined => {
    const output = outputs.find((candidate) => candidate.name === name);
    if (output === undefined) return undefined;
    const size = output.shape?.at(-1);
    if (typeof size !== 'number')
      throw new Error(`${file}: the last dimension of output "${name}" is not fixed`);
    return size;
  };
  const pooledDim = lastDimension(pooledOutput);
  if (pooledDim === undefined) {
    throw new Error(
      `${file} has no output "${pooledOutput}" (its outputs: ${outputs.map((output) => output.name).join(', ')})`,
    );
  }
  return { pooledDim, tokenDim: lastDimension(TOKEN_OUTPUT) };
}

/** SHA-256 of the loaded ONNX files (and their external-data files), text tower first. */
async function hashModelFiles(folder: string, suffix: string): Promise<string> {
  const hash = createHash('sha256');
  const files = (await readdir(join(folder, 'onnx'))).sort();
  for (const tower of Object.values(TOWER_FILES)) {
    for (const file of files.filter((name) => name.startsWith(`${tower}${suffix}.onnx`))) {
      for await (const chunk of createReadStream(join(folder, 'onnx', file))) hash.update(chunk as Buffer);
    }
  }
  return hash.digest('hex').slice(0, 16);
}

async function readImage(source: ImageSource): Promise<RawImage> {
  const image = await decodeImage(source);
  return new RawImage(image.data, image.width, image.height, 3);
}

/** Rows [start, start + rows) of a `[batch, …]` tensor, as a view. */
function tensorRows(tensor: Tensor, start: number, rows: number): Tensor {
  const rowLength = tensor.dims.slice(1).reduce((product, size) => product * size, 1);
  const data = tensor.data as BigInt64Array;
  return new Tensor(tensor.type, data.subarray(start * rowLength, (start + rows) * rowLength), [
    rows,
    ...tensor.dims.slice(1),
  ]);
}

/** An output's values, checked to be `length` float32 numbers. */
function floatData(tensor: Tensor, name: string, length: number): Float32Array {
  if (tensor.type !== 'float32') {
    throw new Error(`output "${name}" is ${tensor.type}; only float32 outputs are supported`);
  }
  if (tensor.data.length !== length) {
    throw new Error(
      `output "${name}" has shape [${tensor.dims.join(', ')}], ${tensor.data.length} values instead of ${length}`,
    );
  }
  return tensor.data as Float32Array;
}
