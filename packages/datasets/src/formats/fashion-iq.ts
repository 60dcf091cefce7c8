import { join } from 'node:path';
import type { LoadOptions, LoadResult } from '../load-result';
import type { FashionIqCategory, FashionIqTriplet } from '../records';
import { isNonEmptyString, isObject, parseJsonArrayRecords, readStringArray } from './record-parsing';

export const FASHION_IQ_SPLITS = ['train', 'val', 'test'] as const;
export type FashionIqSplit = (typeof FASHION_IQ_SPLITS)[number];

/**
 * Loads `captions/cap.<category>.<split>.json`. The file's "candidate" is the reference image; test files have no
 * target. A triplet without exactly two captions is invalid; an empty caption is kept and reported as a warning
 * (shirt-val has one, toptee-val two).
 */
export async function loadFashionIqTriplets(
  file: string,
  options: LoadOptions = {},
): Promise<LoadResult<FashionIqTriplet>> {
  return parseJsonArrayRecords(file, options, 'FashionIQ triplets', (value, warn) => {
    if (!isObject(value)) return 'expected an object {candidate, target, captions}';
    const { candidate, target, captions } = value;
    if (!isNonEmptyString(candidate)) return '"candidate" must be a non-empty string';
    if (target !== undefined && !isNonEmptyString(target))
      return '"target" must be a non-empty string when present';
    if (
      !Array.isArray(captions) ||
      captions.length !== 2 ||
      !captions.every((caption) => typeof caption === 'string')
    ) {
      return '"captions" must be an array of exactly 2 strings';
    }
    captions.forEach((caption: string, index) => {
      if (caption.trim() === '') warn(`caption ${index + 1} is empty`);
    });
    return {
      reference: candidate,
      ...(target === undefined ? {} : { target }),
      captions: [captions[0], captions[1]],
    };
  });
}

/** Loads a JSON array of image names, such as FashionIQ's and multi-turn FashionIQ's `image_splits/` files. */
export async function loadImageList(file: string): Promise<string[]> {
  return readStringArray(file, 'image names');
}

/** The caption and image-split files of one FashionIQ category and split under the dataset root. */
export function fashionIqPaths(
  root: string,
  category: FashionIqCategory,
  split: FashionIqSplit,
): { captions: string; split: string } {
  return {
    captions: join(root, 'captions', `cap.${category}.${split}.json`),
    split: join(root, 'image_splits', `split.${category}.${split}.json`),
  };
}

/**
 * The evaluation query text of a FashionIQ triplet, exactly as CLIP4Cir and SPRC build it in Python:
 * `c1.strip('.?, ').capitalize() + " and " + c2.strip('.?, ')`. Python's capitalize lower-cases everything after
 * the first character ("Is Red" → "Is red"), which changes tokenization, so a port must copy it.
 */
export function joinFashionIqCaptions(firstCaption: string, secondCaption: string): string {
  return `${capitalize(stripQueryPunctuation(firstCaption))} and ${stripQueryPunctuation(secondCaption)}`;
}

function stripQueryPunctuation(text: string): string {
  return text.replace(/^[.?, ]+|[.?, ]+$/g, '');
}

function capitalize(text: string): string {
  // Array.from splits by code point, as Python indexes characters, not UTF-16 units.
  const [first = '', ...rest] = Array.from(text);
  return first.toUpperCase() + rest.join('').toLowerCase();
}
