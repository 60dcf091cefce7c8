import { DatasetFormatError } from '../errors';
import { readJsonFile } from '../json-io';
import type { LoadOptions, LoadResult } from '../load-result';
import type { CirrPair } from '../records';
import { isNonEmptyString, isObject, parseJsonArrayRecords } from './record-parsing';

export const CIRR_SPLITS = ['train', 'val', 'test1'] as const;
export type CirrSplit = (typeof CIRR_SPLITS)[number];

/** CIRR's subset protocol ranks the reference's group of six images, so every group must be complete. */
const IMAGE_SET_SIZE = 6;

/**
 * Loads `captions/cap.rc2.<split>.json`. test1 pairs have no target_hard, target_soft or target_rank, which is
 * valid. `img_set.members` must be 6 distinct names including the reference. A blank caption is kept and reported
 * as a warning (test1 has one).
 */
export async function loadCirrPairs(file: string, options: LoadOptions = {}): Promise<LoadResult<CirrPair>> {
  return parseJsonArrayRecords(file, options, 'CIRR pairs', (value, warn) => {
    if (!isObject(value)) return 'expected an object {pairid, reference, caption, img_set, …}';
    const { pairid, reference, caption, target_hard, target_soft, img_set } = value;
    if (!Number.isInteger(pairid)) return '"pairid" must be an integer';
    if (!isNonEmptyString(reference)) return '"reference" must be a non-empty string';
    if (typeof caption !== 'string') return '"caption" must be a string';
    if (target_hard !== undefined && !isNonEmptyString(target_hard)) {
      return '"target_hard" must be a non-empty string when present';
    }
    if (
      target_soft !== undefined &&
      !(isObject(target_soft) && Object.values(target_soft).every((score) => typeof score === 'number'))
    ) {
      return '"target_soft" must map image names to numbers when present';
    }
    if (!isObject(img_set)) return '"img_set" must be an object {id, members, reference_rank, …}';
    const { id, members, reference_rank, target_rank } = img_set;
    if (!Number.isInteger(id)) return '"img_set.id" must be an integer';
    if (
      !Array.isArray(members) ||
      members.length !== IMAGE_SET_SIZE ||
      !members.every(isNonEmptyString) ||
      new Set(members).size !== IMAGE_SET_SIZE
    ) {
      return `"img_set.members" must be ${IMAGE_SET_SIZE} distinct image names`;
    }
    if (!members.includes(reference))
      return `"img_set.members" does not include the reference "${reference}"`;
    for (const [name, rank] of [
      ['reference_rank', reference_rank],
      ['target_rank', target_rank],
    ] as const) {
      if (rank !== undefined && !Number.isInteger(rank))
        return `"img_set.${name}" must be an integer when present`;
    }
    if (caption.trim() === '') warn('caption is empty');
    return {
      pairId: pairid as number,
      reference,
      ...(target_hard === undefined ? {} : { targetHard: target_hard }),
      ...(target_soft === undefined ? {} : { targetSoft: target_soft as Record<string, number> }),
      caption,
      imageSet: {
        id: id as number,
        members,
        ...(reference_rank === undefined ? {} : { referenceRank: reference_rank as number }),
        ...(target_rank === undefined ? {} : { targetRank: target_rank as number }),
      },
    };
  });
}

/**
 * Loads `image_splits/split.rc2.<split>.json`: an object mapping every image name of the split to its path relative
 * to the image root. Its keys are the evaluation gallery, including images that are never a reference.
 */
export async function loadCirrSplit(file: string): Promise<Record<string, string>> {
  const data = await readJsonFile(file);
  if (!isObject(data))
    throw new DatasetFormatError(file, undefined, 'expected a JSON object {image name: path}');
  for (const [name, path] of Object.entries(data)) {
    if (!isNonEmptyString(path))
      throw new DatasetFormatError(file, { field: name }, 'expected a non-empty path');
  }
  return data as Record<string, string>;
}
