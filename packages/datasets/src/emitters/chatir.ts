import { join } from 'node:path';
import { Rng } from '@cir/core-tensor';
import type { ChatIrDialog, ChatIrRound } from '../records';
import {
  ATTRIBUTE_VALUES,
  type AttributeName,
  CATEGORY_ATTRIBUTES,
  describeValue,
  type Product,
} from '../synthetic/attributes';
import { writeJsonFile } from './output-files';
import { imagePathFrom, type SyntheticWorld } from './synthetic-world';

/** ChatIR dialogs have a caption and ten question/answer rounds. */
const ROUNDS = 10;
/** Attributes that read as adjectives before the noun in a caption and as "is it …?" in a question. */
const ADJECTIVES: ReadonlySet<AttributeName> = new Set(['colour', 'pattern', 'sleeve', 'length']);
const OPEN_QUESTIONS: Record<AttributeName, string> = {
  colour: 'what colour is it?',
  pattern: 'what pattern does it have?',
  sleeve: 'what sleeves does it have?',
  neckline: 'what neckline does it have?',
  length: 'how long is it?',
  logo: 'what logo does it have?',
  fit: 'how does it fit?',
  heel: 'what heel does it have?',
  size: 'what size is it?',
};

export interface ChatIrEmission {
  files: string[];
  /** `dialogues/synthetic.json` */
  dialogs: ChatIrDialog[];
  /** `protocol/search_space.json`: every catalog picture; a dialog's image is its index here. */
  searchSpace: string[];
}

/**
 * Writes ChatIR-style dialogs under `folder`, one per held-out product, from an attribute oracle: the caption states
 * one or two attributes, the first questions ask for each attribute it left out (so the last round pins the product
 * down), and the remaining rounds are yes/no checks of random values, answered truthfully. Rounds are
 * "<question>? <answer>", as ChatIR's loaders split them. Images are paths relative to `folder`.
 */
export async function emitChatIr(world: SyntheticWorld, folder: string): Promise<ChatIrEmission> {
  const rng = new Rng(`${world.seed}:chatir`);
  const emission: ChatIrEmission = {
    files: [join(folder, 'dialogues', 'synthetic.json'), join(folder, 'protocol', 'search_space.json')],
    dialogs: world.test.products.map((product) =>
      dialog(product, imagePathFrom(world, folder, product), rng),
    ),
    searchSpace: world.catalog.map((product) => imagePathFrom(world, folder, product)),
  };
  const [dialogFile, searchSpaceFile] = emission.files as [string, string];
  await writeJsonFile(
    dialogFile,
    emission.dialogs.map((entry) => ({
      img: entry.image,
      dialog: [entry.caption, ...entry.rounds.map((round) => round.raw)],
    })),
  );
  await writeJsonFile(searchSpaceFile, emission.searchSpace);
  return emission;
}

function dialog(product: Product, image: string, rng: Rng): ChatIrDialog {
  const { category, attributes } = product;
  const phrase = (attribute: AttributeName, value = attributes[attribute]!) =>
    describeValue(category, attribute, value);
  const shuffled = rng.shuffle([...CATEGORY_ATTRIBUTES[category]]);
  const statedCount = 1 + rng.int(2);
  const stated = shuffled.slice(0, statedCount);
  const unstated = shuffled.slice(statedCount);
  const rounds = unstated.map((attribute) => round(OPEN_QUESTIONS[attribute], phrase(attribute)));
  // Yes/no checks, each asked once. "does it have a no logo?" does not read: an absent logo is asked for openly.
  const checks = rng.shuffle(
    CATEGORY_ATTRIBUTES[category].flatMap((attribute) =>
      ATTRIBUTE_VALUES[attribute].filter((value) => value !== 'none').map((value) => ({ attribute, value })),
    ),
  );
  for (const { attribute, value } of checks.slice(0, ROUNDS - rounds.length)) {
    const question = ADJECTIVES.has(attribute)
      ? `is it ${phrase(attribute, value)}?`
      : `does it have a ${phrase(attribute, value)}?`;
    rounds.push(round(question, value === attributes[attribute] ? 'yes' : 'no'));
  }
  return { image, caption: partialCaption(product, stated), rounds };
}

function round(question: string, answer: string): ChatIrRound {
  return { raw: `${question} ${answer}`, question, answer, wellFormed: true };
}

/** "a red dress", "a pair of shoes with a high heel": the category and only the stated attributes. */
function partialCaption(product: Product, stated: AttributeName[]): string {
  const { category, attributes } = product;
  const phrase = (attribute: AttributeName) => describeValue(category, attribute, attributes[attribute]!);
  const adjectives = stated.filter((attribute) => ADJECTIVES.has(attribute)).map(phrase);
  const features = stated
    .filter((attribute) => !ADJECTIVES.has(attribute))
    .map((attribute) =>
      attribute === 'logo' && attributes.logo === 'none' ? phrase(attribute) : `a ${phrase(attribute)}`,
    );
  const words = [...adjectives, category].join(' ');
  const noun =
    category === 'pants' || category === 'shoes'
      ? `a pair of ${words}`
      : `${/^[aeiou]/.test(words) ? 'an' : 'a'} ${words}`;
  return features.length === 0 ? noun : `${noun} with ${features.join(' and ')}`;
}
