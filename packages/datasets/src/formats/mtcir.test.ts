import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadMtcirPairs } from './mtcir';

const file = fileURLToPath(new URL('./__fixtures__/mtcir/pairs.jsonl', import.meta.url));

describe('loadMtcirPairs', () => {
  it('throws on the first invalid line, naming file and 1-based line', async () => {
    await expect(loadMtcirPairs(file)).rejects.toThrow(
      `${file} line 3: "modifications" must be a non-empty array of {category, text}`,
    );
  });

  it('keeps valid pairs and lists every invalid line in skip mode', async () => {
    const result = await loadMtcirPairs(file, { mode: 'skip' });
    expect(result.records).toEqual([
      {
        reference: 'images/1.jpg',
        target: 'images/2.jpg',
        modifications: [
          { category: 'attribute_change', text: 'make the car red' },
          { category: 'added_object', text: 'add a dog' },
        ],
      },
      {
        reference: 'images/9.jpg',
        target: 'images/1.jpg',
        modifications: [{ category: 'number_change', text: 'show three cats' }],
      },
    ]);
    expect(result.invalid.map((issue) => issue.location)).toEqual([{ line: 3 }, { line: 4 }, { line: 5 }]);
    expect(result.invalid[1].message).toMatch(
      /^modification 0 has category "colour_change", expected one of /,
    );
    expect(result.invalid[2].message).toMatch(/^invalid JSON: /);
  });
});
