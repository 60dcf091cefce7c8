import type { CollectionItem } from './collection-files';

/** The longest catalog filter (`GET /v1/collections/:name/items?q=`) the server reads, in characters. */
export const CATALOG_QUERY_MAX_LENGTH = 200;

/** Lower-case words of a text: runs of letters and digits ("Red-dotted bag_01" → red, dotted, bag, 01). */
export function catalogWords(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** What the filter reads of an item: a collection's item, or a catalog folder's picture. */
export type CatalogEntry = Pick<CollectionItem, 'id' | 'caption'>;

/** Each item's words (id, then caption), computed once per item table: tables are replaced, never mutated. */
const wordsByTable = new WeakMap<readonly CatalogEntry[], readonly string[][]>();

function tableWords(items: readonly CatalogEntry[]): readonly string[][] {
  let words = wordsByTable.get(items);
  if (!words) {
    words = items.map((item) => [...catalogWords(item.id), ...catalogWords(item.caption ?? '')]);
    wordsByTable.set(items, words);
  }
  return words;
}

/**
 * The items a shopper's catalog filter finds: those whose id or caption has, for every word of `query`, a word that
 * starts with it ("red sleev" finds "a red shirt with long sleeves"; "red" does not find "colored"). Case is ignored;
 * order is the table's. A query with no letters or digits finds every item.
 */
export function filterCatalog<Item extends CatalogEntry>(
  items: readonly Item[],
  query: string,
): readonly Item[] {
  const terms = catalogWords(query);
  if (terms.length === 0) return items;
  const words = tableWords(items);
  return items.filter((_, index) =>
    terms.every((term) => words[index]!.some((word) => word.startsWith(term))),
  );
}
