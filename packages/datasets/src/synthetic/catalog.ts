import { Rng } from '@cir/core-tensor';
import {
  ATTRIBUTE_VALUES,
  type Attributes,
  CATEGORIES,
  CATEGORY_ATTRIBUTES,
  type Category,
  categoryCapacity,
  type Product,
} from './attributes';
import { captionFor } from './caption';

export interface CatalogOptions {
  /** Number of products, spread evenly over the categories (the first categories get the remainder). */
  count: number;
  seed: number | string;
  /** Default: every category. */
  categories?: readonly Category[];
}

/**
 * A deterministic synthetic catalog: each product has one value per attribute of its category, drawn uniformly
 * without two products of the catalog sharing all values, and a caption from `captionFor`. Products are ordered
 * by category, then index; ids are `${category}-${index padded to 6 digits}`.
 *
 * @throws RangeError when a category is asked for more products than it has distinct attribute combinations.
 */
export function generateCatalog(options: CatalogOptions): Product[] {
  const categories = options.categories ?? CATEGORIES;
  if (!Number.isInteger(options.count) || options.count < 0) {
    throw new RangeError(`catalog count must be a non-negative integer, got ${options.count}`);
  }
  if (categories.length === 0) throw new RangeError('a catalog needs at least one category');
  const perCategory = Math.floor(options.count / categories.length);
  const remainder = options.count % categories.length;
  const counts = categories.map((_, position) => perCategory + (position < remainder ? 1 : 0));
  categories.forEach((category, position) => {
    if (counts[position]! > categoryCapacity(category)) {
      throw new RangeError(
        `cannot generate ${counts[position]} ${category} products: its attributes allow only ` +
          `${categoryCapacity(category)} distinct ones`,
      );
    }
  });

  return categories.flatMap((category, position) => {
    // One stream per category, so its products depend on the seed alone (not on the other categories), and a
    // larger count only appends products (the sample is a prefix of a shuffle).
    const categoryRng = new Rng(`${options.seed}:${category}`);
    const captionRng = categoryRng.fork('captions');
    return sampleDistinct(categoryRng, categoryCapacity(category), counts[position]!).map(
      (combination, index) => {
        const attributes = attributesOf(category, combination);
        return {
          id: `${category}-${String(index).padStart(6, '0')}`,
          category,
          attributes,
          caption: captionFor({ category, attributes }, captionRng),
        };
      },
    );
  });
}

/** `count` distinct integers from [0, range), uniformly: the first steps of a Fisher–Yates shuffle. */
function sampleDistinct(rng: Rng, range: number, count: number): number[] {
  const pool = Array.from({ length: range }, (_, index) => index);
  for (let index = 0; index < count; index++) {
    const chosen = index + rng.int(range - index);
    [pool[index], pool[chosen]] = [pool[chosen]!, pool[index]!];
  }
  return pool.slice(0, count);
}

/** Reads a combination number as mixed-radix digits, one per attribute of the category. */
function attributesOf(category: Category, combination: number): Attributes {
  const attributes: Attributes = {};
  for (const name of CATEGORY_ATTRIBUTES[category]) {
    const values = ATTRIBUTE_VALUES[name];
    attributes[name] = values[combination % values.length];
    combination = Math.floor(combination / values.length);
  }
  return attributes;
}
