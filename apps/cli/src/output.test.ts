import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { endQuietlyOnClosedPipe, integerAtLeast, integerBetween } from './output';

const errno = (code: string) => Object.assign(new Error(`write ${code}`), { code });

describe('endQuietlyOnClosedPipe', () => {
  it('exits 0 when the reader closed the pipe, and lets any other stream error through', () => {
    const stream = new EventEmitter();
    const exit = vi.fn();
    endQuietlyOnClosedPipe(stream, exit);
    stream.emit('error', errno('EPIPE'));
    expect(exit).toHaveBeenCalledWith(0);
    expect(() => stream.emit('error', errno('EIO'))).toThrow('write EIO');
    expect(exit).toHaveBeenCalledTimes(1);
  });
});

describe('integerAtLeast', () => {
  it('takes plain decimal integers at or above the minimum, and names anything else', () => {
    const parse = integerAtLeast(1);
    expect(parse('1')).toBe(1);
    expect(parse('250')).toBe(250);
    for (const bad of ['0', '-3', '1.5', 'abc', '', '0x10', '1e3', ' 7']) {
      expect(() => parse(bad)).toThrow(`expected an integer of at least 1, got "${bad}"`);
    }
  });
});

describe('integerBetween', () => {
  it('takes the integers of the range, both ends included (a port: 0 to 65535)', () => {
    const port = integerBetween(0, 65_535);
    expect(port('0')).toBe(0);
    expect(port('65535')).toBe(65_535);
    for (const bad of ['65536', '70000', '-1', '80.5']) {
      expect(() => port(bad)).toThrow(`expected an integer from 0 to 65535, got "${bad}"`);
    }
  });
});
