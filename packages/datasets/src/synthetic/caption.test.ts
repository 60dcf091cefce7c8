import { Rng } from '@cir/core-tensor';
import { describe, expect, it } from 'vitest';
import {
  ATTRIBUTE_VALUES,
  type Attributes,
  CATEGORIES,
  CATEGORY_ATTRIBUTES,
  type Category,
} from './attributes';
import { captionFor, parseCaption } from './caption';

/** Every attribute combination of a category (the categories hold at most 16,200). */
function allCombinations(category: Category): Attributes[] {
  let combinations: Attributes[] = [{}];
  for (const name of CATEGORY_ATTRIBUTES[category]) {
    combinations = combinations.flatMap((partial) =>
      ATTRIBUTE_VALUES[name].map((value) => ({ ...partial, [name]: value })),
    );
  }
  return combinations;
}

describe('captionFor', () => {
  it('reads naturally', () => {
    const attributes = {
      colour: 'red',
      pattern: 'striped',
      sleeve: 'long',
      neckline: 'v-neck',
      fit: 'slim',
      logo: 'star',
    };
    expect(captionFor({ category: 'shirt', attributes })).toBe(
      'a red striped long-sleeved shirt with a v-neck, a slim fit and a star logo',
    );
    const shoes = { colour: 'orange', pattern: 'solid', length: 'long', heel: 'high', logo: 'none' };
    expect(captionFor({ category: 'shoes', attributes: shoes })).toBe(
      'a pair of solid orange knee-high shoes with a high heel and no logo',
    );
    const bag = { colour: 'orange', pattern: 'dotted', length: 'short', size: 'large', logo: 'heart' };
    expect(captionFor({ category: 'bag', attributes: bag })).toBe(
      'an orange dotted short-handle bag in a large size with a heart logo',
    );
  });

  it('varies its wording with the rng', () => {
    const attributes = { colour: 'blue', pattern: 'plaid', length: 'medium', fit: 'loose', logo: 'none' };
    const rng = new Rng(1);
    const captions = new Set(
      Array.from({ length: 30 }, () => captionFor({ category: 'skirt', attributes }, rng)),
    );
    expect(captions).toEqual(
      new Set([
        'a blue plaid knee-length skirt with a loose fit and no logo',
        'blue skirt, plaid, knee-length, loose fit, no logo',
        'a knee-length skirt in a blue plaid print, with a loose fit',
      ]),
    );
  });

  it('names every attribute recoverably, for every combination of every category in every template', () => {
    for (const template of [0, 1, 2]) {
      const pickTemplate = { int: () => template } as unknown as Rng;
      for (const category of CATEGORIES) {
        for (const attributes of allCombinations(category)) {
          const caption = captionFor({ category, attributes }, pickTemplate);
          expect(parseCaption(category, caption), caption).toEqual(attributes);
        }
      }
    }
  });
});

describe('parseCaption', () => {
  it('matches whole phrases only', () => {
    // The coat length "long" must not be read from "long-sleeved", nor "medium-strap" from "medium size".
    expect(parseCaption('coat', 'a long-sleeved coat')).toEqual({ sleeve: 'long', logo: 'none' });
    expect(parseCaption('coat', 'a long long-sleeved coat')).toMatchObject({
      sleeve: 'long',
      length: 'long',
    });
    expect(parseCaption('bag', 'a bag in a medium size')).toEqual({ size: 'medium', logo: 'none' });
  });

  it('leaves out attributes mentioned with two values', () => {
    expect(parseCaption('shirt', 'a red and blue shirt with a star logo')).toEqual({ logo: 'star' });
  });
});
