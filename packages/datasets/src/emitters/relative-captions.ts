import type { Rng } from '@cir/core-tensor';
import { describeChange } from '../mgf/modification-text';
import type { AttributeName, Attributes, Category } from '../synthetic/attributes';

/** One relative caption naming every change ("is red and has long sleeves"), as CIRR and Shoes annotators write. */
export function relativeCaption(category: Category, changes: Attributes, rng: Rng): string {
  if (Object.keys(changes).length === 0) throw new RangeError('a relative caption needs at least one change');
  return rng
    .shuffle(Object.entries(changes))
    .map(([attribute, value]) => describeChange(category, attribute as AttributeName, value!, rng))
    .join(' and ');
}

/**
 * Two relative captions as FashionIQ's two annotators write them: each describes part of the change and together
 * they name all of it. A single change is described by both, worded independently.
 */
export function twoPartialCaptions(category: Category, changes: Attributes, rng: Rng): [string, string] {
  const entries = rng.shuffle(Object.entries(changes));
  const split = entries.length <= 1 ? 1 : 1 + rng.int(entries.length - 1);
  const first = entries.slice(0, split);
  const second = entries.length === 1 ? entries : entries.slice(split);
  return [
    relativeCaption(category, Object.fromEntries(first), rng),
    relativeCaption(category, Object.fromEntries(second), rng),
  ];
}
