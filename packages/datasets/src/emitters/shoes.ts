import { join } from 'node:path';
import { Rng } from '@cir/core-tensor';
import { attributeChanges } from '../mgf/modification-text';
import type { ShoesTriplet } from '../records';
import type { Product } from '../synthetic/attributes';
import { productImagePath } from '../synthetic/render-catalog';
import { writeJsonFile, writeTextFile } from './output-files';
import { relativeCaption } from './relative-captions';
import { nearestProducts } from './similar-products';
import type { SyntheticWorld } from './synthetic-world';

/** A target is drawn from this many nearest neighbours of its reference, so captions name one to a few changes. */
const NEIGHBOURS = 5;

export interface ShoesEmission {
  files: string[];
  /** `relative_captions_shoes.json`: train triplets, then evaluation triplets. */
  triplets: ShoesTriplet[];
  /** `captions_shoes.json` */
  captions: { ImageName: string; Caption: string }[];
  /** `train_im_names.txt` and `eval_im_names.txt`: disjoint, as the ARTEMIS split requires. */
  trainNames: string[];
  evalNames: string[];
}

/**
 * Writes the Shoes layout under `folder` from the shoes products: one triplet per product of each split (the
 * reference) with a target among its nearest neighbours in the same split, a relative caption naming every change,
 * the products' captions, and the two image-name lists. Names are picture file names (`<id>.png`), which Shoes
 * finds by basename.
 */
export async function emitShoes(world: SyntheticWorld, folder: string): Promise<ShoesEmission> {
  const rng = new Rng(`${world.seed}:shoes`);
  const shoes = (products: readonly Product[]) => products.filter((product) => product.category === 'shoes');
  const train = shoes(world.train.products);
  const evaluation = shoes(world.test.products);
  const triplets = (products: Product[]): ShoesTriplet[] =>
    products.flatMap((reference) => {
      const neighbours = nearestProducts(reference, products, NEIGHBOURS + 1, rng).slice(1);
      if (neighbours.length === 0) return [];
      const target = rng.pick(neighbours);
      return [
        {
          reference: imageName(reference),
          target: imageName(target),
          caption: relativeCaption(
            'shoes',
            attributeChanges('shoes', reference.attributes, target.attributes),
            rng,
          ),
        },
      ];
    });
  const emission: ShoesEmission = {
    files: [
      'relative_captions_shoes.json',
      'captions_shoes.json',
      'train_im_names.txt',
      'eval_im_names.txt',
    ].map((name) => join(folder, name)),
    triplets: [...triplets(train), ...triplets(evaluation)],
    captions: [...train, ...evaluation].map((product) => ({
      ImageName: imageName(product),
      Caption: product.caption,
    })),
    trainNames: train.map(imageName),
    evalNames: evaluation.map(imageName),
  };
  const [tripletFile, captionFile, trainFile, evalFile] = emission.files as [string, string, string, string];
  await writeJsonFile(
    tripletFile,
    emission.triplets.map((triplet) => ({
      ImageName: triplet.target,
      ReferenceImageName: triplet.reference,
      RelativeCaption: triplet.caption,
    })),
  );
  await writeJsonFile(captionFile, emission.captions);
  await writeTextFile(trainFile, `${emission.trainNames.join('\n')}\n`);
  await writeTextFile(evalFile, `${emission.evalNames.join('\n')}\n`);
  return emission;
}

function imageName(product: Product): string {
  return productImagePath(product).split('/').at(-1)!;
}
