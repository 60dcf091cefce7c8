import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageDecodeError } from '../errors';
import { CLIP_MEAN, CLIP_STD, decodeImage, preprocessBatch, preprocessImage } from './image-io';

const RED = { r: 255, g: 0, b: 0 };
const BLUE = { r: 0, g: 0, b: 255 };
const IDENTITY = { mean: [0, 0, 0], std: [1, 1, 1] } as const;

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'image-io-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** A PNG from raw RGB(A) pixels, written to the temp directory. */
async function writePng(
  name: string,
  pixels: number[],
  width: number,
  height: number,
  channels: 1 | 3 | 4 = 3,
) {
  const path = join(directory, name);
  await sharp(Uint8Array.from(pixels), { raw: { width, height, channels } }).png().toFile(path);
  return path;
}

async function writeSolid(name: string, width: number, height: number, colour = { r: 255, g: 255, b: 255 }) {
  const path = join(directory, name);
  await sharp({ create: { width, height, channels: 3, background: colour } }).toFile(path);
  return path;
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc32(typeAndData) >>> 0);
  return Buffer.concat([length, typeAndData, checksum]);
}

async function expectDecodeError(promise: Promise<unknown>, pattern: RegExp): Promise<ImageDecodeError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ImageDecodeError);
  expect((error as ImageDecodeError).message).toMatch(pattern);
  return error as ImageDecodeError;
}

describe('decodeImage', () => {
  it('decodes a 2×1 PNG to exact RGB bytes', async () => {
    const path = await writePng('red-blue.png', [255, 0, 0, 0, 0, 255], 2, 1);
    const image = await decodeImage(path);
    expect([image.width, image.height]).toEqual([2, 1]);
    expect([...image.data]).toEqual([255, 0, 0, 0, 0, 255]);
  });

  it('decodes bytes as well as paths, and a JPEG to close colours', async () => {
    const path = await writeSolid('red.jpg', 8, 8, RED);
    const image = await decodeImage(await readFile(path));
    expect(image.data.length).toBe(8 * 8 * 3);
    expect(image.data[0]).toBeGreaterThan(240);
    expect(image.data[1]).toBeLessThan(15);
    expect(image.data[2]).toBeLessThan(15);
  });

  it('flattens transparency on white and turns greyscale into RGB', async () => {
    const transparent = await writePng('transparent.png', [0, 0, 0, 0, 0, 0, 0, 255], 2, 1, 4);
    expect([...(await decodeImage(transparent)).data]).toEqual([255, 255, 255, 0, 0, 0]);
    const grey = await writePng('grey.png', [128, 7], 2, 1, 1);
    expect([...(await decodeImage(grey)).data]).toEqual([128, 128, 128, 7, 7, 7]);
  });

  it('reduces 16-bit images to 8 bits per channel', async () => {
    const path = join(directory, 'deep.png');
    await sharp({ create: { width: 2, height: 1, channels: 3, background: { r: 255, g: 128, b: 0 } } })
      .toColourspace('rgb16')
      .toFile(path);
    expect((await sharp(path).metadata()).depth).toBe('ushort');
    expect([...(await decodeImage(path)).data]).toEqual([255, 128, 0, 255, 128, 0]);
  });

  it('applies the EXIF orientation', async () => {
    const path = join(directory, 'rotated.jpg');
    await sharp({ create: { width: 4, height: 2, channels: 3, background: BLUE } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toFile(path);
    const image = await decodeImage(path);
    expect([image.width, image.height]).toEqual([2, 4]);
  });

  it('names the file and says what is wrong', async () => {
    const empty = join(directory, 'empty.png');
    await writeFile(empty, new Uint8Array(0));
    const error = await expectDecodeError(decodeImage(empty), /is empty \(0 bytes\)/);
    expect(error.file).toBe(empty);

    await expectDecodeError(
      decodeImage(join(directory, 'missing.png')),
      /missing\.png: cannot be read: .*ENOENT/,
    );

    const valid = await readFile(await writeSolid('whole.png', 16, 16));
    const truncated = join(directory, 'truncated.png');
    await writeFile(truncated, valid.subarray(0, 30));
    await expectDecodeError(decodeImage(truncated), /truncated\.png: is truncated or corrupt: /);
    const cutData = join(directory, 'cut-data.png');
    await writeFile(cutData, valid.subarray(0, valid.length - 20));
    await expectDecodeError(decodeImage(cutData), /cut-data\.png: is truncated or corrupt: /);

    const random = join(directory, 'random.png');
    await writeFile(
      random,
      Uint8Array.from({ length: 256 }, (_, index) => (index * 37 + 11) & 255),
    );
    await expectDecodeError(decodeImage(random), /random\.png: is not an image in a supported format/);
  });

  it('refuses a decompression bomb from its header, before decoding', async () => {
    const header = Buffer.alloc(13);
    header.writeUInt32BE(60000, 0);
    header.writeUInt32BE(60000, 4);
    header[8] = 8; // bit depth
    header[9] = 2; // RGB
    const bomb = Buffer.concat([
      Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
      pngChunk('IHDR', header),
      pngChunk('IDAT', new Uint8Array(16)),
      pngChunk('IEND', new Uint8Array(0)),
    ]);
    const path = join(directory, 'bomb.png');
    await writeFile(path, bomb);
    await expectDecodeError(
      decodeImage(path),
      /bomb\.png: has 60000×60000 = 3\.6e9 pixels, over the limit of 5e7$/,
    );
    await expectDecodeError(decodeImage(bomb, { maxPixels: 100 }), /over the limit of 100$/);
  });

  it('refuses files over the byte limit', async () => {
    const path = await writeSolid('bytes.png', 16, 16);
    await expectDecodeError(
      decodeImage(path, { maxBytes: 10 }),
      /bytes\.png: is \d+ bytes, over the limit of 10 bytes/,
    );
  });
});

describe('preprocessImage', () => {
  it('normalizes exact pixel values in chw and hwc layouts', async () => {
    // red, blue / green, white
    const path = await writePng('quad.png', [255, 0, 0, 0, 0, 255, 0, 255, 0, 255, 255, 255], 2, 2);
    const chw = await preprocessImage(path, { size: 2, ...IDENTITY });
    expect([...chw]).toEqual([1, 0, 0, 1, 0, 0, 1, 1, 0, 1, 0, 1]);
    const hwc = await preprocessImage(path, { size: 2, ...IDENTITY, layout: 'hwc' });
    expect([...hwc]).toEqual([1, 0, 0, 0, 0, 1, 0, 1, 0, 1, 1, 1]);
  });

  it('uses the CLIP mean and std by default', async () => {
    const path = await writeSolid('white.png', 4, 4);
    const output = await preprocessImage(path, { size: 4 });
    for (let channel = 0; channel < 3; channel++) {
      expect(output[channel * 16]).toBeCloseTo((1 - CLIP_MEAN[channel]) / CLIP_STD[channel], 5);
    }
  });

  it('center-crops the longer side, or pads it with black bands under target-pad', async () => {
    const path = await writeSolid('wide.png', 100, 40);
    const size = 32;
    const row = (output: Float32Array, y: number) => output.subarray(y * size, (y + 1) * size);
    const cropped = await preprocessImage(path, { size, ...IDENTITY });
    expect(cropped.every((value) => Math.abs(value - 1) < 1e-6)).toBe(true);

    // 100×40 has ratio 2.5 ≥ 1.25: padded to 100×80 (20 black rows above and below), resized to 40×32 and
    // center-cropped to 32×32, so a quarter of the rows (8) at the top and at the bottom are black.
    const padded = await preprocessImage(path, { size, ...IDENTITY, resize: 'target-pad' });
    for (const y of [0, 6, 25, 31]) expect(Math.max(...row(padded, y))).toBeLessThan(0.02);
    for (const y of [9, 16, 22]) expect(Math.min(...row(padded, y))).toBeGreaterThan(0.98);

    const square = await writeSolid('almost-square.png', 50, 45);
    const unpadded = await preprocessImage(square, { size, ...IDENTITY, resize: 'target-pad' });
    expect(unpadded.every((value) => Math.abs(value - 1) < 1e-6)).toBe(true);
  });

  it('stretches when asked, keeping both halves of a two-colour image', async () => {
    const path = await writePng('halves.png', [255, 0, 0, 0, 0, 255], 2, 1);
    const output = await preprocessImage(path, { size: 8, ...IDENTITY, resize: 'stretch' });
    expect(output[0]).toBeCloseTo(1, 2); // red plane, top-left
    expect(output[2 * 64 + 7]).toBeCloseTo(1, 2); // blue plane, top-right
  });
});

describe('preprocessBatch', () => {
  it('stacks images into [batch, 3, size, size] in input order', async () => {
    const red = await writeSolid('batch-red.png', 10, 10, RED);
    const blue = await writeSolid('batch-blue.png', 10, 10, BLUE);
    const batch = await preprocessBatch([red, blue, red], { size: 4, ...IDENTITY }, { concurrency: 2 });
    expect(batch.data.length).toBe(3 * 3 * 16);
    expect(batch.indices).toEqual([0, 1, 2]);
    // Red plane of the first image, blue plane of the second.
    expect(batch.data[0]).toBe(1);
    expect(batch.data[48 + 2 * 16]).toBe(1);
    expect(batch.data[48]).toBe(0);
  });

  it('throws on the first failure in strict mode and lists failures in skip mode', async () => {
    const blue = await writeSolid('skip-blue.png', 10, 10, BLUE);
    const missing = join(directory, 'skip-missing.png');
    await expectDecodeError(
      preprocessBatch([blue, missing], { size: 4 }),
      /skip-missing\.png: cannot be read/,
    );

    const batch = await preprocessBatch([missing, blue], { size: 4, ...IDENTITY }, { mode: 'skip' });
    expect(batch.indices).toEqual([1]);
    expect(batch.data.length).toBe(3 * 16);
    expect(batch.data[2 * 16]).toBe(1);
    expect(batch.failed).toHaveLength(1);
    expect(batch.failed[0]!.index).toBe(0);
    expect(batch.failed[0]!.source).toBe(missing);
    expect(batch.failed[0]!.error).toBeInstanceOf(ImageDecodeError);
  });
});
