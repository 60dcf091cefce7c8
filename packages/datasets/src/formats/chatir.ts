import type { LoadOptions, LoadResult } from '../load-result';
import type { ChatIrDialog, ChatIrRound } from '../records';
import { isNonEmptyString, isObject, parseJsonArrayRecords, readStringArray } from './record-parsing';

const SEPARATOR = '? ';

/**
 * Loads a ChatIR dialog file: `[{img, dialog: [caption, "question? answer", …]}]`. Generated dialogs break the
 * "question? answer" pattern in hundreds of rounds; such a round is kept with `wellFormed: false` and reported as a
 * warning, because the evaluation query uses the raw text and never needs the split.
 */
export async function loadChatIrDialogs(
  file: string,
  options: LoadOptions = {},
): Promise<LoadResult<ChatIrDialog>> {
  return parseJsonArrayRecords(file, options, 'ChatIR dialogs', (value, warn) => {
    if (!isObject(value)) return 'expected an object {img, dialog}';
    const { img, dialog } = value;
    if (!isNonEmptyString(img)) return '"img" must be a non-empty string';
    if (!Array.isArray(dialog) || dialog.length === 0 || !dialog.every((text) => typeof text === 'string')) {
      return '"dialog" must be a non-empty array of strings (the caption, then the rounds)';
    }
    const [caption, ...texts] = dialog as string[];
    const rounds = texts.map((raw, index) => {
      const round = parseChatIrRound(raw);
      const separators = raw.split(SEPARATOR).length - 1;
      if (!round.wellFormed) {
        warn(
          `round ${index + 1} has ${separators === 0 ? 'no' : separators} "${SEPARATOR}" separators: ${JSON.stringify(raw)}`,
        );
      }
      return round;
    });
    return { image: img, caption, rounds };
  });
}

/**
 * Splits a round "question? answer" at its only "? ". Any other round is not well formed: the question is the text
 * up to its last "?" (the whole text when it has none) and the answer the rest, so a reader still gets a best guess.
 */
export function parseChatIrRound(raw: string): ChatIrRound {
  const first = raw.indexOf(SEPARATOR);
  if (first >= 0 && raw.indexOf(SEPARATOR, first + 1) < 0) {
    return {
      raw,
      question: raw.slice(0, first + 1),
      answer: raw.slice(first + SEPARATOR.length),
      wellFormed: true,
    };
  }
  const lastQuestionMark = raw.lastIndexOf('?');
  if (lastQuestionMark < 0) return { raw, question: raw, answer: '', wellFormed: false };
  return {
    raw,
    question: raw.slice(0, lastQuestionMark + 1),
    answer: raw.slice(lastQuestionMark + 1).trim(),
    wellFormed: false,
  };
}

/** Loads the ChatIR gallery (`Search_Space_val_50k.json`): a JSON array of image paths; the index is the image id. */
export async function loadChatIrSearchSpace(file: string): Promise<string[]> {
  return readStringArray(file, 'image paths');
}

/**
 * The ChatIR query text after `round` question/answer rounds (0 = the caption alone), as `eval.py` builds it:
 * `", ".join(dialog[0 : round + 1])`, from the raw round texts.
 */
export function chatIrQuery(dialog: ChatIrDialog, round: number): string {
  if (!Number.isInteger(round) || round < 0 || round > dialog.rounds.length) {
    throw new RangeError(`round must be an integer from 0 to ${dialog.rounds.length}, got ${round}`);
  }
  return [dialog.caption, ...dialog.rounds.slice(0, round).map((entry) => entry.raw)].join(', ');
}
