import type { LoadOptions, LoadResult } from '../load-result';
import type { FashionMtKind, FashionMtTransaction } from '../records';
import { isNonEmptyString, isObject, parseJsonArrayRecords, readNameLines } from './record-parsing';

const TRANSACTION_FIELDS = [
  'ref',
  'tar1',
  'tar2',
  'tar3',
  'mod1',
  'mod2',
  'mod3',
  'cap0',
  'cap1',
  'cap2',
  'cap3',
] as const satisfies readonly (keyof FashionMtTransaction)[];

/**
 * The openings of MAI's rollback texts (`make_modifier_200k.py`, `make_modifier_shoes.py`): "<prefix>FIRST, and 1. …".
 * The Shoes generator writes "I like the FIRST better, and …", so " better" is accepted before the comma.
 */
export const ROLLBACK_PREFIXES = [
  'Compared to this one I prefer the ',
  'I would rather choose the ',
  'I prefer the ',
  'I like the ',
] as const;
export type RollbackPrefix = (typeof ROLLBACK_PREFIXES)[number];

/** Which earlier image the rollback returns to: 0 = ref, 1 = tar1, 2 = tar2. */
const ROLLBACK_TURNS = { FIRST: 0, SECOND: 1, THIRD: 2 } as const;
const ROLLBACK_TARGET = /^(FIRST|SECOND|THIRD)(?: better)?, and\s*/;
const COMBINATION_ITEM = /\d+\.\s*keep the/i;
const NUMBERED_ITEM = /\d+\.\s*(.+?)(?=\s*\d+\.\s|$)/g;

/** Loads a FashionMT `*_cap.json`: a JSON list of transactions whose eleven fields are all non-empty strings. */
export async function loadFashionMtTransactions(
  file: string,
  options: LoadOptions = {},
): Promise<LoadResult<FashionMtTransaction>> {
  return parseJsonArrayRecords(file, options, 'FashionMT transactions', (value) => {
    if (!isObject(value)) return `expected an object {${TRANSACTION_FIELDS.join(', ')}}`;
    const missing = TRANSACTION_FIELDS.filter((field) => !isNonEmptyString(value[field]));
    if (missing.length > 0) {
      const fields = missing.map((field) => `"${field}"`).join(', ');
      return `${fields} must be ${missing.length === 1 ? 'a non-empty string' : 'non-empty strings'}`;
    }
    // Only the known fields are copied: extra keys of the file do not travel into the records.
    const transaction = {} as FashionMtTransaction;
    for (const field of TRANSACTION_FIELDS) transaction[field] = value[field] as string;
    return transaction;
  });
}

/** Loads a FashionMT `*_index_names.txt`: the gallery, one image path per line. */
export async function loadIndexNames(file: string): Promise<string[]> {
  return readNameLines(file);
}

/**
 * Reads a rollback text ("I prefer the SECOND, and 1. … 2. …"). The files carry no flag and MAI's loader tests the
 * case-sensitive words on the raw text, so a lower-case "first" in a description is not a rollback.
 */
export function parseRollback(
  text: string,
): { turn: 0 | 1 | 2; prefix: RollbackPrefix; rest: string } | undefined {
  const trimmed = text.trimStart();
  for (const prefix of ROLLBACK_PREFIXES) {
    if (!trimmed.startsWith(prefix)) continue;
    const match = ROLLBACK_TARGET.exec(trimmed.slice(prefix.length));
    if (!match) continue;
    const word = match[1] as keyof typeof ROLLBACK_TURNS;
    return { turn: ROLLBACK_TURNS[word], prefix, rest: trimmed.slice(prefix.length + match[0].length) };
  }
  return undefined;
}

/** The kind of a transaction's final turn, inferred from `mod3`: a rollback, a "keep the …" combination, or plain. */
export function fashionMtKind(transaction: Pick<FashionMtTransaction, 'mod3'>): FashionMtKind {
  if (parseRollback(transaction.mod3)) return 'rollback';
  if (COMBINATION_ITEM.test(transaction.mod3)) return 'combination';
  return 'plain';
}

/** The items of a numbered description "1. … 2. … 3. …", trimmed, in order. */
export function numberedItems(text: string): string[] {
  return Array.from(text.matchAll(NUMBERED_ITEM), (match) => match[1].trim());
}
