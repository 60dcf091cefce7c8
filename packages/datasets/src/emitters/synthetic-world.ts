import { join, relative, sep } from 'node:path';
import type { Transaction } from '../mgf/transactions';
import { CATEGORIES, type Category, type Product } from '../synthetic/attributes';
import { productImagePath } from '../synthetic/render-catalog';

/** One split of a synthetic world: its own images (none shared with the other split) and transactions over them. */
export interface WorldSplit {
  products: readonly Product[];
  transactions: readonly Transaction[];
}

/** What the format emitters read. Each emitter derives its own random stream from `seed` and its format's name. */
export interface SyntheticWorld {
  /** The world folder; product pictures are at `<root>/images/<id>.png`. */
  root: string;
  catalog: readonly Product[];
  train: WorldSplit;
  /** Held out: written as each format's evaluation split (FashionMT test, FashionIQ and CIRR val, Shoes eval, …). */
  test: WorldSplit;
  seed: number | string;
}

/** A product's picture as a path relative to a format's folder, with "/" separators on every platform. */
export function imagePathFrom(world: SyntheticWorld, folder: string, product: Pick<Product, 'id'>): string {
  return relative(folder, join(world.root, productImagePath(product)))
    .split(sep)
    .join('/');
}

/**
 * The FashionIQ-style groups of a world: for the train split and the held-out split (named "val"), each category
 * that has products there, with the ids of those products, in split-then-category order.
 */
export function categoriesBySplit(
  world: SyntheticWorld,
): { split: 'train' | 'val'; data: WorldSplit; category: Category; images: string[] }[] {
  const groups: { split: 'train' | 'val'; data: WorldSplit; category: Category; images: string[] }[] = [];
  for (const [split, data] of [
    ['train', world.train],
    ['val', world.test],
  ] as const) {
    for (const category of CATEGORIES) {
      const images = data.products
        .filter((product) => product.category === category)
        .map((product) => product.id);
      if (images.length > 0) groups.push({ split, data, category, images });
    }
  }
  return groups;
}
