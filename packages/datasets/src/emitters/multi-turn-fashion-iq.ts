import { join } from 'node:path';
import { Rng } from '@cir/core-tensor';
import { attributeChanges } from '../mgf/modification-text';
import type { MultiTurnFashionIqSession } from '../records';
import type { Category } from '../synthetic/attributes';
import { writeJsonFile } from './output-files';
import { twoPartialCaptions } from './relative-captions';
import { categoriesBySplit, imagePathFrom, type SyntheticWorld } from './synthetic-world';

export interface MultiTurnFashionIqFile {
  category: Category;
  split: 'train' | 'val';
  /** `data/<category>.<split>.json` */
  sessionsFile: string;
  sessions: MultiTurnFashionIqSession[];
  /** `image_splits/split.<category>.<split>.json`: the split's gallery of that category. */
  imageSplitFile: string;
  images: string[];
}

export interface MultiTurnFashionIqEmission {
  files: string[];
  categories: MultiTurnFashionIqFile[];
}

/**
 * Writes multi-turn FashionIQ's layout (Yuan & Lam 2021) under `folder` for train and the held-out split as val:
 * one session per transaction, each turn's image with two partial captions leading to the next image. The format
 * has no retrospective turns, so the last turn is described plainly, relative to the last reference. The image
 * "url" is the picture's path relative to `folder` and the "asin" the product id.
 */
export async function emitMultiTurnFashionIq(
  world: SyntheticWorld,
  folder: string,
): Promise<MultiTurnFashionIqEmission> {
  const rng = new Rng(`${world.seed}:multi-turn-fashion-iq`);
  const byId = new Map(world.catalog.map((product) => [product.id, product]));
  const url = (id: string) => imagePathFrom(world, folder, byId.get(id)!);
  const categories: MultiTurnFashionIqFile[] = [];
  for (const { split, data, category, images } of categoriesBySplit(world)) {
    const sessions = data.transactions
      .filter((transaction) => transaction.category === category)
      .map(({ productIds }) => ({
        target: { imageUrl: url(productIds.at(-1)!), asin: productIds.at(-1)! },
        turns: productIds.slice(0, -1).map((asin, turn) => ({
          imageUrl: url(asin),
          captions: twoPartialCaptions(
            category,
            attributeChanges(
              category,
              byId.get(asin)!.attributes,
              byId.get(productIds[turn + 1]!)!.attributes,
            ),
            rng,
          ),
          asin,
        })),
      }));
    categories.push({
      category,
      split,
      sessionsFile: join(folder, 'data', `${category}.${split}.json`),
      sessions,
      imageSplitFile: join(folder, 'image_splits', `split.${category}.${split}.json`),
      images,
    });
  }
  for (const file of categories) {
    await writeJsonFile(
      file.sessionsFile,
      file.sessions.map((session) => ({
        target: [session.target.imageUrl, session.target.asin],
        reference: session.turns.map((turn) => [turn.imageUrl, turn.captions, turn.asin]),
      })),
    );
    await writeJsonFile(file.imageSplitFile, file.images);
  }
  return { files: categories.flatMap((file) => [file.sessionsFile, file.imageSplitFile]), categories };
}
