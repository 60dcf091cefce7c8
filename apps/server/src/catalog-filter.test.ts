import { describe, expect, it } from 'vitest';
import { catalogWords, filterCatalog } from './catalog-filter';
import type { CollectionItem } from './collection-files';

const item = (id: string, caption?: string): CollectionItem => ({
  id,
  ...(caption !== undefined && { caption }),
  image: `images/${id}.png`,
});

const catalog = [
  item('shirt-000001', 'a red shirt with long sleeves'),
  item('shirt-000002', 'A Red-dotted shirt, short sleeves'),
  item('dress-000003', 'a colored dress'),
  item('bag-000004'),
  item('bag-000005', 'a bag in a large size'),
];
const ids = (items: readonly CollectionItem[]) => items.map((found) => found.id);

describe('catalogWords', () => {
  it('splits on everything but letters and digits, in lower case', () => {
    expect(catalogWords('A Red-dotted bag_01, size: L')).toEqual([
      'a',
      'red',
      'dotted',
      'bag',
      '01',
      'size',
      'l',
    ]);
    expect(catalogWords('Größe Ärmel')).toEqual(['größe', 'ärmel']);
    expect(catalogWords(' -- ')).toEqual([]);
  });
});

describe('filterCatalog', () => {
  it('keeps the items with a word starting with every word of the query, in table order', () => {
    expect(ids(filterCatalog(catalog, 'red'))).toEqual(['shirt-000001', 'shirt-000002']);
    expect(ids(filterCatalog(catalog, 'RED sleev'))).toEqual(['shirt-000001', 'shirt-000002']);
    expect(ids(filterCatalog(catalog, 'red long'))).toEqual(['shirt-000001']);
    expect(ids(filterCatalog(catalog, 'dotted red'))).toEqual(['shirt-000002']);
  });

  it('matches word starts, not any substring: "red" does not find "colored"', () => {
    expect(ids(filterCatalog(catalog, 'red'))).not.toContain('dress-000003');
    expect(ids(filterCatalog(catalog, 'olored'))).toEqual([]);
  });

  it('searches ids too, also of items without a caption', () => {
    expect(ids(filterCatalog(catalog, 'bag'))).toEqual(['bag-000004', 'bag-000005']);
    expect(ids(filterCatalog(catalog, 'bag-000004'))).toEqual(['bag-000004']);
    expect(ids(filterCatalog(catalog, 'large bag'))).toEqual(['bag-000005']);
  });

  it('returns the table itself for a query without letters or digits, and nothing when no item matches', () => {
    expect(filterCatalog(catalog, '')).toBe(catalog);
    expect(filterCatalog(catalog, '  ?! ')).toBe(catalog);
    expect(filterCatalog(catalog, 'red trousers')).toEqual([]);
  });

  it('reads a new table anew (tables are replaced on rebuild)', () => {
    expect(ids(filterCatalog(catalog, 'shoe'))).toEqual([]);
    const rebuilt = [...catalog, item('shoe-000006', 'a white sneaker')];
    expect(ids(filterCatalog(rebuilt, 'shoe'))).toEqual(['shoe-000006']);
    expect(ids(filterCatalog(rebuilt, 'white'))).toEqual(['shoe-000006']);
  });
});
