import type { LoadOptions, LoadResult } from '../load-result';
import type { ShoesTriplet } from '../records';
import { isNonEmptyString, isObject, parseJsonArrayRecords, readNameLines } from './record-parsing';

export const SHOES_SPLITS = ['train', 'eval'] as const;
export type ShoesSplit = (typeof SHOES_SPLITS)[number];

/**
 * Loads `relative_captions_shoes.json`: {ImageName (the target), ReferenceImageName, RelativeCaption}. A blank
 * caption is kept and reported as a warning, as for the other relative-caption formats.
 */
export async function loadShoesTriplets(
  file: string,
  options: LoadOptions = {},
): Promise<LoadResult<ShoesTriplet>> {
  return parseJsonArrayRecords(file, options, 'Shoes triplets', (value, warn) => {
    if (!isObject(value)) return 'expected an object {ImageName, ReferenceImageName, RelativeCaption}';
    const { ImageName, ReferenceImageName, RelativeCaption } = value;
    if (!isNonEmptyString(ImageName)) return '"ImageName" must be a non-empty string';
    if (!isNonEmptyString(ReferenceImageName)) return '"ReferenceImageName" must be a non-empty string';
    if (typeof RelativeCaption !== 'string') return '"RelativeCaption" must be a string';
    if (RelativeCaption.trim() === '') warn('caption is empty');
    return { reference: ReferenceImageName, target: ImageName, caption: RelativeCaption };
  });
}

/** Loads an image-name list such as `train_im_names.txt`: one name per line, blank lines ignored. */
export async function loadImageNameList(file: string): Promise<string[]> {
  return readNameLines(file);
}

/**
 * The ARTEMIS split of the Shoes triplets: a triplet is a training one when both images are in the train list, an
 * evaluation one when both are in the eval list. The rest are returned as unassigned rather than dropped, so a
 * caller can report them (the real files have none).
 */
export function splitShoesTriplets(
  triplets: readonly ShoesTriplet[],
  trainNames: Iterable<string>,
  evalNames: Iterable<string>,
): { train: ShoesTriplet[]; eval: ShoesTriplet[]; unassigned: ShoesTriplet[] } {
  const train = new Set(trainNames);
  const evaluation = new Set(evalNames);
  const result = {
    train: [] as ShoesTriplet[],
    eval: [] as ShoesTriplet[],
    unassigned: [] as ShoesTriplet[],
  };
  for (const triplet of triplets) {
    if (train.has(triplet.reference) && train.has(triplet.target)) result.train.push(triplet);
    else if (evaluation.has(triplet.reference) && evaluation.has(triplet.target)) result.eval.push(triplet);
    else result.unassigned.push(triplet);
  }
  return result;
}
