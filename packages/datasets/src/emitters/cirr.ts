import { join } from 'node:path';
import { Rng } from '@cir/core-tensor';
import { attributeChanges } from '../mgf/modification-text';
import type { CirrPair } from '../records';
import type { Product } from '../synthetic/attributes';
import { writeJsonFile } from './output-files';
import { relativeCaption } from './relative-captions';
import { similarGroups } from './similar-products';
import { imagePathFrom, type SyntheticWorld } from './synthetic-world';

/** CIRR's groups: six visually similar images, the reference and target among them. */
const GROUP_SIZE = 6;
/** Pairs drawn from each group (CIRR val has 4,181 pairs over 2,297 images). */
const PAIRS_PER_GROUP = 2;

export interface CirrSplitFiles {
  split: 'train' | 'val';
  /** `captions/cap.rc2.<split>.json` */
  captionsFile: string;
  pairs: CirrPair[];
  /** `image_splits/split.rc2.<split>.json`: every image of the split, name → path relative to `folder`. */
  imageSplitFile: string;
  images: Record<string, string>;
}

export interface CirrEmission {
  files: string[];
  splits: CirrSplitFiles[];
}

/**
 * Writes CIRR's layout under `folder` for train and the held-out split as val. Each split's products form groups of
 * six similar products of one category (a random seed and its nearest neighbours by attributes; one group per six
 * products); each group gives two pairs with a relative caption naming every change, `target_soft` {target: 1.0},
 * and `img_set` with the members shuffled and `reference_rank`/`target_rank` = the images' similarity ranks to the
 * group's seed. Pair and group ids are unique across splits. Image names are product ids.
 */
export async function emitCirr(world: SyntheticWorld, folder: string): Promise<CirrEmission> {
  const rng = new Rng(`${world.seed}:cirr`);
  let pairId = 0;
  let groupId = 0;
  const splits = (
    [
      ['train', world.train.products],
      ['val', world.test.products],
    ] as const
  ).map(([split, products]): CirrSplitFiles => {
    const groups = similarGroups(products, GROUP_SIZE, Math.floor(products.length / GROUP_SIZE), rng);
    const pairs = groups.flatMap((group) => {
      const id = groupId++;
      const members = rng.shuffle(group.map((product) => product.id));
      // Distinct images for every pair of the group: ranks are dealt two by two from one shuffle.
      const ranks = rng.shuffle(group.map((_, rank) => rank));
      return Array.from({ length: PAIRS_PER_GROUP }, (_, index) => {
        const [referenceRank, targetRank] = [ranks[2 * index]!, ranks[2 * index + 1]!];
        return cirrPair(
          pairId++,
          group[referenceRank]!,
          group[targetRank]!,
          {
            id,
            members,
            referenceRank,
            targetRank,
          },
          rng,
        );
      });
    });
    return {
      split,
      captionsFile: join(folder, 'captions', `cap.rc2.${split}.json`),
      pairs,
      imageSplitFile: join(folder, 'image_splits', `split.rc2.${split}.json`),
      images: Object.fromEntries(
        products.map((product) => [product.id, imagePathFrom(world, folder, product)]),
      ),
    };
  });
  for (const split of splits) {
    await writeJsonFile(
      split.captionsFile,
      split.pairs.map((pair) => ({
        pairid: pair.pairId,
        reference: pair.reference,
        target_hard: pair.targetHard,
        target_soft: pair.targetSoft,
        caption: pair.caption,
        img_set: {
          id: pair.imageSet.id,
          members: pair.imageSet.members,
          reference_rank: pair.imageSet.referenceRank,
          target_rank: pair.imageSet.targetRank,
        },
      })),
    );
    await writeJsonFile(split.imageSplitFile, split.images);
  }
  return { files: splits.flatMap((split) => [split.captionsFile, split.imageSplitFile]), splits };
}

function cirrPair(
  pairId: number,
  reference: Product,
  target: Product,
  imageSet: CirrPair['imageSet'],
  rng: Rng,
): CirrPair {
  return {
    pairId,
    reference: reference.id,
    targetHard: target.id,
    targetSoft: { [target.id]: 1 },
    caption: relativeCaption(
      reference.category,
      attributeChanges(reference.category, reference.attributes, target.attributes),
      rng,
    ),
    imageSet,
  };
}
