import { describe, expect, it } from 'vitest';
import { readTurnIntent } from './retrospective-text';

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
});
