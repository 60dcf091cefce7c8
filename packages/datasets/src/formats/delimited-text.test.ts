import { describe, expect, it } from 'vitest';
import { parseDelimitedText } from './delimited-text';

describe('parseDelimitedText', () => {
  it('reads quoted delimiters, doubled quotes and line breaks, numbering records by their first line', () => {
    const text = 'image,caption\r\na.png,"red, striped"\nb.png,"say ""hi""\nagain"\n\nc.png,plain\n';
    expect(parseDelimitedText(text, ',')).toEqual([
      { line: 1, fields: ['image', 'caption'] },
      { line: 2, fields: ['a.png', 'red, striped'] },
      { line: 3, fields: ['b.png', 'say "hi"\nagain'] },
      { line: 6, fields: ['c.png', 'plain'] },
    ]);
  });

  it('keeps empty fields and a quote inside an unquoted field', () => {
    expect(parseDelimitedText('a,,b 5" heel,\n', ',')).toEqual([
      { line: 1, fields: ['a', '', 'b 5" heel', ''] },
    ]);
  });

  it('splits TSV on tabs only', () => {
    expect(parseDelimitedText('a.png\tred, striped', '\t')).toEqual([
      { line: 1, fields: ['a.png', 'red, striped'] },
    ]);
  });

  it('reports text after a closing quote and goes on with the next line', () => {
    const rows = parseDelimitedText('"a"b,c\nd,e\n', ',');
    expect(rows[0]).toMatchObject({ line: 1, error: 'unexpected text after a closing quote (line 1)' });
    expect(rows[1]).toEqual({ line: 2, fields: ['d', 'e'] });
  });

  it('reports an unterminated quote', () => {
    const rows = parseDelimitedText('a,b\nc,"d\ne\n', ',');
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({ line: 2, error: 'unterminated quoted field opened on line 2' });
  });
});
