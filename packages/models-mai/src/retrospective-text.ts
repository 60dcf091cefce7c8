import { fashionMtKind, parseRollback } from '@cir/datasets';

/** What the last text asks for, read from its wording as the MAI paper does (template match). */
export interface TurnIntent {
  /** Turn (0-based image position in the session) to roll back to, when the text is a rollback request. */
  rollbackTo?: number;
  /** The text keeps attributes of earlier turns ("keep the colour in the first turn"). */
  combination: boolean;
  /** The text the model reads: a rollback prefix is removed, since the reference swap already carries it. */
  text: string;
}

/** Detects rollback (prefix templates, e.g. "I prefer the SECOND, and …") and combination ("N. keep the … turn"). */
export function readTurnIntent(text: string): TurnIntent {
  const rollback = parseRollback(text);
  if (rollback) return { rollbackTo: rollback.turn, combination: false, text: rollback.rest.trim() };
  return { combination: fashionMtKind({ mod3: text }) === 'combination', text };
}
