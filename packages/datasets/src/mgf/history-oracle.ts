import { type Attributes, attributeKey, type Product } from '../synthetic/attributes';
import { parseModification } from './modification-text';
import type { Transaction, TransactionKind } from './transactions';

/** How often an attribute oracle finds the final target of one kind of transaction. */
export interface IdentificationRates {
  count: number;
  /** From the last reference image's attributes and the last text only (the "multiple single-turn" shortcut). */
  lastTurnOnlyIdentified: number;
  /** From the whole history: the rolled-back image, the kept attributes' turns and the last text. */
  fullHistoryIdentified: number;
  /** Identified / count; 0 when there are no transactions of the kind. */
  lastTurnOnlyRate: number;
  fullHistoryRate: number;
}

export type HistoryReport = Record<TransactionKind, IdentificationRates>;

/**
 * Whether the final target of generated transactions depends on their history. An attribute oracle reads the last
 * text with `parseModification`, builds the target's attributes and looks them up in the catalog (attribute keys are
 * unique); a transaction counts as identified when the match is the true final target.
 * - Last turn only: start from the last reference image and apply the named changes. Rollback and keep items are
 *   unusable without the history.
 * - Full history: start from the rolled-back image when there is one, take kept attributes from the named turns'
 *   images, then apply the named changes.
 */
export function historyReport(
  transactions: readonly Transaction[],
  products: readonly Product[],
): HistoryReport {
  const byId = new Map(products.map((product) => [product.id, product]));
  const byKey = new Map(
    products.map((product) => [attributeKey(product.category, product.attributes), product]),
  );
  const report: HistoryReport = { rollback: emptyRates(), combination: emptyRates() };
  for (const transaction of transactions) {
    const images = transaction.productIds.map((id) => {
      const product = byId.get(id);
      if (!product)
        throw new RangeError(`transaction ${transaction.id} names product "${id}", not in the catalog`);
      return product.attributes;
    });
    const target = transaction.productIds.at(-1)!;
    const lastReference = images.at(-2)!;
    const modification = parseModification(transaction.category, transaction.texts.at(-1)!);
    const identifies = (attributes: Attributes) =>
      byKey.get(attributeKey(transaction.category, attributes))?.id === target;

    const lastTurnOnly = { ...lastReference, ...modification.changes };
    const start =
      modification.rollbackTurn === undefined ? lastReference : images[modification.rollbackTurn]!;
    const fullHistory = { ...start };
    for (const keep of modification.keeps) fullHistory[keep.attribute] = images[keep.turn]![keep.attribute];
    Object.assign(fullHistory, modification.changes);

    const rates = report[transaction.kind];
    rates.count++;
    if (identifies(lastTurnOnly)) rates.lastTurnOnlyIdentified++;
    if (identifies(fullHistory)) rates.fullHistoryIdentified++;
  }
  for (const rates of Object.values(report)) {
    rates.lastTurnOnlyRate = rates.count === 0 ? 0 : rates.lastTurnOnlyIdentified / rates.count;
    rates.fullHistoryRate = rates.count === 0 ? 0 : rates.fullHistoryIdentified / rates.count;
  }
  return report;
}

function emptyRates(): IdentificationRates {
  return {
    count: 0,
    lastTurnOnlyIdentified: 0,
    fullHistoryIdentified: 0,
    lastTurnOnlyRate: 0,
    fullHistoryRate: 0,
  };
}
