import { describe, expect, it } from 'vitest';
import { toMarkdown, toRecords } from './tables';

describe('result tables', () => {
  const table = {
    title: 'FashionMT',
    columns: ['method', 'R@1', 'Mean'],
    rows: [
      ['mai', 12.345, 50],
      ['text|only', undefined, 7],
    ],
  };

  it('renders Markdown with fixed decimals, escaped pipes and dashes for missing values', () => {
    expect(toMarkdown(table)).toBe(
      [
        '### FashionMT',
        '',
        '| method | R@1 | Mean |',
        '| --- | ---: | ---: |',
        '| mai | 12.35 | 50.00 |',
        '| text\\|only | – | 7.00 |',
      ].join('\n'),
    );
  });

  it('turns rows into JSON records', () => {
    expect(toRecords(table)).toEqual([
      { method: 'mai', 'R@1': 12.345, Mean: 50 },
      { method: 'text|only', 'R@1': null, Mean: 7 },
    ]);
  });
});
