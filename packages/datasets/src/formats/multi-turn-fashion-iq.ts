import type { LoadOptions, LoadResult } from '../load-result';
import type { MultiTurnFashionIqSession } from '../records';
import { isNonEmptyString, isObject, parseJsonArrayRecords } from './record-parsing';

/** The repository ships train and val sessions only. */
export const MULTI_TURN_FASHION_IQ_SPLITS = ['train', 'val'] as const;

/**
 * Loads multi-turn FashionIQ `data/<category>.<split>.json`:
 * `{target: [url, asin], reference: [[url, [caption1, caption2], asin], …]}`. Turn t's captions lead from its image
 * to turn t + 1's (the last turn's to the target).
 *
 * A few real turns do not have exactly two captions: three with an empty one in the middle, or a single one (dress-val
 * has five such turns, toptee-val two). Their non-empty captions are kept as the pair (padded with "" when there is
 * one) and the turn is reported as a warning, as is an empty caption in a pair; more than two non-empty captions
 * cannot be kept as a pair and make the session invalid.
 */
export async function loadMultiTurnFashionIq(
  file: string,
  options: LoadOptions = {},
): Promise<LoadResult<MultiTurnFashionIqSession>> {
  return parseJsonArrayRecords(file, options, 'multi-turn FashionIQ sessions', (value, warn) => {
    if (!isObject(value)) return 'expected an object {target, reference}';
    const { target, reference } = value;
    if (
      !Array.isArray(target) ||
      target.length !== 2 ||
      typeof target[0] !== 'string' ||
      !isNonEmptyString(target[1])
    ) {
      return '"target" must be [image url, asin]';
    }
    if (!Array.isArray(reference) || reference.length === 0) {
      return '"reference" must be a non-empty array of turns';
    }
    const turns: MultiTurnFashionIqSession['turns'] = [];
    for (const [index, turn] of reference.entries()) {
      if (
        !Array.isArray(turn) ||
        turn.length !== 3 ||
        typeof turn[0] !== 'string' ||
        !Array.isArray(turn[1]) ||
        !turn[1].every((caption: unknown) => typeof caption === 'string') ||
        !isNonEmptyString(turn[2])
      ) {
        return `reference turn ${index} must be [image url, [caption1, caption2], asin]`;
      }
      const [imageUrl, captions, asin] = turn as [string, string[], string];
      if (captions.length === 2) {
        captions.forEach((caption, captionIndex) => {
          if (caption.trim() === '') warn(`turn ${index} caption ${captionIndex + 1} is empty`);
        });
        turns.push({ imageUrl, captions: [captions[0], captions[1]], asin });
        continue;
      }
      const nonEmpty = captions.filter((caption) => caption.trim() !== '');
      if (nonEmpty.length === 0 || nonEmpty.length > 2) {
        return `reference turn ${index} has ${nonEmpty.length} non-empty captions, expected 1 or 2`;
      }
      const count = `${captions.length} caption${captions.length === 1 ? '' : 's'}`;
      warn(`turn ${index} has ${count} instead of 2; kept ${JSON.stringify(nonEmpty)}`);
      turns.push({ imageUrl, captions: [nonEmpty[0], nonEmpty[1] ?? ''], asin });
    }
    return { target: { imageUrl: target[0], asin: target[1] }, turns };
  });
}
