import { join } from 'node:path';
import { Rng } from '@cir/core-tensor';
import { attributeChanges, describeChange } from '../mgf/modification-text';
import type { MtcirPair } from '../records';
import { type AttributeName, describeValue, type Product } from '../synthetic/attributes';
import { writeTextFile } from './output-files';
import { similarGroups } from './similar-products';
import { imagePathFrom, type SyntheticWorld } from './synthetic-world';

/** MTCIR pairs images within groups of six similar ones (CoLLM builds them from CLIP similarities). */
const GROUP_SIZE = 6;

export interface MtcirFile {
  split: 'train' | 'test';
  /** `<split>.jsonl` */
  file: string;
  pairs: MtcirPair[];
}

export interface MtcirEmission {
  files: string[];
  splits: MtcirFile[];
}

/**
 * Writes MTCIR-style JSONL (CoLLM) under `folder`, one file per split. Each split's products form groups of six
 * similar products (one group per six products); as in MTCIR, pairs join consecutive members and the first member to
 * every other. Each pair has one categorized text per changed attribute: a logo appearing is an added_object, a logo
 * disappearing a removed_object, anything else an attribute_change. Images are paths relative to `folder`.
 */
export async function emitMtcir(world: SyntheticWorld, folder: string): Promise<MtcirEmission> {
  const rng = new Rng(`${world.seed}:mtcir`);
  const splits = (
    [
      ['train', world.train.products],
      ['test', world.test.products],
    ] as const
  ).map(([split, products]): MtcirFile => {
    const groups = similarGroups(products, GROUP_SIZE, Math.floor(products.length / GROUP_SIZE), rng);
    const pairs = groups.flatMap((group) => {
      const consecutive = group.slice(1).map((target, index) => [group[index]!, target] as const);
      const fromFirst = group.slice(2).map((target) => [group[0]!, target] as const);
      return [...consecutive, ...fromFirst].map(([reference, target]) => ({
        reference: imagePathFrom(world, folder, reference),
        target: imagePathFrom(world, folder, target),
        modifications: modifications(reference, target, rng),
      }));
    });
    return { split, file: join(folder, `${split}.jsonl`), pairs };
  });
  for (const split of splits) {
    await writeTextFile(split.file, split.pairs.map((pair) => `${JSON.stringify(pair)}\n`).join(''));
  }
  return { files: splits.map((split) => split.file), splits };
}

function modifications(reference: Product, target: Product, rng: Rng): MtcirPair['modifications'] {
  const { category } = reference;
  return Object.entries(attributeChanges(category, reference.attributes, target.attributes)).map(
    ([name, value]) => {
      const attribute = name as AttributeName;
      if (attribute === 'logo' && reference.attributes.logo === 'none') {
        return { category: 'added_object', text: `add a ${describeValue(category, 'logo', value!)}` };
      }
      if (attribute === 'logo' && value === 'none') {
        return {
          category: 'removed_object',
          text: `remove the ${describeValue(category, 'logo', reference.attributes.logo!)}`,
        };
      }
      return { category: 'attribute_change', text: describeChange(category, attribute, value!, rng) };
    },
  );
}
