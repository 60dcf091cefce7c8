/**
 * Typed records of every benchmark format the toolkit reads and writes. Field names are ours (camelCase); the
 * loaders map the files' own names (`target_hard`, `ReferenceImageName`, …) onto them and the emitters map back.
 * Image identifiers are the names the format uses (ASINs, CIRR names, file names), resolved to paths by the loader
 * of each format.
 */

export const FASHION_IQ_CATEGORIES = ['dress', 'shirt', 'toptee'] as const;
export type FashionIqCategory = (typeof FASHION_IQ_CATEGORIES)[number];

/** `captions/cap.<category>.<split>.json`: the reference is called "candidate"; test files have no target. */
export interface FashionIqTriplet {
  reference: string;
  target?: string;
  /** Always two relative captions in the real files; either may be an empty string (reported as a warning). */
  captions: [string, string];
}

/** CIRR `captions/cap.rc2.<split>.json`. Test files have no targets and no target rank. */
export interface CirrPair {
  pairId: number;
  reference: string;
  targetHard?: string;
  targetSoft?: Record<string, number>;
  caption: string;
  imageSet: { id: number; members: string[]; referenceRank?: number; targetRank?: number };
}

/** Shoes `relative_captions_shoes.json` (file names with .jpg). */
export interface ShoesTriplet {
  reference: string;
  target: string;
  caption: string;
}

/** Multi-turn FashionIQ (Yuan & Lam 2021) `data/<category>.<split>.json`: a chain of 2–4 reference turns. */
export interface MultiTurnFashionIqSession {
  target: { imageUrl: string; asin: string };
  /** Turn t's reference image and the two captions that lead from it to the next image (the last to the target). */
  turns: { imageUrl: string; captions: [string, string]; asin: string }[];
}

/** FashionMT transaction (MAI): 4 images, 3 modification texts, 4 captions. Image fields are paths or names. */
export interface FashionMtTransaction {
  ref: string;
  tar1: string;
  tar2: string;
  tar3: string;
  mod1: string;
  mod2: string;
  mod3: string;
  cap0: string;
  cap1: string;
  cap2: string;
  cap3: string;
}

/** The kind of the final turn of a FashionMT transaction, inferred from its text (the files carry no flag). */
export type FashionMtKind = 'rollback' | 'combination' | 'plain';

/** MTCIR (CoLLM) modification categories. */
export const MTCIR_CATEGORIES = [
  'attribute_change',
  'added_object',
  'removed_object',
  'relationship_change',
  'viewpoint_change',
  'number_change',
] as const;
export type MtcirCategory = (typeof MTCIR_CATEGORIES)[number];

/** MTCIR image pair with several categorized modification texts (one JSON object per line). */
export interface MtcirPair {
  reference: string;
  target: string;
  modifications: { category: MtcirCategory; text: string }[];
}

/** One ChatIR question/answer round, parsed robustly: malformed rounds keep their raw text. */
export interface ChatIrRound {
  raw: string;
  question: string;
  answer: string;
  /** false when the round does not split into exactly "<question>? <answer>". */
  wellFormed: boolean;
}

/** ChatIR dialog: `dialog[0]` is the caption, then question/answer rounds. */
export interface ChatIrDialog {
  image: string;
  caption: string;
  rounds: ChatIrRound[];
}

/** An image and its caption (JSONL, CSV or TSV beside an image folder). */
export interface ImageCaptionPair {
  image: string;
  caption: string;
}

/** What `cir data stats` prints for any format. */
export interface DatasetStats {
  format: string;
  file: string;
  /** Triplets / pairs / sessions / dialogs / transactions, depending on the format. */
  records: number;
  /** Distinct images of the split (gallery) where the format has one, else images referenced by records. */
  images: number;
  invalid: number;
  warnings: number;
}
