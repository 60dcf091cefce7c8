import type { Rng } from '@cir/core-tensor';
import { CATEGORY_ATTRIBUTES, type Product } from '../synthetic/attributes';

/**
 * The `size` products of the seed's category nearest to it by Hamming distance over the category's attributes: the
 * seed first, then by distance, ties in random order. Fewer when the category has fewer products.
 */
export function nearestProducts(
  seed: Product,
  products: readonly Product[],
  size: number,
  rng: Rng,
): Product[] {
  const attributes = CATEGORY_ATTRIBUTES[seed.category];
  // Bucketed by distance rather than sorted: one pass per seed keeps a 10,000-product catalog fast.
  const buckets: Product[][] = Array.from({ length: attributes.length + 1 }, () => []);
  for (const product of products) {
    if (product.category !== seed.category || product.id === seed.id) continue;
    let distance = 0;
    for (const name of attributes) if (product.attributes[name] !== seed.attributes[name]) distance++;
    buckets[distance]!.push(product);
  }
  const nearest = [seed];
  for (const bucket of buckets) {
    if (nearest.length >= size) break;
    nearest.push(...rng.shuffle(bucket).slice(0, size - nearest.length));
  }
  return nearest;
}

/**
 * `count` groups of `size` similar products (CIRR's and MTCIR's groups of six): each a random seed and its nearest
 * neighbours, seeds drawn from categories that have at least `size` products.
 */
export function similarGroups(
  products: readonly Product[],
  size: number,
  count: number,
  rng: Rng,
): Product[][] {
  const perCategory = new Map<string, number>();
  for (const product of products)
    perCategory.set(product.category, (perCategory.get(product.category) ?? 0) + 1);
  const seeds = products.filter((product) => perCategory.get(product.category)! >= size);
  if (count > 0 && seeds.length === 0)
    throw new RangeError(`no category has the ${size} products a group needs`);
  return Array.from({ length: count }, () => nearestProducts(rng.pick(seeds), products, size, rng));
}
