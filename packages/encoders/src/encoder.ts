/**
 * The frozen encoder contracts every method builds on. An encoder's `id` names the model and its weights (e.g.
 * "onnx:clip-vit-b32@sha256:…" or "mini-clip@sha256:…"); it is recorded in every index, feature cache and
 * checkpoint, so that features of different encoders are never mixed silently.
 */

/** Encoded items: pooled embeddings `[count, dim]`, and token outputs `[count, tokens, tokenDim]` when available. */
export interface EncodedBatch {
  count: number;
  /** `[count, dim]`, L2-normalised when the encoder says so (`normalized`). */
  pooled: Float32Array;
  dim: number;
  /** Patch or word hidden states `[count, tokens, tokenDim]`. */
  tokens?: Float32Array;
  tokenCount?: number;
  tokenDim?: number;
  /** Text only: 1 for real tokens, 0 for padding, `[count, tokens]`. */
  tokenMask?: Uint8Array;
}

export interface EncoderInfo {
  /** Stable identity of the model and weights. */
  id: string;
  /** Width of the pooled embedding. */
  dim: number;
  /** Width of token outputs, when the encoder exposes them. */
  tokenDim?: number;
  /** Whether pooled embeddings come out L2-normalised. */
  normalized: boolean;
}

/** Images in, embeddings out. Sources are file paths or encoded image bytes (PNG, JPEG, …). */
export interface ImageEncoder extends EncoderInfo {
  encodeImages(sources: readonly (string | Uint8Array)[]): Promise<EncodedBatch>;
  dispose?(): Promise<void>;
}

/** Options of {@link TextEncoder.encodeTexts}. */
export interface EncodeTextsOptions {
  /**
   * Token outputs may stop after the longest text of the call (`tokenCount` smaller than the encoder's maximum):
   * the real tokens' states and `pooled` are the same, only trailing padding columns are left out (and not
   * computed). For callers that mask padding anyway, e.g. a turn of a multi-turn session.
   */
  trimPadding?: boolean;
}

/** Texts in, embeddings out. */
export interface TextEncoder extends EncoderInfo {
  encodeTexts(texts: readonly string[], options?: EncodeTextsOptions): Promise<EncodedBatch>;
  dispose?(): Promise<void>;
}

/** Raised when stored features, an index or a checkpoint were made by another encoder than the one in use. */
export class EncoderMismatchError extends Error {
  constructor(
    readonly what: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `${what} was built with encoder "${actual}", but the encoder in use is "${expected}". Rebuild it or use the original encoder.`,
    );
    this.name = 'EncoderMismatchError';
  }
}
