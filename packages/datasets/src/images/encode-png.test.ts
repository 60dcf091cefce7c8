import { describe, expect, it } from 'vitest';
import { encodePng } from './encode-png';
import { decodeImage } from './image-io';

describe('encodePng', () => {
  it('writes a PNG that decodes back to the same pixels', async () => {
    const width = 5;
    const height = 3;
    const pixels = Uint8Array.from({ length: width * height * 3 }, (_, index) => (index * 53 + 7) & 255);
    const png = await encodePng(pixels, width, height);
    // libpng verifies every chunk's CRC while decoding, so this also checks the checksums.
    const decoded = await decodeImage(png);
    expect([decoded.width, decoded.height]).toEqual([width, height]);
    expect([...decoded.data]).toEqual([...pixels]);
  });

  it('is deterministic', async () => {
    const pixels = new Uint8Array(8 * 8 * 3).fill(200);
    expect(await encodePng(pixels, 8, 8)).toEqual(await encodePng(pixels, 8, 8));
  });

  it('refuses pixels that do not match the size', async () => {
    await expect(encodePng(new Uint8Array(10), 2, 2)).rejects.toThrow(/10 bytes is not 2×2×3/);
  });
});
