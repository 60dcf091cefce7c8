import type { Category } from '../synthetic/attributes';
import { ModificationParseError, parseModification, sameModification } from './modification-text';

/** Rewords a modification text (an LLM, a rule set, or nothing at all). */
export interface Paraphraser {
  /** Recorded in the world's manifest, e.g. "template" or "openai-compatible:llama3". */
  name: string;
  paraphrase(text: string): Promise<string>;
}

/** The default: texts stay as generated, their variety coming from the generator's templates. */
export const templateParaphraser: Paraphraser = {
  name: 'template',
  paraphrase: async (text) => text,
};

/**
 * The instruction given to LLM paraphrasers. The structure it asks to keep is what `parseModification` reads, so the
 * attribute oracle still knows the target after paraphrasing.
 */
export const PARAPHRASE_PROMPT = [
  'Rewrite this request of a shopper refining an online search with different wording.',
  'Keep the numbered items "1. ... 2. ..." in the same order and number, one request per item.',
  'Keep every colour, pattern, length, sleeve, neckline, fit, heel, size and logo word exactly as written.',
  'Keep an opening such as "I prefer the FIRST, and" and every "keep the ... in the ... turn" item word for word.',
  'Answer with the rewritten request only.',
].join(' ');

/**
 * Paraphrases one modification text and keeps the paraphrase only when the attribute oracle reads the same
 * request from it; otherwise the original text comes back with `fellBack: true`, for the caller to count and report.
 */
export async function paraphraseModification(
  paraphraser: Paraphraser,
  category: Category,
  text: string,
): Promise<{ text: string; fellBack: boolean }> {
  const original = parseModification(category, text);
  const paraphrase = (await paraphraser.paraphrase(text)).trim();
  // An unchanged answer keeps the original's spacing (MAI's texts end with a space after the last item).
  if (paraphrase === text.trim()) return { text, fellBack: false };
  try {
    if (sameModification(original, parseModification(category, paraphrase)))
      return { text: paraphrase, fellBack: false };
  } catch (error) {
    // An unreadable paraphrase lost its structure: the original text is used instead.
    if (!(error instanceof ModificationParseError)) throw error;
  }
  return { text, fellBack: true };
}
