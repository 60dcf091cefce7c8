import { promisify } from 'node:util';
import { crc32, deflate } from 'node:zlib';

const deflateAsync = promisify(deflate);
const SIGNATURE = Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10);
const COLOUR_TYPE_RGB = 2;

/**
 * Encodes 8-bit RGB pixels as a PNG. sharp costs about a millisecond of fixed overhead per call, which dominates
 * for small pictures; this costs the deflate alone, runs on libuv's thread pool, and its output depends only on
 * the pixels and Node's zlib, so the same pixels always give the same bytes.
 *
 * @param pixels [height, width, 3] RGB
 */
export async function encodePng(pixels: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  const rowLength = width * 3;
  if (pixels.length !== rowLength * height) {
    throw new RangeError(`encodePng: ${pixels.length} bytes is not ${width}×${height}×3`);
  }
  // Each scanline starts with its filter type; 0 (none) keeps encoding cheap and deflate still shrinks flat art well.
  const scanlines = new Uint8Array((rowLength + 1) * height);
  for (let row = 0; row < height; row++) {
    scanlines.set(pixels.subarray(row * rowLength, (row + 1) * rowLength), row * (rowLength + 1) + 1);
  }
  const header = new Uint8Array(13);
  const headerView = new DataView(header.buffer);
  headerView.setUint32(0, width);
  headerView.setUint32(4, height);
  header[8] = 8; // bits per channel
  header[9] = COLOUR_TYPE_RGB;
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', await deflateAsync(scanlines)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** A PNG chunk: length, type, data and the CRC of type + data. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const output = new Uint8Array(12 + data.length);
  const view = new DataView(output.buffer);
  view.setUint32(0, data.length);
  for (let index = 0; index < 4; index++) output[4 + index] = type.charCodeAt(index);
  output.set(data, 8);
  view.setUint32(8 + data.length, crc32(output.subarray(4, 8 + data.length)));
  return output;
}
