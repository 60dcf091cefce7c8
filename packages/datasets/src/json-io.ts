import { readFile } from 'node:fs/promises';
import { DatasetFormatError } from './errors';

/**
 * Reads a UTF-8 text file. A missing path or a folder gives a DatasetFormatError naming the path instead of a bare
 * ENOENT, so every loader reports unusable paths the same way. A leading byte-order mark is dropped because
 * JSON.parse rejects it and editors on Windows add it.
 */
export async function readTextFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DatasetFormatError(file, undefined, 'file not found');
    if (code === 'EISDIR') throw new DatasetFormatError(file, undefined, 'is a folder, expected a file');
    throw error;
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Reads and parses a JSON file; invalid JSON gives a DatasetFormatError naming the file, line and column. */
export async function readJsonFile(file: string): Promise<unknown> {
  const text = await readTextFile(file);
  try {
    return JSON.parse(text);
  } catch (error) {
    const { line, column } = lineAndColumn(text, syntaxErrorOffset(text));
    throw new DatasetFormatError(
      file,
      undefined,
      `invalid JSON at line ${line}, column ${column}: ${(error as Error).message}`,
    );
  }
}

/** The lines of a text file without their terminators (`\n` or `\r\n`); line n is at index n - 1. */
export async function readLines(file: string): Promise<string[]> {
  const text = await readTextFile(file);
  if (text === '') return [];
  const lines = text.split(/\r?\n/);
  // A final newline ends the last line rather than starting an empty one.
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, column: offset - lineStart + 1 };
}

/**
 * The offset at which a JSON text stops being valid. V8's messages give a position only for some errors
 * ("Unexpected token" quotes a snippet instead), so the error path re-scans the text with a minimal grammar.
 */
function syntaxErrorOffset(text: string): number {
  let position = 0;
  const whitespace = ' \t\n\r';
  const stop = (): never => {
    throw new JsonScanStop();
  };
  const skipWhitespace = (): void => {
    while (position < text.length && whitespace.includes(text[position])) position++;
  };
  const literal = (word: string): void => {
    for (const character of word) {
      if (text[position] !== character) stop();
      position++;
    }
  };
  const number = (): void => {
    const pattern = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    pattern.lastIndex = position;
    if (!pattern.test(text)) stop();
    position = pattern.lastIndex;
  };
  const string = (): void => {
    position++;
    for (;;) {
      const character = text[position];
      if (character === undefined || character < ' ') stop();
      if (character === '"') {
        position++;
        return;
      }
      if (character === '\\') {
        position++;
        if (text[position] === 'u') {
          position++;
          for (let digit = 0; digit < 4; digit++) {
            if (!/[0-9a-fA-F]/.test(text[position] ?? '')) stop();
            position++;
          }
        } else {
          if (!'"\\/bfnrt'.includes(text[position] ?? '_')) stop();
          position++;
        }
      } else position++;
    }
  };
  const sequence = (close: string, member: () => void): void => {
    position++;
    skipWhitespace();
    if (text[position] === close) {
      position++;
      return;
    }
    for (;;) {
      member();
      skipWhitespace();
      if (text[position] === close) {
        position++;
        return;
      }
      if (text[position] !== ',') stop();
      position++;
    }
  };
  const value = (): void => {
    skipWhitespace();
    const character = text[position];
    if (character === '{') {
      sequence('}', () => {
        skipWhitespace();
        if (text[position] !== '"') stop();
        string();
        skipWhitespace();
        if (text[position] !== ':') stop();
        position++;
        value();
      });
    } else if (character === '[') sequence(']', value);
    else if (character === '"') string();
    else if (character === 't') literal('true');
    else if (character === 'f') literal('false');
    else if (character === 'n') literal('null');
    else number();
  };
  try {
    value();
    skipWhitespace();
  } catch (error) {
    if (!(error instanceof JsonScanStop)) throw error;
  }
  return Math.min(position, text.length);
}

class JsonScanStop extends Error {}
