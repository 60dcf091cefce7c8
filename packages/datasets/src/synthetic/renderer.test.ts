import { describe, expect, it } from 'vitest';
import { decodeImage } from '../images/image-io';
import {
  ATTRIBUTE_VALUES,
  type Attributes,
  CATEGORIES,
  CATEGORY_ATTRIBUTES,
  type Category,
} from './attributes';
import { renderProductPng, renderProductPngs, renderProductSvg } from './renderer';

/** A product of the category with the first value of every attribute, changed by `overrides`. */
function product(category: Category, overrides: Attributes = {}) {
  const attributes: Attributes = {};
  for (const name of CATEGORY_ATTRIBUTES[category]) attributes[name] = ATTRIBUTE_VALUES[name][0];
  return { category, attributes: { ...attributes, colour: 'blue', ...overrides } };
}

/** Pixels whose largest channel difference is clearly visible (more than 48 of 255). */
function visiblyDifferentPixels(left: Uint8Array, right: Uint8Array): number {
  let count = 0;
  for (let pixel = 0; pixel < left.length; pixel += 3) {
    const difference = Math.max(
      Math.abs(left[pixel]! - right[pixel]!),
      Math.abs(left[pixel + 1]! - right[pixel + 1]!),
      Math.abs(left[pixel + 2]! - right[pixel + 2]!),
    );
    if (difference > 48) count++;
  }
  return count;
}

describe('renderProductPng', () => {
  it('is byte-identical for the same product', async () => {
    const dress = product('dress', { pattern: 'floral', logo: 'heart' });
    expect(await renderProductPng(dress)).toEqual(await renderProductPng(structuredClone(dress)));
  });

  it('renders every category at the requested size, on the light background', async () => {
    for (const category of CATEGORIES) {
      for (const size of [64, 32]) {
        const image = await decodeImage(await renderProductPng(product(category), { size }));
        expect([image.width, image.height]).toEqual([size, size]);
        expect([...image.data.subarray(0, 3)]).toEqual([0xe9, 0xe7, 0xe1]);
      }
    }
  });

  it('keeps a white product visible through its outline', async () => {
    const image = await decodeImage(await renderProductPng(product('shirt', { colour: 'white' })));
    let darkPixels = 0;
    for (let pixel = 0; pixel < image.data.length; pixel += 3) if (image.data[pixel]! < 160) darkPixels++;
    expect(darkPixels).toBeGreaterThan(100);
  });

  it('visibly changes with every value of every attribute', async () => {
    const failures: string[] = [];
    for (const category of CATEGORIES) {
      for (const name of CATEGORY_ATTRIBUTES[category]) {
        const values = ATTRIBUTE_VALUES[name];
        const variants = values.map((value) => product(category, { [name]: value }));
        const pixels = await Promise.all(
          (await renderProductPngs(variants)).map(async (png) => (await decodeImage(png)).data),
        );
        for (let first = 0; first < values.length; first++) {
          for (let second = first + 1; second < values.length; second++) {
            const count = visiblyDifferentPixels(pixels[first]!, pixels[second]!);
            if (count < 12)
              failures.push(`${category} ${name} ${values[first]} vs ${values[second]}: ${count} px`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('renderProductSvg', () => {
  it('scales the 64-unit drawing to the requested size', () => {
    expect(renderProductSvg(product('bag'), { size: 48 })).toMatch(
      /^<svg [^>]*width="48" height="48" viewBox="0 0 64 64"/,
    );
  });

  it('refuses a product missing one of its attributes or with an unknown value', () => {
    expect(() => renderProductSvg({ category: 'bag', attributes: { colour: 'red' } })).toThrow(
      /cannot render a bag whose pattern is undefined/,
    );
    expect(() => renderProductSvg(product('shoes', { heel: 'wedge' }))).toThrow(/whose heel is "wedge"/);
  });
});
