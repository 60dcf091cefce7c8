import { describe, expect, it } from 'vitest';
import {
  combinationTemplate,
  isCombinationRequest,
  parseSpokenRollback,
  readTurnIntent,
} from './retrospective-text';

describe('readTurnIntent', () => {
  it('reads rollback requests and removes their prefix', () => {
    expect(readTurnIntent('Compared to this one I prefer the SECOND, and 1. is red ')).toEqual({
      rollbackTo: 1,
      combination: false,
      text: '1. is red',
    });
    expect(readTurnIntent('I would rather choose the FIRST, and 1. has long sleeves').rollbackTo).toBe(0);
  });

  it('reads combination requests and leaves plain texts alone', () => {
    expect(readTurnIntent('1. is red 2. keep the logo in the first turn')).toEqual({
      combination: true,
      text: '1. is red 2. keep the logo in the first turn',
    });
    expect(readTurnIntent('1. is red 2. has a star logo')).toEqual({
      combination: false,
      text: '1. is red 2. has a star logo',
    });
  });

  it("reads rollbacks said in a shopper's words, and keeps the rest of the text for the model", () => {
    expect(readTurnIntent('go back to the second one, with long sleeves')).toEqual({
      rollbackTo: 1,
      combination: false,
      text: 'with long sleeves',
    });
    expect(readTurnIntent('I prefer the first one, and 1. is yellow')).toEqual({
      rollbackTo: 0,
      combination: false,
      text: '1. is yellow',
    });
    const cases: [string, number, string][] = [
      ['Back to the original', 0, ''],
      ["OK, let's go back to the 3rd item but in red", 2, 'in red'],
      ["Actually I'd rather have the second one. Make it shorter", 1, 'Make it shorter'],
      ['return to the fourth image with a logo', 3, 'with a logo'],
      ['show me the first one again', 0, 'again'],
      ['compared to this one I prefer the second better, and 1. is red', 1, '1. is red'],
      ['I like the 10th result', 9, ''],
      ['go back to turn 2, with long sleeves', 1, 'with long sleeves'],
      ['Back to turn three and make it blue', 2, 'make it blue'],
      ['return to turn number 1', 0, ''],
    ];
    for (const [text, turn, rest] of cases) expect(parseSpokenRollback(text), text).toEqual({ turn, rest });
  });

  it('reads "the previous one" relative to the images so far, only when it knows them', () => {
    // Three images so far (the current reference is the third): the previous one is the second.
    const cases: [string, string][] = [
      ['go back to the previous one, with long sleeves', 'with long sleeves'],
      ['I prefer the previous item', ''],
      ["Let's go back to the one before, but in red", 'in red'],
      ['back to the one before this one', ''],
    ];
    for (const [text, rest] of cases) {
      expect(parseSpokenRollback(text, 3), text).toEqual({ turn: 1, rest });
      expect(parseSpokenRollback(text), text).toBeUndefined();
    }
    expect(readTurnIntent('back to the previous one', 2)).toEqual({
      rollbackTo: 0,
      combination: false,
      text: '',
    });
    // At the first turn there is no image before the reference.
    expect(parseSpokenRollback('back to the previous one', 1)).toBeUndefined();
    for (const text of [
      'the previous one was better',
      'go back to previously',
      'back to one before noon',
      'turn 2 is red',
    ]) {
      expect(parseSpokenRollback(text, 3), text).toBeUndefined();
    }
  });

  it('does not read descriptions, combinations or other positions as spoken rollbacks', () => {
    for (const text of [
      'is red',
      'Return to black eyes',
      'I like the logo',
      "I like the first turn's colour",
      'keep the pattern of the first turn',
      'has the original print',
      'the first one is too short',
      'go back to red',
      'back to the 0th one',
    ]) {
      expect(parseSpokenRollback(text), text).toBeUndefined();
      expect(readTurnIntent(text).rollbackTo, text).toBeUndefined();
    }
  });

  it('reads combinations said in a shopper\'s words, in the numbered form MAI is trained on, and not other uses of "keep"', () => {
    const template = '1. is red 2. keep the logo in the first turn';
    expect(readTurnIntent(template)).toEqual({ combination: true, text: template });
    const rewritten: [string, string][] = [
      ['is blue, but keep the pattern of the first one', '1. is blue 2. keep the pattern in the first turn'],
      ['keep the logo from the second item', '1. keep the logo in the second turn'],
      [
        'Keeping the colour like the 1st image, make it shorter',
        '1. keep the colour in the first turn 2. make it shorter',
      ],
      [
        'in black and white but keep the fit of the original',
        '1. in black and white 2. keep the fit in the first turn',
      ],
    ];
    for (const [text, model] of rewritten) {
      expect(isCombinationRequest(text), text).toBe(true);
      expect(combinationTemplate(text), text).toBe(model);
      expect(readTurnIntent(text), text).toEqual({ combination: true, text: model });
    }
    for (const text of [
      'keep it red',
      'keep the sleeves long',
      'the first one, but keep it short',
      'is red',
    ]) {
      expect(isCombinationRequest(text), text).toBe(false);
      expect(combinationTemplate(text), text).toBeUndefined();
      expect(readTurnIntent(text), text).toEqual({ combination: false, text });
    }
  });
});
