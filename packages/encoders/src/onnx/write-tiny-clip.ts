import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLIP_MEAN, CLIP_STD } from '@cir/datasets';
import { type TinyClipGraphSizes, tinyClipTextGraph, tinyClipVisionGraph } from './tiny-clip-graphs';

export interface TinyClipOptions {
  /** Seeds every weight. Default 0. */
  seed?: number;
  /** Width of the text tower's hidden states (last_hidden_state). Default 16. */
  textDim?: number;
  /** Width of the vision tower's hidden states. Default 24. */
  visionDim?: number;
  /** Width of text_embeds / image_embeds. Default 8. */
  projectionDim?: number;
  /** Input side in pixels (resize, crop and pixel_values size). Default 32. */
  imageSize?: number;
  /** Patch side in pixels; must divide imageSize. Default 8. */
  patchSize?: number;
  /** Lower-case words (letters, digits, underscore); anything else tokenizes to the unknown token. */
  vocabulary?: readonly string[];
  /** Longest token sequence, BOS and EOS included (model_max_length, max_position_embeddings). Default 16. */
  maxTextLength?: number;
}

/** What was written: the resolved sizes and the token ids. */
export interface TinyClipFolder extends Required<Omit<TinyClipOptions, 'vocabulary'>> {
  directory: string;
  /** token → id: the vocabulary words in order, then the unknown token, BOS and EOS (the highest id, as in CLIP). */
  tokenIds: Record<string, number>;
}

export const TINY_CLIP_SPECIAL_TOKENS = {
  unknown: '<|unknown|>',
  start: '<|startoftext|>',
  end: '<|endoftext|>',
} as const;

const DEFAULT_VOCABULARY =
  'a photo of red blue green black white shirt dress shoes bag with long short sleeves'.split(' ');

/**
 * Writes a complete, random-weight CLIP folder in the layout @huggingface/transformers reads: config.json
 * (model_type clip), tokenizer.json (WordLevel, `<|startoftext|> … <|endoftext|>` template), tokenizer_config.json
 * (CLIPTokenizer), preprocessor_config.json (CLIPImageProcessor at `imageSize`, CLIP mean/std) and
 * onnx/text_model.onnx + onnx/vision_model.onnx with the input and output names and layouts of real exports:
 *
 * - text: input_ids, attention_mask `[batch, sequence]` int64 → text_embeds `[batch, projectionDim]`,
 *   last_hidden_state `[batch, sequence, textDim]`
 * - vision: pixel_values `[batch, 3, imageSize, imageSize]` → image_embeds `[batch, projectionDim]`,
 *   last_hidden_state `[batch, (imageSize / patchSize)² + 1, visionDim]`
 *
 * A test fixture, and a way to check an offline set-up without a real model. The graphs are in tiny-clip-graphs.ts.
 */
export async function writeTinyClipFolder(
  directory: string,
  options: TinyClipOptions = {},
): Promise<TinyClipFolder> {
  const vocabulary = options.vocabulary ?? DEFAULT_VOCABULARY;
  const sizes = {
    seed: options.seed ?? 0,
    textDim: options.textDim ?? 16,
    visionDim: options.visionDim ?? 24,
    projectionDim: options.projectionDim ?? 8,
    imageSize: options.imageSize ?? 32,
    patchSize: options.patchSize ?? 8,
    maxTextLength: options.maxTextLength ?? 16,
  };
  checkOptions(sizes, vocabulary);
  const tokenIds: Record<string, number> = {};
  for (const token of [...vocabulary, ...Object.values(TINY_CLIP_SPECIAL_TOKENS)]) {
    tokenIds[token] = Object.keys(tokenIds).length;
  }
  const graphSizes: TinyClipGraphSizes = { ...sizes, vocabularySize: Object.keys(tokenIds).length };

  await mkdir(join(directory, 'onnx'), { recursive: true });
  const writeJson = (file: string, value: object) =>
    writeFile(join(directory, file), `${JSON.stringify(value, null, 2)}\n`);
  await Promise.all([
    writeJson('config.json', modelConfig(graphSizes, tokenIds)),
    writeJson('tokenizer.json', tokenizerJson(tokenIds)),
    writeJson('tokenizer_config.json', tokenizerConfig(sizes.maxTextLength)),
    writeJson('preprocessor_config.json', preprocessorConfig(sizes.imageSize)),
    writeFile(join(directory, 'onnx', 'text_model.onnx'), tinyClipTextGraph(graphSizes)),
    writeFile(join(directory, 'onnx', 'vision_model.onnx'), tinyClipVisionGraph(graphSizes)),
  ]);
  return { directory, ...sizes, tokenIds };
}

function checkOptions(
  sizes: Omit<TinyClipGraphSizes, 'vocabularySize'>,
  vocabulary: readonly string[],
): void {
  for (const [name, value] of Object.entries(sizes)) {
    if (!Number.isInteger(value) || (name !== 'seed' && value < 1)) {
      throw new RangeError(`writeTinyClipFolder: ${name} must be a positive integer, got ${value}`);
    }
  }
  if (sizes.imageSize % sizes.patchSize !== 0) {
    throw new RangeError(
      `writeTinyClipFolder: patchSize ${sizes.patchSize} does not divide imageSize ${sizes.imageSize}`,
    );
  }
  if (sizes.maxTextLength < 2)
    throw new RangeError('writeTinyClipFolder: maxTextLength must leave room for BOS and EOS');
  const invalid = vocabulary.find((word) => !/^[a-z0-9_]+$/.test(word));
  if (invalid !== undefined) {
    throw new RangeError(
      `writeTinyClipFolder: vocabulary word "${invalid}" is not lower-case letters, digits or underscores, so the tokenizer could never produce it`,
    );
  }
  if (new Set(vocabulary).size !== vocabulary.length) {
    throw new RangeError('writeTinyClipFolder: vocabulary has duplicate words');
  }
}

function modelConfig(sizes: TinyClipGraphSizes, tokenIds: Record<string, number>): object {
  const special = {
    bos_token_id: tokenIds[TINY_CLIP_SPECIAL_TOKENS.start],
    eos_token_id: tokenIds[TINY_CLIP_SPECIAL_TOKENS.end],
    pad_token_id: tokenIds[TINY_CLIP_SPECIAL_TOKENS.end],
  };
  return {
    model_type: 'clip',
    architectures: ['CLIPModel'],
    projection_dim: sizes.projectionDim,
    text_config: {
      model_type: 'clip_text_model',
      hidden_size: sizes.textDim,
      vocab_size: sizes.vocabularySize,
      max_position_embeddings: sizes.maxTextLength,
      projection_dim: sizes.projectionDim,
      ...special,
    },
    vision_config: {
      model_type: 'clip_vision_model',
      hidden_size: sizes.visionDim,
      image_size: sizes.imageSize,
      patch_size: sizes.patchSize,
      num_channels: 3,
      projection_dim: sizes.projectionDim,
    },
    ...special,
    cir_tiny_clip: { seed: sizes.seed },
  };
}

/** A WordLevel tokenizer: lower-case, split into words and punctuation, then `<|startoftext|> A <|endoftext|>`. */
function tokenizerJson(tokenIds: Record<string, number>): object {
  const { start, end, unknown } = TINY_CLIP_SPECIAL_TOKENS;
  const addedToken = (content: string) => ({
    id: tokenIds[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const specialToken = (token: string) => ({ SpecialToken: { id: token, type_id: 0 } });
  const sequence = (id: 'A' | 'B') => ({ Sequence: { id, type_id: 0 } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [unknown, start, end].map(addedToken),
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [specialToken(start), sequence('A'), specialToken(end)],
      pair: [specialToken(start), sequence('A'), specialToken(end), sequence('B'), specialToken(end)],
      special_tokens: Object.fromEntries(
        [start, end].map((token) => [token, { id: token, ids: [tokenIds[token]], tokens: [token] }]),
      ),
    },
    decoder: null,
    model: { type: 'WordLevel', vocab: tokenIds, unk_token: unknown },
  };
}

/** As in real CLIP exports, padding uses the EOS token (its attention_mask is 0). */
function tokenizerConfig(maxTextLength: number): object {
  return {
    tokenizer_class: 'CLIPTokenizer',
    model_max_length: maxTextLength,
    bos_token: TINY_CLIP_SPECIAL_TOKENS.start,
    eos_token: TINY_CLIP_SPECIAL_TOKENS.end,
    pad_token: TINY_CLIP_SPECIAL_TOKENS.end,
    unk_token: TINY_CLIP_SPECIAL_TOKENS.unknown,
    do_lower_case: true,
  };
}

/** CLIPImageProcessor as in openai/clip-vit-base-patch32, scaled down: shortest side → imageSize, centre crop. */
function preprocessorConfig(imageSize: number): object {
  return {
    image_processor_type: 'CLIPImageProcessor',
    do_convert_rgb: true,
    do_resize: true,
    size: { shortest_edge: imageSize },
    resample: 3,
    do_center_crop: true,
    crop_size: { height: imageSize, width: imageSize },
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [...CLIP_MEAN],
    image_std: [...CLIP_STD],
  };
}
