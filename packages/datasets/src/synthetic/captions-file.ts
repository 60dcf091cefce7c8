import { writeFileAtomic } from '@cir/core-tensor';
import type { ImageCaptionPair } from '../records';
import type { Product } from './attributes';
import { productImagePath } from './render-catalog';

/**
 * Writes the image-caption pairs of a rendered catalog as JSONL, one `{"image": "images/<id>.png", "caption": …}`
 * per product (the shape `loadImageCaptionPairs` reads), with image paths relative to the file's folder.
 */
export async function writeCaptionsFile(products: readonly Product[], file: string): Promise<void> {
  const lines = products.map((product) => {
    const pair: ImageCaptionPair = { image: productImagePath(product), caption: product.caption };
    return `${JSON.stringify(pair)}\n`;
  });
  await writeFileAtomic(file, lines.join(''));
}
