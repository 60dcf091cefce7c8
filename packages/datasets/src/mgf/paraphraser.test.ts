import { describe, expect, it } from 'vitest';
import { ModificationParseError } from './modification-text';
import { type Paraphraser, paraphraseModification, templateParaphraser } from './paraphraser';

const ROLLBACK = 'I prefer the SECOND, and 1. is red 2. has a floral pattern ';

/** A paraphraser that answers from a fixed table. */
function answering(answer: string): Paraphraser {
  return { name: 'fixed', paraphrase: async () => answer };
}

describe('paraphraseModification', () => {
  it('keeps the template text as it is by default', async () => {
    expect(await paraphraseModification(templateParaphraser, 'dress', ROLLBACK)).toEqual({
      text: ROLLBACK,
      fellBack: false,
    });
  });

  it('accepts a rewording that asks for the same thing', async () => {
    const reworded = 'I prefer the SECOND, and 1. make it a bright red 2. with a floral pattern instead';
    expect(await paraphraseModification(answering(`  ${reworded}\n`), 'dress', ROLLBACK)).toEqual({
      text: reworded,
      fellBack: false,
    });
  });

  it('falls back to the original when the rewording changes or loses the structure', async () => {
    for (const broken of [
      'I prefer the FIRST, and 1. is red 2. has a floral pattern',
      '1. is red 2. has a floral pattern',
      'I prefer the SECOND, and 1. is blue 2. has a floral pattern',
      'I prefer the second one in red with flowers',
    ]) {
      expect(await paraphraseModification(answering(broken), 'dress', ROLLBACK), broken).toEqual({
        text: ROLLBACK,
        fellBack: true,
      });
    }
  });

  it('refuses an original text the oracle cannot read', async () => {
    await expect(paraphraseModification(templateParaphraser, 'dress', 'make it red')).rejects.toThrow(
      ModificationParseError,
    );
  });
});
