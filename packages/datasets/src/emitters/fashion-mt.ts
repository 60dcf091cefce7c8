import { join } from 'node:path';
import type { FashionMtTransaction } from '../records';
import type { Product } from '../synthetic/attributes';
import { writeJsonFile, writeTextFile } from './output-files';
import { imagePathFrom, type SyntheticWorld } from './synthetic-world';

export interface FashionMtEmission {
  files: string[];
  train: FashionMtTransaction[];
  test: FashionMtTransaction[];
  /** The gallery: every catalog image, as MAI evaluates against one index per sub-dataset. */
  indexNames: string[];
}

/**
 * Writes MAI's FashionMT layout under `folder`: `modifiers/synthetic_{train,test}_cap.json` (one object per
 * transaction: ref, tar1–tar3, mod1–mod3, cap0–cap3, no kind flag) and `modifiers/synthetic_index_names.txt`.
 * Image fields are paths relative to `folder`.
 *
 * @throws RangeError when the transactions do not have 3 turns, the only shape FashionMT has.
 */
export async function emitFashionMt(world: SyntheticWorld, folder: string): Promise<FashionMtEmission> {
  const byId = new Map(world.catalog.map((product) => [product.id, product]));
  const records = (split: SyntheticWorld['train']): FashionMtTransaction[] =>
    split.transactions.map((transaction) => {
      if (transaction.texts.length !== 3) {
        throw new RangeError(
          `FashionMT transactions have 3 turns; ${transaction.id} has ${transaction.texts.length}`,
        );
      }
      const [ref, tar1, tar2, tar3] = transaction.productIds.map((id) => byId.get(id)!) as [
        Product,
        Product,
        Product,
        Product,
      ];
      const path = (product: Product) => imagePathFrom(world, folder, product);
      return {
        ref: path(ref),
        tar1: path(tar1),
        tar2: path(tar2),
        tar3: path(tar3),
        mod1: transaction.texts[0]!,
        mod2: transaction.texts[1]!,
        mod3: transaction.texts[2]!,
        cap0: ref.caption,
        cap1: tar1.caption,
        cap2: tar2.caption,
        cap3: tar3.caption,
      };
    });
  const emission: FashionMtEmission = {
    files: ['synthetic_train_cap.json', 'synthetic_test_cap.json', 'synthetic_index_names.txt'].map((name) =>
      join(folder, 'modifiers', name),
    ),
    train: records(world.train),
    test: records(world.test),
    indexNames: world.catalog.map((product) => imagePathFrom(world, folder, product)),
  };
  const [trainFile, testFile, indexFile] = emission.files as [string, string, string];
  await writeJsonFile(trainFile, emission.train);
  await writeJsonFile(testFile, emission.test);
  await writeTextFile(indexFile, `${emission.indexNames.join('\n')}\n`);
  return emission;
}
