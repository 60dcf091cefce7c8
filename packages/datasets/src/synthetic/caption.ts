import type { Rng } from '@cir/core-tensor';
import {
  ATTRIBUTE_VALUES,
  type AttributeName,
  type Attributes,
  CATEGORY_ATTRIBUTES,
  type Category,
  describeValue,
  type Product,
} from './attributes';

/** Attributes that read as adjectives between the colour and the noun ("a red long-sleeved maxi dress"). */
const SHAPE_ATTRIBUTES: readonly AttributeName[] = ['sleeve', 'length'];
/** Attributes that read as "with ..." features after the noun. */
const FEATURE_ATTRIBUTES: readonly AttributeName[] = ['neckline', 'fit', 'heel', 'logo'];
const PLURAL_CATEGORIES: ReadonlySet<Category> = new Set(['pants', 'shoes']);
const TEMPLATE_COUNT = 3;

/**
 * A natural English caption naming every attribute of a product with its `describeValue` phrase, in one of a few
 * templates picked by `rng` (the first template without one). `parseCaption` recovers the attributes from it.
 */
export function captionFor(product: Pick<Product, 'category' | 'attributes'>, rng?: Rng): string {
  const { category, attributes } = product;
  const names = CATEGORY_ATTRIBUTES[category];
  const phrase = (name: AttributeName) => describeValue(category, name, attributes[name]!);
  const colour = phrase('colour');
  const pattern = phrase('pattern');
  const shape = SHAPE_ATTRIBUTES.filter((name) => names.includes(name)).map(phrase);
  const size = names.includes('size') ? phrase('size') : undefined;
  const features = FEATURE_ATTRIBUTES.filter((name) => names.includes(name));
  const feature = (name: AttributeName) =>
    attributes[name] === 'none' ? phrase(name) : withArticle(phrase(name));

  switch (rng ? rng.int(TEMPLATE_COUNT) : 0) {
    case 1:
      // A shop listing: colour and noun first, then every phrase bare.
      return [
        `${colour} ${category}`,
        pattern,
        ...shape,
        ...(size ? [size] : []),
        ...features.map(phrase),
      ].join(', ');
    case 2: {
      // Shape first, colouring after the noun; "no logo" goes unsaid (parseCaption reads silence as none).
      const colouring =
        attributes.pattern === 'solid' ? `${pattern} ${colour}` : withArticle(`${colour} ${pattern} print`);
      const clauses = [`in ${colouring}`, ...(size ? [`a ${size}`] : [])];
      const said = features.filter((name) => !(name === 'logo' && attributes.logo === 'none')).map(feature);
      const head = `${nounPhrase(category, shape)} ${joinWithAnd(clauses)}`;
      return said.length === 0 ? head : `${head}, with ${joinWithAnd(said)}`;
    }
    default: {
      const leading = attributes.pattern === 'solid' ? [pattern, colour] : [colour, pattern];
      const head = `${nounPhrase(category, [...leading, ...shape])}${size ? ` in a ${size}` : ''}`;
      return `${head} with ${joinWithAnd(features.map(feature))}`;
    }
  }
}

/**
 * The attributes a caption mentions: each attribute of the category whose value phrase occurs exactly once as whole
 * words ("long" does not match inside "long-sleeved"). A caption that says nothing about the logo has none.
 * Attributes that are not mentioned, or mentioned with two values, are left out.
 */
export function parseCaption(category: Category, caption: string): Attributes {
  const text = caption.toLowerCase();
  const attributes: Attributes = {};
  for (const name of CATEGORY_ATTRIBUTES[category]) {
    const mentioned = ATTRIBUTE_VALUES[name].filter((value) =>
      containsPhrase(text, describeValue(category, name, value)),
    );
    if (mentioned.length === 1) attributes[name] = mentioned[0];
    else if (name === 'logo' && mentioned.length === 0) attributes.logo = 'none';
  }
  return attributes;
}

const phraseExpressions = new Map<string, RegExp>();

function containsPhrase(text: string, phrase: string): boolean {
  let expression = phraseExpressions.get(phrase);
  if (!expression) {
    const escaped = phrase.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expression = new RegExp(`(?<![a-z-])${escaped}(?![a-z-])`);
    phraseExpressions.set(phrase, expression);
  }
  return expression.test(text);
}

function nounPhrase(category: Category, adjectives: string[]): string {
  const words = [...adjectives, category].join(' ');
  return PLURAL_CATEGORIES.has(category) ? `a pair of ${words}` : withArticle(words);
}

function joinWithAnd(items: string[]): string {
  return items.length === 1 ? items[0]! : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function withArticle(phrase: string): string {
  return `${/^[aeiou]/.test(phrase) ? 'an' : 'a'} ${phrase}`;
}
