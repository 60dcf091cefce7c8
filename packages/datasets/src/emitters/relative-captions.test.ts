import { Rng } from '@cir/core-tensor';
import { describe, expect, it } from 'vitest';
import { parseModification } from '../mgf/modification-text';
import { relativeCaption, twoPartialCaptions } from './relative-captions';

const CHANGES = { colour: 'blue', pattern: 'plaid', logo: 'none' };

describe('relativeCaption', () => {
  it('names every change in one sentence, and refuses an empty change', () => {
    const caption = relativeCaption('shirt', CHANGES, new Rng(1));
    expect(caption.split(' and ')).toHaveLength(3);
    expect(parseModification('shirt', `1. ${caption} `).changes).toEqual(CHANGES);
    expect(() => relativeCaption('shirt', {}, new Rng(1))).toThrow(RangeError);
  });
});

describe('twoPartialCaptions', () => {
  it('splits the change between two captions that together name all of it', () => {
    const rng = new Rng(2);
    for (let draw = 0; draw < 50; draw++) {
      const captions = twoPartialCaptions('shirt', CHANGES, rng);
      const [first, second] = captions.map((caption) => parseModification('shirt', `1. ${caption} `).changes);
      expect({ ...first, ...second }).toEqual(CHANGES);
      expect(Object.keys(first!).filter((name) => name in second!)).toEqual([]);
    }
  });

  it('describes a single change twice', () => {
    const captions = twoPartialCaptions('dress', { colour: 'red' }, new Rng(3));
    for (const caption of captions)
      expect(parseModification('dress', `1. ${caption} `).changes).toEqual({ colour: 'red' });
  });
});
