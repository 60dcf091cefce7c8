import { Rng } from '@cir/core-tensor';
import {
  ATTRIBUTE_VALUES,
  type AttributeName,
  CATEGORY_ATTRIBUTES,
  type Category,
  type Product,
} from '../synthetic/attributes';
import {
  attributeChanges,
  type KeptAttribute,
  MAX_RETROSPECTIVE_TURN,
  type Modification,
  modificationText,
} from './modification-text';

export type TransactionKind = 'rollback' | 'combination';

/**
 * One multi-turn transaction of the Modification Generation Framework, with the structure its texts encode, so
 * oracles and evaluations can split by kind without parsing.
 */
export interface Transaction {
  id: string;
  kind: TransactionKind;
  category: Category;
  /** turns + 1 product ids: the first reference image, then each turn's target; the last is the final target. */
  productIds: string[];
  /** texts[t] leads from productIds[t] to productIds[t + 1]; the last text is the retrospective one. */
  texts: string[];
  /** Rollback: the earlier image (0 = the first reference) the last text returns to. */
  rollbackTurn?: number;
  /** Combination: the attributes the final target takes from earlier images, unnamed in the text. */
  keeps: KeptAttribute[];
}

export interface TransactionOptions {
  count: number;
  /** Modification texts per transaction (images = turns + 1), from 2 to `MAX_TURNS`. Default 3, as in FashionMT. */
  turns?: number;
  seed: number | string;
  /** Share of rollback transactions; the rest are combinations. Default 0.5. */
  rollbackShare?: number;
  /** Transaction ids are `${idPrefix}-${index padded to 6 digits}`. Default "transaction". */
  idPrefix?: string;
}

export const MIN_TURNS = 2;
/** The last text can return to image MAX_RETROSPECTIVE_TURN at most, which must be older than the last reference. */
export const MAX_TURNS = MAX_RETROSPECTIVE_TURN + 2;
/** Adjacent images differ in 1 to 3 attributes when the catalog has such neighbours (the nearest otherwise). */
const MAX_STEP_DISTANCE = 3;
const ATTEMPTS_PER_TRANSACTION = 200;

/**
 * MAI's Modification Generation Framework on a catalog (FashionMT, paper Sec. 3): for each transaction, turns + 1
 * products of one category (the subcategory), each differing from the previous in a few attributes (search by
 * Hamming distance), base texts from the attribute differences, and a retrospective last text:
 * - rollback: "I prefer the FIRST, and 1. …", describing the final target relative to the rolled-back image. The
 *   last reference differs from the rolled-back image in an attribute the target keeps from it, so the text applied
 *   to the last reference alone describes a different product.
 * - combination: the changes relative to the last reference, plus "keep the <attribute> in the <ordinal> turn"
 *   items whose values differ from the last reference's and are never named, so they come from the history.
 *
 * @throws RangeError for invalid options, or when the catalog has no category with enough products to build a
 * transaction of this kind.
 */
export function generateTransactions(
  products: readonly Product[],
  options: TransactionOptions,
): Transaction[] {
  const turns = options.turns ?? 3;
  const rollbackShare = options.rollbackShare ?? 0.5;
  if (!Number.isInteger(options.count) || options.count < 0) {
    throw new RangeError(`transaction count must be a non-negative integer, got ${options.count}`);
  }
  if (!Number.isInteger(turns) || turns < MIN_TURNS || turns > MAX_TURNS) {
    throw new RangeError(`turns must be an integer from ${MIN_TURNS} to ${MAX_TURNS}, got ${turns}`);
  }
  if (!(rollbackShare >= 0 && rollbackShare <= 1)) {
    throw new RangeError(`rollbackShare must be between 0 and 1, got ${rollbackShare}`);
  }
  const pools = categoryPools(products);
  const starts = pools.flatMap((pool) =>
    pool.products.length > turns ? pool.products.map((_, index) => ({ pool, index })) : [],
  );
  if (options.count > 0 && starts.length === 0) {
    throw new RangeError(
      `no category has the ${turns + 1} distinct products a transaction of ${turns} turns needs`,
    );
  }
  const rng = new Rng(options.seed);
  const rollbacks = Math.round(options.count * rollbackShare);
  const kinds = rng.shuffle(
    Array.from(
      { length: options.count },
      (_, index): TransactionKind => (index < rollbacks ? 'rollback' : 'combination'),
    ),
  );
  return kinds.map((kind, index) => {
    const id = `${options.idPrefix ?? 'transaction'}-${String(index).padStart(6, '0')}`;
    for (let attempt = 0; attempt < ATTEMPTS_PER_TRANSACTION; attempt++) {
      const start = rng.pick(starts);
      const transaction = buildTransaction(start.pool, start.index, kind, turns, rng);
      if (transaction) return { id, ...transaction };
    }
    throw new RangeError(
      `could not build a ${kind} transaction of ${turns} turns in ${ATTEMPTS_PER_TRANSACTION} attempts: ` +
        `the catalog (${products.length} products) is too small`,
    );
  });
}

/** The products of one category with their attribute values as small integers, for fast Hamming distances. */
interface CategoryPool {
  category: Category;
  attributes: readonly AttributeName[];
  products: readonly Product[];
  /** [product, attribute] value indices, row-major. */
  codes: Uint8Array;
}

function categoryPools(products: readonly Product[]): CategoryPool[] {
  const byCategory = new Map<Category, Product[]>();
  for (const product of products) {
    const members = byCategory.get(product.category) ?? [];
    members.push(product);
    byCategory.set(product.category, members);
  }
  return [...byCategory].map(([category, members]) => {
    const attributes = CATEGORY_ATTRIBUTES[category];
    const codes = new Uint8Array(members.length * attributes.length);
    members.forEach((product, row) => {
      attributes.forEach((attribute, column) => {
        codes[row * attributes.length + column] = (ATTRIBUTE_VALUES[attribute] as readonly string[]).indexOf(
          product.attributes[attribute]!,
        );
      });
    });
    return { category, attributes, products: members, codes };
  });
}

function distance(pool: CategoryPool, first: number, second: number): number {
  const width = pool.attributes.length;
  let differing = 0;
  for (let column = 0; column < width; column++) {
    if (pool.codes[first * width + column] !== pool.codes[second * width + column]) differing++;
  }
  return differing;
}

function sameValue(pool: CategoryPool, first: number, second: number, column: number): boolean {
  const width = pool.attributes.length;
  return pool.codes[first * width + column] === pool.codes[second * width + column];
}

/**
 * Draws uniformly among the candidates whose distance is closest to `wanted` (the smaller distance on ties), so
 * dense catalogs get the requested spread and sparse ones the nearest products they have.
 */
function pickByDistance<T extends { distance: number }>(
  candidates: T[],
  wanted: number,
  rng: Rng,
): T | undefined {
  const gap = (candidate: T) =>
    Math.abs(candidate.distance - wanted) * 2 + (candidate.distance > wanted ? 1 : 0);
  const best = Math.min(...candidates.map(gap));
  const closest = candidates.filter((candidate) => gap(candidate) === best);
  return closest.length === 0 ? undefined : rng.pick(closest);
}

function buildTransaction(
  pool: CategoryPool,
  start: number,
  kind: TransactionKind,
  turns: number,
  rng: Rng,
): Omit<Transaction, 'id'> | undefined {
  const chain = [start];
  const inChain = (index: number) => chain.includes(index);
  // Image selection: each turn's target is a near neighbour of the previous image.
  while (chain.length < turns) {
    const previous = chain.at(-1)!;
    const candidates: { index: number; distance: number }[] = [];
    for (let index = 0; index < pool.products.length; index++) {
      if (!inChain(index)) candidates.push({ index, distance: distance(pool, previous, index) });
    }
    const next = pickByDistance(candidates, 1 + rng.int(MAX_STEP_DISTANCE), rng);
    if (!next) return undefined;
    chain.push(next.index);
  }
  const last = chain.at(-1)!;
  const final = kind === 'rollback' ? rollbackTarget(pool, chain, rng) : combinationTarget(pool, chain, rng);
  if (!final) return undefined;

  const attributesOf = (index: number) => pool.products[index]!.attributes;
  const texts = chain.slice(1).map((index, turn) =>
    modificationText(
      pool.category,
      {
        keeps: [],
        changes: attributeChanges(pool.category, attributesOf(chain[turn]!), attributesOf(index)),
      },
      rng,
    ),
  );
  const from = final.modification.rollbackTurn === undefined ? last : chain[final.modification.rollbackTurn]!;
  const changes = attributeChanges(pool.category, attributesOf(from), attributesOf(final.target));
  for (const keep of final.modification.keeps) delete changes[keep.attribute];
  texts.push(modificationText(pool.category, { ...final.modification, changes }, rng));
  return {
    kind,
    category: pool.category,
    productIds: [...chain, final.target].map((index) => pool.products[index]!.id),
    texts,
    ...(final.modification.rollbackTurn === undefined
      ? {}
      : { rollbackTurn: final.modification.rollbackTurn }),
    keeps: final.modification.keeps,
  };
}

type FinalTurn = { target: number; modification: Omit<Modification, 'changes'> };

/**
 * A target near a random earlier image R (not the last reference L) that keeps at least one of R's values where L
 * differs from R: that value is not in the text (it is unchanged from R), so reading the text against L gets it wrong.
 */
function rollbackTarget(pool: CategoryPool, chain: number[], rng: Rng): FinalTurn | undefined {
  const rollbackTurn = rng.int(chain.length - 1);
  const rolledBack = chain[rollbackTurn]!;
  const last = chain.at(-1)!;
  const disagreeing = pool.attributes
    .map((_, column) => column)
    .filter((column) => !sameValue(pool, rolledBack, last, column));
  const candidates: { index: number; distance: number }[] = [];
  for (let index = 0; index < pool.products.length; index++) {
    if (chain.includes(index)) continue;
    if (disagreeing.some((column) => sameValue(pool, index, rolledBack, column))) {
      candidates.push({ index, distance: distance(pool, rolledBack, index) });
    }
  }
  const chosen = pickByDistance(candidates, 1 + rng.int(MAX_STEP_DISTANCE), rng);
  return chosen && { target: chosen.index, modification: { rollbackTurn, keeps: [] } };
}

/**
 * A target near the last reference L that takes one or two of its differing values from earlier images: those are
 * the kept attributes, named by turn only, so a reader of the last turn alone keeps L's values instead.
 */
function combinationTarget(pool: CategoryPool, chain: number[], rng: Rng): FinalTurn | undefined {
  const last = chain.at(-1)!;
  const earlier = chain.slice(0, -1);
  const earlierTurns = (index: number, column: number) =>
    earlier.flatMap((image, turn) => (sameValue(pool, index, image, column) ? [turn] : []));
  const keepable = (index: number, column: number) =>
    !sameValue(pool, index, last, column) && earlier.some((image) => sameValue(pool, index, image, column));
  const columns = pool.attributes.map((_, column) => column);
  const candidates: { index: number; distance: number }[] = [];
  for (let index = 0; index < pool.products.length; index++) {
    if (!chain.includes(index) && columns.some((column) => keepable(index, column))) {
      candidates.push({ index, distance: distance(pool, last, index) });
    }
  }
  // One more than a base step: at least one of the differences is a kept attribute.
  const chosen = pickByDistance(candidates, 2 + rng.int(MAX_STEP_DISTANCE), rng);
  if (!chosen) return undefined;
  const keepColumns = rng.shuffle(columns.filter((column) => keepable(chosen.index, column)));
  const keeps = keepColumns.slice(0, keepColumns.length > 1 && rng.next() < 0.5 ? 2 : 1).map((column) => ({
    attribute: pool.attributes[column]!,
    turn: rng.pick(earlierTurns(chosen.index, column)),
  }));
  return { target: chosen.index, modification: { keeps } };
}
