import type { Rng } from '@cir/core-tensor';
import { parseRollback, ROLLBACK_PREFIXES } from '../formats/fashion-mt';
import {
  ATTRIBUTE_VALUES,
  type AttributeName,
  type Attributes,
  CATEGORY_ATTRIBUTES,
  type Category,
  describeValue,
} from '../synthetic/attributes';

/**
 * An attribute the target takes from an earlier turn's image. The text names the attribute and the turn but never
 * the value ("keep the colour in the first turn"), so only a reader of the history can know it.
 */
export interface KeptAttribute {
  attribute: AttributeName;
  /** 0-based image index: 0 is the first reference image. */
  turn: number;
}

/** What one modification text asks for, in the attribute oracle's terms. */
export interface Modification {
  /** The earlier image the text returns to ("I prefer the FIRST, and …"), 0 being the first reference image. */
  rollbackTurn?: number;
  keeps: KeptAttribute[];
  /** The attribute values the text names. */
  changes: Attributes;
}

/**
 * Rollback and keep texts name turns with words up to the third, because that is what MAI's loaders read
 * (`parseRollback` knows FIRST, SECOND and THIRD); so a retrospective text can reach back to image 2 at most.
 */
export const MAX_RETROSPECTIVE_TURN = 2;
const ROLLBACK_WORDS = ['FIRST', 'SECOND', 'THIRD'] as const;
// Lower-case words, not "1st": MAI's training regex `\d+\.\s*([^0-9]+)` cuts an item at its first digit.
const KEEP_ORDINALS = ['first', 'second', 'third'] as const;

/** How a kept attribute is named (its value never is). */
const ATTRIBUTE_NOUNS: Record<AttributeName, string> = {
  colour: 'colour',
  pattern: 'pattern',
  sleeve: 'sleeve length',
  neckline: 'neckline',
  length: 'length',
  logo: 'logo',
  fit: 'fit',
  heel: 'heel',
  size: 'size',
};

/** "has long sleeves" reads better than "has long-sleeved"; the parser knows these forms too. */
const SLEEVE_NOUNS: Record<string, string> = {
  sleeveless: 'no sleeves',
  short: 'short sleeves',
  long: 'long sleeves',
};

type ChangeTemplate = (phrase: string, value: string) => string;

/** Several phrasings per attribute, each containing a phrase the parser can find (see `valuePhrases`). */
const CHANGE_TEMPLATES: Record<AttributeName, readonly ChangeTemplate[]> = {
  colour: [
    (phrase) => `is ${phrase}`,
    (phrase) => `in ${phrase}`,
    (phrase) => `change the colour to ${phrase}`,
    (phrase) => `${phrase} in colour`,
    (phrase) => `make it ${phrase}`,
  ],
  pattern: [
    (phrase) => `is ${phrase}`,
    (phrase) => `has a ${phrase} pattern`,
    (phrase) => `change the pattern to ${phrase}`,
  ],
  sleeve: [
    (phrase) => `is ${phrase}`,
    (phrase) => `make it ${phrase}`,
    (_, value) => `has ${SLEEVE_NOUNS[value]}`,
    (_, value) => `with ${SLEEVE_NOUNS[value]}`,
  ],
  neckline: [
    (phrase) => `has a ${phrase}`,
    (phrase) => `with a ${phrase}`,
    (phrase) => `change the neckline to a ${phrase}`,
  ],
  length: [
    (phrase) => `is ${phrase}`,
    (phrase) => `make it ${phrase}`,
    (phrase) => `change the length to ${phrase}`,
  ],
  logo: [
    (phrase, value) => `has ${value === 'none' ? '' : 'a '}${phrase}`,
    (phrase, value) => `with ${value === 'none' ? '' : 'a '}${phrase}`,
  ],
  fit: [(phrase) => `is a ${phrase}`, (phrase) => `has a ${phrase}`, (phrase) => `in a ${phrase}`],
  heel: [(phrase) => `has a ${phrase}`, (phrase) => `with a ${phrase}`, (phrase) => `change to a ${phrase}`],
  size: [
    (phrase) => `in a ${phrase}`,
    (phrase) => `comes in a ${phrase}`,
    (phrase) => `change to a ${phrase}`,
  ],
};

/** The attributes on which `to` differs from `from`, with `to`'s values, in the category's attribute order. */
export function attributeChanges(category: Category, from: Attributes, to: Attributes): Attributes {
  const changes: Attributes = {};
  for (const name of CATEGORY_ATTRIBUTES[category]) {
    if (from[name] !== to[name]) changes[name] = to[name];
  }
  return changes;
}

/** One phrase asking for one attribute value ("has a floral pattern"), in a wording picked by `rng`. */
export function describeChange(
  category: Category,
  attribute: AttributeName,
  value: string,
  rng: Rng,
): string {
  return rng.pick(CHANGE_TEMPLATES[attribute])(describeValue(category, attribute, value), value);
}

/**
 * A FashionMT-style modification text: numbered items "1. is red 2. has long sleeves " naming every change in a
 * random order, then the kept attributes ("3. keep the colour in the first turn "), behind a rollback opening from
 * MAI's templates when the text returns to an earlier image ("I prefer the SECOND, and 1. …").
 */
export function modificationText(category: Category, modification: Modification, rng: Rng): string {
  const changeItems = rng
    .shuffle(Object.entries(modification.changes))
    .map(([attribute, value]) => describeChange(category, attribute as AttributeName, value!, rng));
  const keepItems =
    modification.keeps.length > 1 && rng.next() < 0.5
      ? [`keep ${modification.keeps.map((keep) => keepClause(keep, rng)).join(' and ')}`]
      : modification.keeps.map((keep) => `keep ${keepClause(keep, rng)}`);
  const items = [...changeItems, ...keepItems];
  if (items.length === 0)
    throw new RangeError('a modification text needs at least one change or kept attribute');
  const numbered = items.map((item, index) => `${index + 1}. ${item} `).join('');
  if (modification.rollbackTurn === undefined) return numbered;
  return `${rng.pick(ROLLBACK_PREFIXES)}${turnWord(ROLLBACK_WORDS, modification.rollbackTurn)}, and ${numbered}`;
}

function keepClause(keep: KeptAttribute, rng: Rng): string {
  const preposition = rng.pick(['in', 'from']);
  return `the ${ATTRIBUTE_NOUNS[keep.attribute]} ${preposition} the ${turnWord(KEEP_ORDINALS, keep.turn)} turn`;
}

function turnWord<T>(words: readonly T[], turn: number): T {
  const word = words[turn];
  if (word === undefined) {
    throw new RangeError(`a retrospective text can name turns 0 to ${MAX_RETROSPECTIVE_TURN}, got ${turn}`);
  }
  return word;
}

/** A text that `parseModification` cannot read, with the reason. */
export class ModificationParseError extends Error {
  constructor(
    readonly text: string,
    readonly detail: string,
  ) {
    super(`cannot read modification text "${text}": ${detail}`);
    this.name = 'ModificationParseError';
  }
}

/**
 * The attribute oracle's reader: what a modification text asks for. It inverts every template of
 * `modificationText` and also reads rewordings that keep the structure (the numbered items, the rollback opening,
 * "keep the <attribute> in|from the <ordinal> turn" and each value's phrase), so a paraphrase can be checked by
 * comparing its reading with the original's (`sameModification`).
 *
 * @throws ModificationParseError when the text has no numbered items, an item names no attribute value, or an
 * attribute is asked for twice.
 */
export function parseModification(category: Category, text: string): Modification {
  const rollback = parseRollback(text);
  const items = splitNumberedItems(text, rollback ? rollback.rest : text);
  const modification: Modification = { keeps: [], changes: {} };
  if (rollback) modification.rollbackTurn = rollback.turn;
  const named = new Set<AttributeName>();
  const claim = (attribute: AttributeName) => {
    if (named.has(attribute)) throw new ModificationParseError(text, `the ${attribute} is named twice`);
    named.add(attribute);
  };
  for (const item of items) {
    if (/^keep the\b/i.test(item)) {
      const keeps = Array.from(item.matchAll(KEEP_CLAUSE), (match) => ({
        attribute: NOUN_ATTRIBUTES.get(match[1]!.toLowerCase())!,
        turn: KEEP_ORDINALS.indexOf(match[2]!.toLowerCase() as (typeof KEEP_ORDINALS)[number]),
      }));
      if (keeps.length === 0)
        throw new ModificationParseError(text, `"${item}" names no attribute and turn to keep`);
      for (const keep of keeps) claim(keep.attribute);
      modification.keeps.push(...keeps);
      continue;
    }
    const found = findValuePhrases(category, item);
    if (found.length === 0)
      throw new ModificationParseError(text, `"${item}" names no ${category} attribute value`);
    for (const { attribute, value } of found) {
      claim(attribute);
      modification.changes[attribute] = value;
    }
  }
  return modification;
}

/** Whether two readings ask for the same thing (item order and wording aside). */
export function sameModification(first: Modification, second: Modification): boolean {
  const keepKey = (keeps: KeptAttribute[]) =>
    keeps
      .map((keep) => `${keep.attribute}@${keep.turn}`)
      .sort()
      .join(',');
  const changeKey = (changes: Attributes) =>
    Object.entries(changes)
      .map(([attribute, value]) => `${attribute}=${value}`)
      .sort()
      .join(',');
  return (
    first.rollbackTurn === second.rollbackTurn &&
    keepKey(first.keeps) === keepKey(second.keeps) &&
    changeKey(first.changes) === changeKey(second.changes)
  );
}

const NOUN_ATTRIBUTES = new Map<string, AttributeName>([
  ...Object.entries(ATTRIBUTE_NOUNS).map(([attribute, noun]) => [noun, attribute as AttributeName] as const),
  ['color', 'colour'],
]);
const KEEP_CLAUSE = new RegExp(
  `the (${alternation([...NOUN_ATTRIBUTES.keys()])}) (?:in|from) the (${KEEP_ORDINALS.join('|')}) turn`,
  'gi',
);

/** Items of "1. … 2. … ", numbered 1, 2, … in order with nothing before the first. */
function splitNumberedItems(text: string, body: string): string[] {
  const markers = Array.from(body.matchAll(/(?:^|\s)(\d+)\.\s/g));
  if (markers.length === 0 || body.slice(0, markers[0]!.index).trim() !== '') {
    throw new ModificationParseError(
      text,
      'expected numbered items "1. … 2. …", optionally after a rollback opening',
    );
  }
  return markers.map((marker, index) => {
    if (Number(marker[1]) !== index + 1) {
      throw new ModificationParseError(text, `item ${index + 1} is numbered ${marker[1]}`);
    }
    const end = markers[index + 1]?.index ?? body.length;
    return body.slice(marker.index + marker[0].length, end).trim();
  });
}

interface ValuePhrase {
  attribute: AttributeName;
  value: string;
  pattern: RegExp;
  length: number;
}

const phrasesByCategory = new Map<Category, ValuePhrase[]>();

/**
 * Every phrase that names a value of the category, longest first so that "long sleeves" wins over the coat's
 * "long". A phrase matches whole words only: "long" does not match inside "long-sleeved".
 */
function valuePhrases(category: Category): ValuePhrase[] {
  let phrases = phrasesByCategory.get(category);
  if (phrases) return phrases;
  phrases = [];
  for (const attribute of CATEGORY_ATTRIBUTES[category]) {
    for (const value of ATTRIBUTE_VALUES[attribute]) {
      const forms = [describeValue(category, attribute, value)];
      if (attribute === 'sleeve') forms.push(SLEEVE_NOUNS[value]!);
      for (const form of forms) {
        phrases.push({
          attribute,
          value,
          pattern: new RegExp(`(?<![a-z-])${escapeRegExp(form)}(?![a-z-])`, 'gi'),
          length: form.length,
        });
      }
    }
  }
  phrases.sort((first, second) => second.length - first.length);
  phrasesByCategory.set(category, phrases);
  return phrases;
}

/** The values an item names, each span of text read once by its longest phrase. */
function findValuePhrases(category: Category, item: string): { attribute: AttributeName; value: string }[] {
  const claimed: [number, number][] = [];
  const found: { attribute: AttributeName; value: string; start: number }[] = [];
  for (const phrase of valuePhrases(category)) {
    for (const match of item.matchAll(phrase.pattern)) {
      const start = match.index;
      const end = start + match[0].length;
      if (claimed.some(([from, to]) => start < to && end > from)) continue;
      claimed.push([start, end]);
      found.push({ attribute: phrase.attribute, value: phrase.value, start });
    }
  }
  return found.sort((first, second) => first.start - second.start);
}

function alternation(words: string[]): string {
  return [...words]
    .sort((first, second) => second.length - first.length)
    .map(escapeRegExp)
    .join('|');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
