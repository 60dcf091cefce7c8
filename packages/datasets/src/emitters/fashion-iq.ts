import { join } from 'node:path';
import { Rng } from '@cir/core-tensor';
import { attributeChanges } from '../mgf/modification-text';
import type { FashionIqTriplet } from '../records';
import type { Category, Product } from '../synthetic/attributes';
import { writeJsonFile } from './output-files';
import { twoPartialCaptions } from './relative-captions';
import { categoriesBySplit, type SyntheticWorld, type WorldSplit } from './synthetic-world';

export interface FashionIqFile {
  category: Category;
  split: 'train' | 'val';
  /** `captions/cap.<category>.<split>.json` */
  captionsFile: string;
  triplets: FashionIqTriplet[];
  /** `image_splits/split.<category>.<split>.json`: the split's gallery of that category. */
  imageSplitFile: string;
  images: string[];
}

export interface FashionIqEmission {
  files: string[];
  categories: FashionIqFile[];
}

/**
 * Writes FashionIQ's layout under `folder`, one caption and one image-split file per synthetic category and split
 * (train, and the held-out split as val, the split the standard protocol evaluates). Triplets are the consecutive
 * image pairs of the transactions, each with two partial relative captions; image names are product ids (pictures
 * are `<id>.png` in the world's `images/`). The galleries are the splits' products, so they do not overlap.
 */
export async function emitFashionIq(world: SyntheticWorld, folder: string): Promise<FashionIqEmission> {
  const rng = new Rng(`${world.seed}:fashion-iq`);
  const byId = new Map(world.catalog.map((product) => [product.id, product]));
  const categories: FashionIqFile[] = [];
  for (const { split, data, category, images } of categoriesBySplit(world)) {
    categories.push({
      category,
      split,
      captionsFile: join(folder, 'captions', `cap.${category}.${split}.json`),
      triplets: consecutiveTriplets(data, category, byId, rng),
      imageSplitFile: join(folder, 'image_splits', `split.${category}.${split}.json`),
      images,
    });
  }
  for (const file of categories) {
    await writeJsonFile(
      file.captionsFile,
      file.triplets.map((triplet) => ({
        target: triplet.target,
        candidate: triplet.reference,
        captions: triplet.captions,
      })),
    );
    await writeJsonFile(file.imageSplitFile, file.images);
  }
  return { files: categories.flatMap((file) => [file.captionsFile, file.imageSplitFile]), categories };
}

function consecutiveTriplets(
  split: WorldSplit,
  category: Category,
  byId: Map<string, Product>,
  rng: Rng,
): FashionIqTriplet[] {
  return split.transactions
    .filter((transaction) => transaction.category === category)
    .flatMap((transaction) =>
      transaction.productIds.slice(1).map((target, turn) => {
        const reference = transaction.productIds[turn]!;
        const changes = attributeChanges(
          category,
          byId.get(reference)!.attributes,
          byId.get(target)!.attributes,
        );
        return { reference, target, captions: twoPartialCaptions(category, changes, rng) };
      }),
    );
}
