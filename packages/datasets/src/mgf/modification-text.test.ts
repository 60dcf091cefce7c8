import { Rng } from '@cir/core-tensor';
import { describe, expect, it } from 'vitest';
import { fashionMtKind, numberedItems, parseRollback } from '../formats/fashion-mt';
import {
  ATTRIBUTE_VALUES,
  type AttributeName,
  type Attributes,
  CATEGORIES,
  CATEGORY_ATTRIBUTES,
} from '../synthetic/attributes';
import {
  attributeChanges,
  describeChange,
  MAX_RETROSPECTIVE_TURN,
  type Modification,
  ModificationParseError,
  modificationText,
  parseModification,
  sameModification,
} from './modification-text';

/** A random modification: 0–4 changes, 0–2 keeps of other attributes, a rollback half of the time. */
function randomModification(rng: Rng, category: (typeof CATEGORIES)[number]): Modification {
  const attributes = rng.shuffle([...CATEGORY_ATTRIBUTES[category]]);
  const changeCount = rng.int(5);
  const keepCount = rng.int(3);
  const changes: Attributes = {};
  for (const attribute of attributes.slice(0, changeCount))
    changes[attribute] = rng.pick(ATTRIBUTE_VALUES[attribute]);
  const keeps = attributes
    .slice(changeCount, changeCount + keepCount)
    .map((attribute) => ({ attribute, turn: rng.int(MAX_RETROSPECTIVE_TURN + 1) }));
  if (changeCount + keeps.length === 0) changes.colour = 'red';
  const modification: Modification = { keeps, changes };
  if (rng.next() < 0.5) modification.rollbackTurn = rng.int(MAX_RETROSPECTIVE_TURN + 1);
  return modification;
}

describe('modificationText', () => {
  it('writes MAI-style numbered items that name every change', () => {
    const text = modificationText(
      'dress',
      { keeps: [], changes: { colour: 'red', pattern: 'floral', sleeve: 'long' } },
      new Rng(3),
    );
    expect(text).toMatch(/^1\. .+ 2\. .+ 3\. .+ $/);
    expect(numberedItems(text)).toHaveLength(3);
    expect(text).toContain('red');
    expect(text).toContain('floral');
    expect(text).toMatch(/long-sleeved|long sleeves/);
  });

  it('opens rollbacks with a MAI template that parseRollback reads, and marks combinations for fashionMtKind', () => {
    const rng = new Rng(5);
    for (let turn = 0; turn <= MAX_RETROSPECTIVE_TURN; turn++) {
      const rollback = modificationText(
        'shirt',
        { rollbackTurn: turn, keeps: [], changes: { logo: 'star' } },
        rng,
      );
      expect(parseRollback(rollback)?.turn).toBe(turn);
      expect(fashionMtKind({ mod3: rollback })).toBe('rollback');
    }
    const combination = modificationText(
      'shirt',
      { keeps: [{ attribute: 'colour', turn: 0 }], changes: { fit: 'loose' } },
      rng,
    );
    expect(combination).toMatch(/2\. keep the colour (in|from) the first turn $/);
    expect(fashionMtKind({ mod3: combination })).toBe('combination');
    expect(numberedItems(combination)).toHaveLength(2);
  });

  it('never names a kept value', () => {
    const text = modificationText(
      'coat',
      { keeps: [{ attribute: 'colour', turn: 1 }], changes: {} },
      new Rng(1),
    );
    for (const colour of ATTRIBUTE_VALUES.colour) expect(text).not.toContain(colour);
  });

  it('refuses turns beyond what the rollback reader knows, and empty modifications', () => {
    expect(() =>
      modificationText('bag', { rollbackTurn: 3, keeps: [], changes: { size: 'large' } }, new Rng(1)),
    ).toThrow(RangeError);
    expect(() => modificationText('bag', { keeps: [], changes: {} }, new Rng(1))).toThrow(RangeError);
  });
});

describe('parseModification', () => {
  it('reads back every phrasing of every value of every category', () => {
    for (const category of CATEGORIES) {
      for (const attribute of CATEGORY_ATTRIBUTES[category]) {
        for (const value of ATTRIBUTE_VALUES[attribute]) {
          const phrasings = new Set<string>();
          const rng = new Rng(`${category}:${attribute}:${value}`);
          for (let draw = 0; draw < 40; draw++)
            phrasings.add(describeChange(category, attribute, value, rng));
          for (const phrasing of phrasings) {
            expect(parseModification(category, `1. ${phrasing} `), `${category}: "${phrasing}"`).toEqual({
              keeps: [],
              changes: { [attribute]: value },
            });
          }
        }
      }
    }
  });

  it('inverts modificationText on random rollback, combination and plain texts', () => {
    const rng = new Rng(11);
    for (let index = 0; index < 3000; index++) {
      const category = rng.pick(CATEGORIES);
      const modification = randomModification(rng, category);
      const text = modificationText(category, modification, rng);
      expect(parseModification(category, text), text).toEqual(modification);
    }
  });

  it('reads rewordings that keep the structure', () => {
    expect(
      parseModification(
        'coat',
        'I prefer the SECOND, and 1. a lovely long coat 2. with LONG SLEEVES please ',
      ),
    ).toEqual({ rollbackTurn: 1, keeps: [], changes: { length: 'long', sleeve: 'long' } });
    expect(
      parseModification('dress', '1. keep the color from the second turn and the logo in the first turn '),
    ).toEqual({
      keeps: [
        { attribute: 'colour', turn: 1 },
        { attribute: 'logo', turn: 0 },
      ],
      changes: {},
    });
  });

  it('rejects texts that lost their structure', () => {
    const unreadable = [
      'make it red',
      'Go back to the first one, and 1. is red ',
      '1. is red 3. has a floral pattern ',
      '1. is lovely ',
      '1. is red 2. in blue ',
      '1. keep the vibe in the first turn ',
    ];
    for (const text of unreadable)
      expect(() => parseModification('shirt', text), text).toThrow(ModificationParseError);
  });
});

describe('attributeChanges', () => {
  it('lists exactly the differing attributes with the new values', () => {
    const from = { colour: 'red', pattern: 'solid', length: 'short', heel: 'flat', logo: 'none' };
    const to = { ...from, colour: 'blue', logo: 'star' };
    expect(attributeChanges('shoes', from, to)).toEqual({ colour: 'blue', logo: 'star' });
  });
});

describe('sameModification', () => {
  it('ignores order and compares values, keeps and rollback', () => {
    const base: Modification = {
      rollbackTurn: 0,
      keeps: [
        { attribute: 'colour' as AttributeName, turn: 0 },
        { attribute: 'logo' as AttributeName, turn: 1 },
      ],
      changes: { fit: 'slim', size: 'small' },
    };
    const reordered: Modification = {
      rollbackTurn: 0,
      keeps: [...base.keeps].reverse(),
      changes: { size: 'small', fit: 'slim' },
    };
    expect(sameModification(base, reordered)).toBe(true);
    expect(sameModification(base, { ...base, rollbackTurn: undefined })).toBe(false);
    expect(sameModification(base, { ...base, changes: { fit: 'slim', size: 'large' } })).toBe(false);
    expect(sameModification(base, { ...base, keeps: [{ attribute: 'colour', turn: 1 }] })).toBe(false);
  });
});
