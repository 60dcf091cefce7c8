import type { MemoryPolicyName } from '@cir/mio';

/** Which memory carries information from one turn to the next: `@cir/mio`'s policies. */
export type { MemoryPolicyName };

/** How the composed query and the target are read out of the token sequence. */
export type Pooling = 'text-cls' | 'query-mean';

export interface CclTerms {
  /** L_B(t^r, t^tg): composed query → target (the only term of the base loss). */
  fusionToTarget: boolean;
  /** L_B(t^tg, m): target → modification text. */
  targetToModification: boolean;
  /** L_B(m, c^tg): modification text → target caption. */
  modificationToCaption: boolean;
  /** L_B(c^tg, t^r): target caption → composed query. */
  captionToFusion: boolean;
}

/** Architecture and ablation switches of MAI. Every component of the paper's Tables 3, 5 and 6 is a flag here. */
export interface MaiConfig {
  /** Width of the frozen encoder's tokens (image patches, words). */
  inputDim: number;
  /** Width of the aggregation transformers. */
  dim: number;
  heads: number;
  /** Learned query tokens, and the number of tokens MIO keeps per turn. */
  queries: number;
  bsaLayers: number;
  msaLayers: number;
  feedForwardMultiplier: number;
  /** Width of the retrieval embeddings f_q, f_t. */
  embedDim: number;
  /**
   * Two-stage Semantic Aggregation: BSA fuses the reference image with its caption, then MSA adds the modification
   * text. Without it (the "Base" row), one stage fuses the image with the modification text directly and captions
   * are not used.
   */
  twoStage: boolean;
  memory: MemoryPolicyName;
  /** k of DPC-kNN (MIO). */
  mioNeighbours: number;
  pooling: Pooling;
  ccl: CclTerms;
  /** Logit scale of the batch-based classification loss (MAI uses a fixed 100, τ = 0.01). */
  logitScale: number;
  /** Rollback turns: the rolled-back turn's image becomes the reference (template match on the text). */
  rollback: boolean;
  /** Combination turns: the history's captions are re-read before the modification text. */
  combination: boolean;
  /** Longest modification text and caption, in encoder tokens. */
  maxTextTokens: number;
  /** Turns a transaction can have (turn embeddings for combination turns). */
  maxTurns: number;
}

export const ALL_CCL_TERMS: CclTerms = {
  fusionToTarget: true,
  targetToModification: true,
  modificationToCaption: true,
  captionToFusion: true,
};

/** The tiny default, sized for CPU training on the synthetic world in a few minutes. */
export const DEFAULT_MAI_CONFIG: MaiConfig = {
  inputDim: 128,
  dim: 128,
  heads: 4,
  queries: 16,
  bsaLayers: 2,
  msaLayers: 2,
  feedForwardMultiplier: 4,
  embedDim: 128,
  twoStage: true,
  memory: 'mio',
  mioNeighbours: 5,
  pooling: 'text-cls',
  ccl: ALL_CCL_TERMS,
  logitScale: 100,
  rollback: true,
  combination: true,
  maxTextTokens: 32,
  maxTurns: 4,
};

/**
 * The paper's scale (MAI on BLIP-2's Q-Former with a ViT-L encoder): 768-wide, 12 heads, 32 learned queries kept
 * by MIO each turn, 256-d embeddings. The Q-Former has 12 layers with cross-attention every other layer; here BSA
 * and MSA are separate stacks, so 6 + 6 layers keep the depth. Needs real encoder features (1024-wide ViT-L tokens).
 */
export const PAPER_MAI_CONFIG: MaiConfig = {
  ...DEFAULT_MAI_CONFIG,
  inputDim: 1024,
  dim: 768,
  heads: 12,
  queries: 32,
  bsaLayers: 6,
  msaLayers: 6,
  embedDim: 256,
  maxTextTokens: 128,
};
