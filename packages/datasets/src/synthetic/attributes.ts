/**
 * The attribute schema of the synthetic catalog: the single source of truth for the renderer, the caption writer,
 * the Modification Generation Framework and every attribute oracle.
 *
 * Each category uses a subset of the attributes; a product is one value per attribute of its category, and no two
 * products of a catalog share all values (so a complete description identifies exactly one product).
 */

export const CATEGORIES = ['shirt', 'dress', 'coat', 'pants', 'skirt', 'shoes', 'bag'] as const;
export type Category = (typeof CATEGORIES)[number];

export const ATTRIBUTE_VALUES = {
  colour: ['red', 'orange', 'yellow', 'green', 'blue', 'purple', 'pink', 'brown', 'black', 'white'],
  pattern: ['solid', 'striped', 'dotted', 'plaid', 'floral'],
  sleeve: ['sleeveless', 'short', 'long'],
  neckline: ['round', 'v-neck', 'collared'],
  length: ['short', 'medium', 'long'],
  logo: ['none', 'star', 'heart', 'circle'],
  fit: ['slim', 'regular', 'loose'],
  heel: ['flat', 'low', 'high'],
  size: ['small', 'medium', 'large'],
} as const;

export type AttributeName = keyof typeof ATTRIBUTE_VALUES;
export type AttributeValue<A extends AttributeName = AttributeName> = (typeof ATTRIBUTE_VALUES)[A][number];
export const ATTRIBUTE_NAMES = Object.keys(ATTRIBUTE_VALUES) as AttributeName[];

/** Which attributes each category has, in caption order. */
export const CATEGORY_ATTRIBUTES: Record<Category, readonly AttributeName[]> = {
  shirt: ['colour', 'pattern', 'sleeve', 'neckline', 'fit', 'logo'],
  dress: ['colour', 'pattern', 'sleeve', 'neckline', 'length', 'fit', 'logo'],
  coat: ['colour', 'pattern', 'sleeve', 'neckline', 'length', 'logo'],
  pants: ['colour', 'pattern', 'length', 'fit', 'logo'],
  skirt: ['colour', 'pattern', 'length', 'fit', 'logo'],
  shoes: ['colour', 'pattern', 'length', 'heel', 'logo'],
  bag: ['colour', 'pattern', 'length', 'size', 'logo'],
};

/** A product's attributes: exactly the attributes of its category. */
export type Attributes = Partial<Record<AttributeName, string>>;

export interface Product {
  /** Stable identifier, also the image file stem (e.g. "dress-000123"). */
  id: string;
  category: Category;
  attributes: Attributes;
  caption: string;
}

/**
 * How a value reads in text, per category where it differs ("long" pants are full-length, a "long" bag has a
 * shoulder strap). Phrases are used by captions and modification texts alike.
 */
export function describeValue(category: Category, attribute: AttributeName, value: string): string {
  switch (attribute) {
    case 'colour':
    case 'pattern':
      return value;
    case 'sleeve':
      return value === 'sleeveless' ? 'sleeveless' : `${value}-sleeved`;
    case 'neckline':
      return value === 'round' ? 'round neck' : value === 'v-neck' ? 'v-neck' : 'collar';
    case 'length':
      return LENGTH_PHRASES[category]?.[value] ?? value;
    case 'logo':
      return value === 'none' ? 'no logo' : `${value} logo`;
    case 'fit':
      return `${value} fit`;
    case 'heel':
      return value === 'flat' ? 'flat sole' : `${value} heel`;
    case 'size':
      return `${value} size`;
  }
}

const LENGTH_PHRASES: Partial<Record<Category, Record<string, string>>> = {
  dress: { short: 'mini', medium: 'knee-length', long: 'maxi' },
  coat: { short: 'cropped', medium: 'hip-length', long: 'long' },
  pants: { short: 'shorts-length', medium: 'cropped', long: 'full-length' },
  skirt: { short: 'mini', medium: 'knee-length', long: 'maxi' },
  shoes: { short: 'low-top', medium: 'ankle-high', long: 'knee-high' },
  bag: { short: 'short-handle', medium: 'medium-strap', long: 'long-strap' },
};

/** Number of distinct products a category allows (the product of its attributes' value counts). */
export function categoryCapacity(category: Category): number {
  return CATEGORY_ATTRIBUTES[category].reduce((product, name) => product * ATTRIBUTE_VALUES[name].length, 1);
}

/** Canonical key of a product's attributes, for uniqueness and lookups. */
export function attributeKey(category: Category, attributes: Attributes): string {
  return `${category}|${CATEGORY_ATTRIBUTES[category].map((name) => attributes[name]).join('|')}`;
}
