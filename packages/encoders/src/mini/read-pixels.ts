import { type ImageSource, preprocessBatch } from '@cir/datasets';

/**
 * Decodes images and resizes them (CLIP-style shorter-side resize + centre crop) to `size`, as 8-bit RGB.
 * Errors name the file (ImageDecodeError from @cir/datasets).
 *
 * @returns `[count, size, size, 3]` uint8 RGB
 */
export async function readPixels(sources: readonly ImageSource[], size: number): Promise<Uint8Array> {
  // Identity normalisation (mean 0, std 1/255) keeps the values as 0…255 pixel levels.
  const inverse = 1 / 255;
  const { data } = await preprocessBatch(sources, {
    size,
    mean: [0, 0, 0],
    std: [inverse, inverse, inverse],
    layout: 'hwc',
  });
  const pixels = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) pixels[i] = Math.max(0, Math.min(255, Math.round(data[i]!)));
  return pixels;
}
