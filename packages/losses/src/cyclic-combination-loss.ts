import { tf } from '@cir/core-tensor';
import { batchClassificationLoss, DEFAULT_LOGIT_SCALE } from './batch-classification-loss';

/** The four embeddings of one turn that the Cyclic Combination Loss ties together, each `[batch, dim]`. */
export interface CyclicCombinationTurn {
  /** t_n^r: the reference-side query after MSA (reference image, caption and modification text). */
  fusedQuery: tf.Tensor2D;
  /** t_n^tg: the target side after BSA (target image and its caption). */
  targetFused: tf.Tensor2D;
  /** m_n: the modification text alone. */
  modificationText: tf.Tensor2D;
  /** c_n^tg: the target image's caption alone. */
  targetCaption: tf.Tensor2D;
}

/** The four terms of eq. 9, in the paper's order; each is the L_B from the first embedding to the second. */
export const CYCLIC_COMBINATION_TERMS = [
  'fusionToTarget', // L_B(t^r, t^tg)
  'targetToModification', // L_B(t^tg, m)
  'modificationToCaption', // L_B(m, c^tg)
  'captionToFusion', // L_B(c^tg, t^r)
] as const;

export type CyclicCombinationTerm = (typeof CYCLIC_COMBINATION_TERMS)[number];

const TERM_ENDPOINTS: Record<
  CyclicCombinationTerm,
  [keyof CyclicCombinationTurn, keyof CyclicCombinationTurn]
> = {
  fusionToTarget: ['fusedQuery', 'targetFused'],
  targetToModification: ['targetFused', 'modificationText'],
  modificationToCaption: ['modificationText', 'targetCaption'],
  captionToFusion: ['targetCaption', 'fusedQuery'],
};

export interface CyclicCombinationOptions {
  /** Switches for the ablation of MAI Table 6; every term is on unless set to false. */
  terms?: Partial<Record<CyclicCombinationTerm, boolean>>;
  /** Fixed logit scale of every L_B (default 100). */
  logitScale?: number;
}

export interface CyclicCombinationResult {
  /** Σ over turns and enabled terms: the value to minimise. */
  total: tf.Scalar;
  /** Each enabled term summed over the turns, for logging; disabled terms are absent. */
  terms: Partial<Record<CyclicCombinationTerm, tf.Scalar>>;
}

/**
 * MAI's Cyclic Combination Loss (eq. 9), summed over the turns:
 *
 *   L_CCL = Σ_n L_B(t_n^r, t_n^tg) + L_B(t_n^tg, m_n) + L_B(m_n, c_n^tg) + L_B(c_n^tg, t_n^r)
 *
 * with L_B the batch-based classification loss (eq. 8). Follows the paper: the released code instead pairs
 * (query, target), (query, target caption), (text, target) and (text, target caption).
 *
 * @param turns one entry per turn, each embedding `[batch, dim]`
 */
export function cyclicCombinationLoss(
  turns: readonly CyclicCombinationTurn[],
  options: CyclicCombinationOptions = {},
): CyclicCombinationResult {
  if (turns.length === 0) throw new RangeError('cyclicCombinationLoss: no turns');
  const logitScale = options.logitScale ?? DEFAULT_LOGIT_SCALE;
  const enabled = CYCLIC_COMBINATION_TERMS.filter((term) => options.terms?.[term] !== false);
  return tf.tidy(() => {
    const terms: Partial<Record<CyclicCombinationTerm, tf.Scalar>> = {};
    for (const term of enabled) {
      const [query, target] = TERM_ENDPOINTS[term];
      const perTurn = turns.map((turn) => batchClassificationLoss(turn[query], turn[target], { logitScale }));
      terms[term] = tf.addN(perTurn) as tf.Scalar;
    }
    const values = Object.values(terms);
    const total = (values.length > 0 ? tf.addN(values) : tf.scalar(0)) as tf.Scalar;
    return { total, terms };
  });
}
