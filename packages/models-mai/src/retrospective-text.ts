import { fashionMtKind, parseRollback } from '@cir/datasets';

/** What the last text asks for, read from its wording as the MAI paper does (template match). */
export interface TurnIntent {
  /** Turn (0-based image position in the session) to roll back to, when the text is a rollback request. */
  rollbackTo?: number;
  /** The text keeps attributes of earlier turns ("keep the colour in the first turn"). */
  combination: boolean;
  /**
   * The text the model reads: a rollback prefix is removed, since the reference swap already carries it; a
   * combination said plainly is rewritten in MAI's numbered form (`combinationTemplate`).
   */
  text: string;
}

/** Image positions a spoken rollback can name: "the original" and "the first" are the session's first reference. */
const SPOKEN_POSITIONS: Readonly<Record<string, number>> = {
  original: 0,
  first: 0,
  second: 1,
  third: 2,
  fourth: 3,
  fifth: 4,
  sixth: 5,
  seventh: 6,
  eighth: 7,
  ninth: 8,
  tenth: 9,
};

/** A position as a shopper names it: one of `SPOKEN_POSITIONS`, or a numeric ordinal ("2nd"); captured. */
const POSITION = String.raw`(${Object.keys(SPOKEN_POSITIONS).join('|')}|[1-9]\d?(?:st|nd|rd|th))`;

/** The 0-based image position a `POSITION` match names. */
function spokenPosition(word: string): number {
  const lower = word.toLowerCase();
  return SPOKEN_POSITIONS[lower] ?? Number.parseInt(lower, 10) - 1;
}

/** Turn numbers said as words ("turn two"). */
const NUMBER_WORDS: Readonly<Record<string, number>> = {
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
};

/** The nouns a shopper names an earlier image with ("the second one", "the previous item"). */
const IMAGE_NOUNS = 'one|item|image|picture|photo|result|option|choice';

/**
 * The image a spoken rollback names, captured in one of three groups: an ordinal (`POSITION`: "the second one",
 * "the 2nd turn"), a turn number ("turn 2", "turn two": the reference of that turn, 1-based), or the image before the
 * current reference ("the previous one", "the one before", "the one before this").
 */
const ROLLBACK_TARGET = [
  String.raw`(?:the\s+)?${POSITION}(?:\s+(?:${IMAGE_NOUNS}|turn))?`,
  String.raw`turn\s+(?:number\s+)?([1-9]\d?|${Object.keys(NUMBER_WORDS).join('|')})`,
  String.raw`(?:the\s+)?(previous(?:\s+(?:${IMAGE_NOUNS}))?|one\s+before(?:\s+(?:this|that)(?:\s+one)?)?)`,
].join('|');

/**
 * A rollback said in a shopper's words, at the start of the text: an optional lead-in ("ok", "actually", "let's"),
 * a verb of returning, showing or preferring ("go back to", "return to", "show me", "I prefer", "I'd rather have"), the
 * position ("the second one", "the 2nd", "the original item"), and then the end of the text, a punctuation mark or
 * a word that starts the rest ("and", "but", "with", "in", …). The last condition keeps "I like the first turn's
 * colour" (a combination, not a rollback) out.
 */
const SPOKEN_ROLLBACK = new RegExp(
  [
    String.raw`^(?:(?:ok(?:ay)?|actually|no|hmm+|well|please|let['’]?s|let us|can we|could we|can you|could you|i want to|i['’]?d like to|i would like to|compared to this one)[\s,]+)*`,
    String.raw`(?:(?:go(?:ing)?|get|switch|take me|bring me)\s+back\s+to|back\s+to|return\s+to|revert\s+to|roll\s*back\s+to|show\s+me|see|`,
    String.raw`i(?:\s+would|\s*['’]d)?\s+(?:rather\s+)?(?:prefer|like|choose|take|want|have)(?:\s+to\s+(?:have|choose|see))?)`,
    String.raw`\s+(?:${ROLLBACK_TARGET})(?:\s+better)?`,
    String.raw`(?=$|\s*[,;:.!]|\s+(?:and|but|with|in|only|though|again|then|please)\b)`,
  ].join(''),
  'i',
);

/** Punctuation and a joining word between a spoken rollback and the rest of its text. */
const ROLLBACK_JOIN = /^[\s,;:.!]*(?:(?:and|but|then)\b[\s,]*)?/i;

/**
 * Reads a rollback said in a shopper's words ("go back to the second one, with long sleeves", "I prefer the first
 * one, and 1. is yellow", "back to the original", "go back to turn 2", "back to the previous one"): the image position
 * it names (0-based) and the rest of the text. Case does not matter. Undefined when the text does not start like
 * that.
 * @param images the session's images so far, the current reference included (a turn's reference is image turn − 1).
 *   "The previous one" is the image before the current reference, so it is read only when this is given (and is at
 *   least 2).
 */
export function parseSpokenRollback(
  text: string,
  images?: number,
): { turn: number; rest: string } | undefined {
  const trimmed = text.trim();
  const match = SPOKEN_ROLLBACK.exec(trimmed);
  if (!match) return undefined;
  const [, ordinal, turnNumber, previous] = match;
  let turn: number;
  if (ordinal !== undefined) turn = spokenPosition(ordinal);
  else if (turnNumber !== undefined)
    turn = (NUMBER_WORDS[turnNumber.toLowerCase()] ?? Number.parseInt(turnNumber, 10)) - 1;
  else if (previous !== undefined && images !== undefined) turn = images - 2;
  else return undefined;
  if (!(turn >= 0)) return undefined;
  return { turn, rest: trimmed.slice(match[0].length).replace(ROLLBACK_JOIN, '') };
}

/**
 * A combination said in a shopper's words: "keep the <attribute> of / from / in / like the <position> [one, item,
 * turn, …]" anywhere in the text ("in blue, but keep the pattern of the first one"). MAI's own combination texts
 * ("2. keep the pattern in the first turn") match it too; no text of the real benchmark files does.
 */
const SPOKEN_COMBINATION = new RegExp(
  String.raw`\bkeep(?:ing)?\s+(?:the\s+)?(.{1,40}?)\s+(?:of|from|in|as in|like)\s+(?:the\s+)?${POSITION}` +
    String.raw`(?:\s+(?:one|item|image|picture|photo|result|turn))?\b`,
  'i',
);

const POSITION_WORDS = Object.keys(SPOKEN_POSITIONS).slice(1); // first … tenth

/** Whether the text asks to keep what an earlier item had: MAI's "N. keep the … turn", or said plainly. */
export function isCombinationRequest(text: string): boolean {
  return fashionMtKind({ mod3: text }) === 'combination' || SPOKEN_COMBINATION.test(text);
}

/**
 * A combination said plainly, rewritten in the numbered form MAI is trained on: "is blue, but keep the pattern of
 * the first one" → "1. is blue 2. keep the pattern in the first turn". Clauses are split at commas, semicolons and
 * "but" (not at "and", which also joins colours: "black and white"). Undefined for texts that are already
 * numbered or that keep nothing.
 */
export function combinationTemplate(text: string): string | undefined {
  if (/\d+\.\s/.test(text) || !SPOKEN_COMBINATION.test(text)) return undefined;
  const clauses = text
    .split(/\s*(?:[,;]|\bbut\b)\s*/i)
    .map((clause) => clause.replace(/^(?:and|then)\s+/i, '').trim())
    .filter((clause) => clause.length > 0);
  const items = clauses.map((clause) => {
    const match = SPOKEN_COMBINATION.exec(clause);
    if (!match) return clause;
    return `keep the ${match[1]} in the ${POSITION_WORDS[spokenPosition(match[2]!)] ?? match[2]!.toLowerCase()} turn`;
  });
  return items.map((item, index) => `${index + 1}. ${item}`).join(' ');
}

/**
 * Detects rollback and combination requests. Rollback: MAI's templates first (case-sensitive prefixes, e.g. "I
 * prefer the SECOND, and …", as its loader reads the data), then the same request in a shopper's words
 * (`parseSpokenRollback`: "go back to the second one, with long sleeves", "back to the previous one"). Combination:
 * "N. keep the … turn", or "keep the pattern of the first one" (`isCombinationRequest`).
 * @param images the session's images so far, the current reference included: needed to read "the previous one"
 */
export function readTurnIntent(text: string, images?: number): TurnIntent {
  const rollback = parseRollback(text) ?? parseSpokenRollback(text, images);
  if (rollback) return { rollbackTo: rollback.turn, combination: false, text: rollback.rest.trim() };
  if (fashionMtKind({ mod3: text }) === 'combination') return { combination: true, text };
  const template = combinationTemplate(text);
  return template === undefined ? { combination: false, text } : { combination: true, text: template };
}
