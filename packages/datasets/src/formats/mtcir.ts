import type { LoadOptions, LoadResult } from '../load-result';
import { MTCIR_CATEGORIES, type MtcirCategory, type MtcirPair } from '../records';
import { isNonEmptyString, isObject, parseJsonLinesRecords } from './record-parsing';

/**
 * Loads MTCIR pairs from JSONL: one `{reference, target, modifications: [{category, text}, …]}` per line, with at
 * least one modification. Errors name the 1-based line.
 */
export async function loadMtcirPairs(
  file: string,
  options: LoadOptions = {},
): Promise<LoadResult<MtcirPair>> {
  return parseJsonLinesRecords(file, options, (value) => {
    if (!isObject(value)) return 'expected an object {reference, target, modifications}';
    const { reference, target, modifications } = value;
    if (!isNonEmptyString(reference)) return '"reference" must be a non-empty string';
    if (!isNonEmptyString(target)) return '"target" must be a non-empty string';
    if (!Array.isArray(modifications) || modifications.length === 0) {
      return '"modifications" must be a non-empty array of {category, text}';
    }
    const parsed: MtcirPair['modifications'] = [];
    for (const [index, modification] of modifications.entries()) {
      if (!isObject(modification)) return `modification ${index} must be an object {category, text}`;
      const { category, text } = modification;
      if (!MTCIR_CATEGORIES.includes(category as MtcirCategory)) {
        return `modification ${index} has category ${JSON.stringify(category)}, expected one of ${MTCIR_CATEGORIES.join(', ')}`;
      }
      if (!isNonEmptyString(text)) return `modification ${index} must have a non-empty "text"`;
      parsed.push({ category: category as MtcirCategory, text });
    }
    return { reference, target, modifications: parsed };
  });
}
