import { readFile, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import sharp from 'sharp';
import { ImageDecodeError } from '../errors';
import type { LoadMode } from '../load-result';

export type ImageSource = string | Uint8Array;

export interface DecodeImageOptions {
  /**
   * Largest accepted width × height, checked against the header before any pixel is decoded so that a small file
   * claiming a huge size (a decompression bomb) cannot exhaust memory. Default 5e7.
   */
  maxPixels?: number;
  /** Largest accepted encoded size in bytes; a path is checked with stat() before it is read. Default: no limit. */
  maxBytes?: number;
}

/** Decoded pixels: `data` is [height, width, 3] RGB, 8 bits per channel. */
export interface DecodedImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export type ResizeMode = 'center-crop' | 'target-pad' | 'stretch';

export interface PreprocessOptions extends DecodeImageOptions {
  /** Output side length in pixels. */
  size: number;
  /**
   * center-crop: CLIP's Resize(size, bicubic) + CenterCrop(size). target-pad: CLIP4Cir's TargetPad first (black
   * bands make very wide or tall images less extreme), then center-crop. stretch: resize to size × size ignoring
   * the aspect ratio. Default center-crop.
   */
  resize?: ResizeMode;
  /** TargetPad's largest kept aspect ratio (max side / min side). Default 1.25, as in CLIP4Cir. */
  targetPadRatio?: number;
  /** Per-channel mean subtracted after scaling to [0, 1]. Default CLIP's. */
  mean?: readonly [number, number, number];
  /** Per-channel standard deviation divided by after subtracting the mean. Default CLIP's. */
  std?: readonly [number, number, number];
  /** chw: [3, size, size] (what ONNX vision encoders take); hwc: [size, size, 3]. Default chw. */
  layout?: 'chw' | 'hwc';
}

export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;
const DEFAULT_MAX_PIXELS = 5e7;
const IN_MEMORY_NAME = '(in-memory image)';

/**
 * Decodes a JPEG, PNG, WebP, GIF (first frame), TIFF, AVIF or SVG file or buffer into 8-bit RGB: EXIF orientation
 * applied, transparency flattened on white, greyscale and CMYK converted to sRGB.
 *
 * @returns pixels as [height, width, 3] RGB
 * @throws ImageDecodeError naming the file when it is missing, empty, over `maxBytes` or `maxPixels`, truncated,
 *   corrupt or in an unsupported format.
 */
export async function decodeImage(
  source: ImageSource,
  options: DecodeImageOptions = {},
): Promise<DecodedImage> {
  const name = typeof source === 'string' ? source : IN_MEMORY_NAME;
  const bytes = await readSourceBytes(source, options.maxBytes);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const metadata = await withDecodeErrors(name, sharp(bytes, { limitInputPixels: false }).metadata());
  const pixels = metadata.width * metadata.height;
  if (pixels > maxPixels) {
    throw new ImageDecodeError(
      name,
      `has ${metadata.width}×${metadata.height} = ${formatCount(pixels)} pixels, over the limit of ${formatCount(maxPixels)}`,
    );
  }
  // The pixel limit was checked above from the same header; failOn 'error' still rejects truncated data but
  // tolerates the harmless warnings many real JPEGs trigger.
  const pipeline = sharp(bytes, { limitInputPixels: false, failOn: 'error', autoOrient: true })
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' });
  const { data, info } = await withDecodeErrors(name, pipeline.toBuffer({ resolveWithObject: true }));
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: info.width,
    height: info.height,
  };
}

/**
 * Decodes, resizes and normalizes one image as CLIP-style vision encoders expect: (pixel / 255 − mean) / std.
 *
 * @returns [3, size, size] (layout chw, the default) or [size, size, 3] (layout hwc)
 * @throws ImageDecodeError as `decodeImage` does.
 */
export async function preprocessImage(
  source: ImageSource,
  options: PreprocessOptions,
): Promise<Float32Array> {
  const output = new Float32Array(3 * options.size * options.size);
  await preprocessInto(source, options, output, 0);
  return output;
}

export interface PreprocessBatchOptions {
  /** Images decoded at once; sharp decodes on libuv's thread pool, so more than the cores rarely helps. */
  concurrency?: number;
  /** strict: the first image that fails throws. skip: failed images are left out and listed in `failed`. */
  mode?: LoadMode;
}

export interface PreprocessedBatch {
  /** [batch, 3, size, size] (or [batch, size, size, 3] with layout hwc), one row per image that succeeded. */
  data: Float32Array;
  /** For each row of `data`, the index of its source in the input list. */
  indices: number[];
  /** Images that could not be read (skip mode only; strict mode throws instead). */
  failed: { index: number; source: ImageSource; error: ImageDecodeError }[];
}

/**
 * Preprocesses many images into one contiguous batch, a few at a time.
 *
 * @returns data as [batch, 3, size, size] where batch is the number of images that succeeded
 */
export async function preprocessBatch(
  sources: readonly ImageSource[],
  options: PreprocessOptions,
  batchOptions: PreprocessBatchOptions = {},
): Promise<PreprocessedBatch> {
  const imageLength = 3 * options.size * options.size;
  const staging = new Float32Array(sources.length * imageLength);
  const failures = new Map<number, ImageDecodeError>();
  const strict = batchOptions.mode !== 'skip';
  let nextIndex = 0;
  let unexpectedError: unknown;
  const runSlot = async (): Promise<void> => {
    while (nextIndex < sources.length && unexpectedError === undefined && !(strict && failures.size > 0)) {
      const index = nextIndex++;
      try {
        await preprocessInto(sources[index]!, options, staging, index * imageLength);
      } catch (error) {
        if (error instanceof ImageDecodeError) failures.set(index, error);
        else unexpectedError = error;
      }
    }
  };
  const concurrency = Math.max(1, batchOptions.concurrency ?? availableParallelism());
  await Promise.all(Array.from({ length: Math.min(concurrency, sources.length) }, runSlot));
  if (unexpectedError !== undefined) throw unexpectedError;
  if (strict && failures.size > 0) throw failures.get(Math.min(...failures.keys()))!;
  if (failures.size === 0) return { data: staging, indices: sources.map((_, index) => index), failed: [] };
  const indices = sources.map((_, index) => index).filter((index) => !failures.has(index));
  const data = new Float32Array(indices.length * imageLength);
  indices.forEach((sourceIndex, row) => {
    data.set(staging.subarray(sourceIndex * imageLength, (sourceIndex + 1) * imageLength), row * imageLength);
  });
  const failed = [...failures.entries()]
    .sort(([left], [right]) => left - right)
    .map(([index, error]) => ({ index, source: sources[index]!, error }));
  return { data, indices, failed };
}

async function preprocessInto(
  source: ImageSource,
  options: PreprocessOptions,
  output: Float32Array,
  offset: number,
): Promise<void> {
  const name = typeof source === 'string' ? source : IN_MEMORY_NAME;
  const { size } = options;
  const decoded = await decodeImage(source, options);
  const padded =
    options.resize === 'target-pad' ? await targetPad(decoded, options.targetPadRatio ?? 1.25) : decoded;
  const resized = await withDecodeErrors(
    name,
    sharp(padded.data, { raw: { width: padded.width, height: padded.height, channels: 3 } })
      .resize({
        width: size,
        height: size,
        fit: options.resize === 'stretch' ? 'fill' : 'cover',
        position: 'centre',
        kernel: 'cubic',
      })
      .raw()
      .toBuffer(),
  );
  const mean = options.mean ?? CLIP_MEAN;
  const std = options.std ?? CLIP_STD;
  const planeSize = size * size;
  const channelMajor = (options.layout ?? 'chw') === 'chw';
  for (let pixel = 0; pixel < planeSize; pixel++) {
    for (let channel = 0; channel < 3; channel++) {
      const value = (resized[pixel * 3 + channel]! / 255 - mean[channel]!) / std[channel]!;
      output[offset + (channelMajor ? channel * planeSize + pixel : pixel * 3 + channel)] = value;
    }
  }
}

/**
 * CLIP4Cir's TargetPad: an image whose aspect ratio is at least `ratio` gets symmetric black bands on its short
 * sides so that a later center crop keeps more of it; anything squarer is left untouched.
 */
async function targetPad(image: DecodedImage, ratio: number): Promise<DecodedImage> {
  const { width, height } = image;
  if (Math.max(width, height) / Math.min(width, height) < ratio) return image;
  const paddedSide = Math.max(width, height) / ratio;
  const horizontal = Math.max(Math.trunc((paddedSide - width) / 2), 0);
  const vertical = Math.max(Math.trunc((paddedSide - height) / 2), 0);
  const data = await sharp(image.data, { raw: { width, height, channels: 3 } })
    .extend({
      top: vertical,
      bottom: vertical,
      left: horizontal,
      right: horizontal,
      background: { r: 0, g: 0, b: 0 },
    })
    .raw()
    .toBuffer();
  return { data, width: width + 2 * horizontal, height: height + 2 * vertical };
}

async function readSourceBytes(
  source: ImageSource,
  maxBytes = Number.POSITIVE_INFINITY,
): Promise<Uint8Array> {
  const name = typeof source === 'string' ? source : IN_MEMORY_NAME;
  try {
    const byteLength = typeof source === 'string' ? (await stat(source)).size : source.byteLength;
    if (byteLength === 0) throw new ImageDecodeError(name, 'is empty (0 bytes)');
    if (byteLength > maxBytes) {
      throw new ImageDecodeError(name, `is ${byteLength} bytes, over the limit of ${maxBytes} bytes`);
    }
    return typeof source === 'string' ? await readFile(source) : source;
  } catch (error) {
    if (error instanceof ImageDecodeError) throw error;
    throw new ImageDecodeError(name, `cannot be read: ${(error as Error).message}`);
  }
}

/** Turns sharp's terse errors into ImageDecodeErrors that say what is wrong with the file. */
async function withDecodeErrors<T>(name: string, operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    const message = (error as Error).message.trim();
    if (/unsupported image format/i.test(message)) {
      throw new ImageDecodeError(
        name,
        'is not an image in a supported format (JPEG, PNG, WebP, GIF, TIFF, AVIF, SVG)',
      );
    }
    throw new ImageDecodeError(name, `is truncated or corrupt: ${message}`);
  }
}

/** 3.6e9 rather than 3600000000: large pixel counts are easier to compare in scientific notation. */
function formatCount(count: number): string {
  if (count < 1e6) return String(count);
  return count
    .toPrecision(3)
    .replace(/\.?0+e/, 'e')
    .replace('e+', 'e');
}
