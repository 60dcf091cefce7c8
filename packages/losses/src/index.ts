// @cir/losses: batch-based classification (InfoNCE), Cyclic Combination Loss, MAI's L_sim / L_naive / L_pre.

export type { BatchClassificationOptions } from './batch-classification-loss';
export { batchClassificationLoss, DEFAULT_LOGIT_SCALE } from './batch-classification-loss';
export type {
  CyclicCombinationOptions,
  CyclicCombinationResult,
  CyclicCombinationTerm,
  CyclicCombinationTurn,
} from './cyclic-combination-loss';
export { CYCLIC_COMBINATION_TERMS, cyclicCombinationLoss } from './cyclic-combination-loss';
export { naiveCrossModalLoss } from './naive-cross-modal-loss';
export { preFusionLoss } from './pre-fusion-loss';
export { similarityLoss } from './similarity-loss';
export type { TurnEmbeddings } from './turn-embeddings';
