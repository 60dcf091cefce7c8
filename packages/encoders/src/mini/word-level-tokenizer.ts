import { Tokenizer } from '@huggingface/tokenizers';

/** Special tokens of the mini encoder's vocabulary, at fixed ids. */
export const SPECIAL_TOKENS = { pad: '[PAD]', unknown: '[UNK]', start: '[CLS]', end: '[SEP]' } as const;
const SPECIAL_ORDER = [SPECIAL_TOKENS.pad, SPECIAL_TOKENS.unknown, SPECIAL_TOKENS.start, SPECIAL_TOKENS.end];

/** The split that Hugging Face's `Whitespace` pre-tokenizer applies: runs of word characters, or of punctuation. */
const WORD_PATTERN = /\w+|[^\w\s]+/g;

/**
 * Builds a Hugging Face `tokenizer.json` (WordLevel model, lower-casing, Whitespace pre-tokenizer,
 * `[CLS] text [SEP]` template) whose vocabulary is every word of `texts` seen at least `minCount` times, in order of
 * frequency then alphabetically, so the same texts always give the same ids. Any HF tokenizers implementation
 * (Rust, Python, tokenizers.js) reads the result.
 */
export function buildWordLevelTokenizerJson(
  texts: Iterable<string>,
  options: { minCount?: number } = {},
): object {
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const word of text.toLowerCase().match(WORD_PATTERN) ?? [])
      counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  const words = [...counts]
    .filter(([, count]) => count >= (options.minCount ?? 1))
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([word]) => word);
  const vocab: Record<string, number> = {};
  for (const token of [...SPECIAL_ORDER, ...words]) vocab[token] = Object.keys(vocab).length;
  const special = (token: string) => ({ id: token, ids: [vocab[token]], tokens: [token] });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_ORDER.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: SPECIAL_TOKENS.start, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: SPECIAL_TOKENS.end, type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: SPECIAL_TOKENS.start, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: SPECIAL_TOKENS.end, type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: SPECIAL_TOKENS.end, type_id: 1 } },
      ],
      special_tokens: {
        [SPECIAL_TOKENS.start]: special(SPECIAL_TOKENS.start),
        [SPECIAL_TOKENS.end]: special(SPECIAL_TOKENS.end),
      },
    },
    decoder: null,
    model: { type: 'WordLevel', vocab, unk_token: SPECIAL_TOKENS.unknown },
  };
}

/** The `tokenizer_config.json` that goes with it. */
export function wordLevelTokenizerConfig(maxLength: number): object {
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    model_max_length: maxLength,
    pad_token: SPECIAL_TOKENS.pad,
    unk_token: SPECIAL_TOKENS.unknown,
    cls_token: SPECIAL_TOKENS.start,
    sep_token: SPECIAL_TOKENS.end,
    do_lower_case: true,
  };
}

export interface TokenizedBatch {
  /** `[count, maxLength]` token ids, padded with the pad id (0). */
  ids: Int32Array;
  /** `[count, maxLength]` 1 for real tokens, 0 for padding. */
  mask: Uint8Array;
  count: number;
  maxLength: number;
  /** Texts that were longer than maxLength and lost their tail (the [SEP] is kept). */
  truncated: number;
}

/** Tokenizes texts with a tokenizer.json through @huggingface/tokenizers, padding and truncating to maxLength. */
export class BatchTokenizer {
  private readonly tokenizer: Tokenizer;
  readonly padId: number;
  readonly endId: number;
  readonly vocabularySize: number;

  constructor(
    tokenizerJson: object,
    config: object,
    readonly maxLength: number,
  ) {
    this.tokenizer = new Tokenizer(tokenizerJson, config);
    this.padId = this.tokenizer.token_to_id(SPECIAL_TOKENS.pad) ?? 0;
    this.endId = this.tokenizer.token_to_id(SPECIAL_TOKENS.end) ?? 0;
    const model = (tokenizerJson as { model?: { vocab?: Record<string, number> } }).model;
    this.vocabularySize = model?.vocab ? Object.keys(model.vocab).length : 0;
  }

  encode(texts: readonly string[]): TokenizedBatch {
    const { maxLength } = this;
    const ids = new Int32Array(texts.length * maxLength).fill(this.padId);
    const mask = new Uint8Array(texts.length * maxLength);
    let truncated = 0;
    texts.forEach((text, row) => {
      let tokenIds = this.tokenizer.encode(text).ids;
      if (tokenIds.length > maxLength) {
        truncated++;
        tokenIds = [...tokenIds.slice(0, maxLength - 1), this.endId];
      }
      ids.set(tokenIds, row * maxLength);
      mask.fill(1, row * maxLength, row * maxLength + tokenIds.length);
    });
    return { ids, mask, count: texts.length, maxLength, truncated };
  }
}
