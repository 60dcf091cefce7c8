import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { chatIrQuery, loadChatIrDialogs, loadChatIrSearchSpace, parseChatIrRound } from './chatir';

const root = fileURLToPath(new URL('./__fixtures__/chatir/', import.meta.url));
const dialogsFile = join(root, 'dialogs.json');

describe('parseChatIrRound', () => {
  it('splits a well-formed round at its "? "', () => {
    expect(parseChatIrRound('what color is the cat? black, mostly')).toEqual({
      raw: 'what color is the cat? black, mostly',
      question: 'what color is the cat?',
      answer: 'black, mostly',
      wellFormed: true,
    });
  });

  it.each([
    ['a question mark before a line break', 'Is it day?\nAnswer: day', 'Is it day?', 'Answer: day'],
    ['two questions', 'How many cars? What color? two, red', 'How many cars? What color?', 'two, red'],
    ['no question mark', 'are there people no', 'are there people no', ''],
  ])('keeps a round with %s as not well formed', (_case, raw, question, answer) => {
    expect(parseChatIrRound(raw)).toEqual({ raw, question, answer, wellFormed: false });
  });
});

describe('loadChatIrDialogs', () => {
  it('throws on a dialog without a caption, naming file and record', async () => {
    await expect(loadChatIrDialogs(dialogsFile)).rejects.toThrow(
      `${dialogsFile} record 2: "dialog" must be a non-empty array of strings`,
    );
  });

  it('keeps dialogs with malformed rounds and reports each such round as a warning', async () => {
    const result = await loadChatIrDialogs(dialogsFile, { mode: 'skip' });
    expect(result.records.map((dialog) => dialog.image)).toEqual([
      'unlabeled2017/000000000001.jpg',
      'unlabeled2017/000000000002.jpg',
      'unlabeled2017/000000000001.jpg',
    ]);
    expect(result.records[1].rounds.map((round) => round.wellFormed)).toEqual([false, false, false]);
    expect(result.warnings.map((issue) => [issue.location, issue.message.split(':')[0]])).toEqual([
      [{ record: 1 }, 'round 1 has no "? " separators'],
      [{ record: 1 }, 'round 2 has 2 "? " separators'],
      [{ record: 1 }, 'round 3 has no "? " separators'],
    ]);
    expect(result.invalid.map((issue) => issue.location)).toEqual([{ record: 2 }]);
  });
});

describe('chatIrQuery', () => {
  it('joins the caption and the first rounds with ", " as ChatIR evaluates round r', async () => {
    const [dialog] = (await loadChatIrDialogs(dialogsFile, { mode: 'skip' })).records;
    expect(chatIrQuery(dialog, 0)).toBe('a cat on a sofa');
    expect(chatIrQuery(dialog, 2)).toBe(
      'a cat on a sofa, what color is the cat? black, is the sofa leather? no',
    );
    expect(() => chatIrQuery(dialog, 3)).toThrow(RangeError);
  });
});

describe('loadChatIrSearchSpace', () => {
  it('names an entry that is not a path', async () => {
    const file = join(root, 'search-space.json');
    await expect(loadChatIrSearchSpace(file)).rejects.toThrow(
      `${file} record 2: expected a non-empty string, got 3`,
    );
  });
});
