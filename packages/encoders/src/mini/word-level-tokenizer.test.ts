import { describe, expect, it } from 'vitest';
import {
  BatchTokenizer,
  buildWordLevelTokenizerJson,
  wordLevelTokenizerConfig,
} from './word-level-tokenizer';

describe('word-level tokenizer', () => {
  const json = buildWordLevelTokenizerJson(['a red dress', 'a blue v-neck dress', 'A red shirt']);

  it('orders the vocabulary by frequency, after the special tokens', () => {
    const vocab = (json as { model: { vocab: Record<string, number> } }).model.vocab;
    expect(Object.entries(vocab).slice(0, 7)).toEqual([
      ['[PAD]', 0],
      ['[UNK]', 1],
      ['[CLS]', 2],
      ['[SEP]', 3],
      ['a', 4],
      ['dress', 5],
      ['red', 6],
    ]);
  });

  it('encodes through @huggingface/tokenizers with [CLS] … [SEP], padding, truncation and unknown words', () => {
    const tokenizer = new BatchTokenizer(json, wordLevelTokenizerConfig(6), 6);
    const batch = tokenizer.encode(['A red dress', 'a blue v-neck dress with a logo']);
    const vocab = (json as { model: { vocab: Record<string, number> } }).model.vocab;
    expect(Array.from(batch.ids.subarray(0, 6))).toEqual([2, vocab.a, vocab.red, vocab.dress, 3, 0]);
    expect(Array.from(batch.mask.subarray(0, 6))).toEqual([1, 1, 1, 1, 1, 0]);
    // "a blue v - neck dress with a logo" is cut to 4 words + [SEP]; "with" and "logo" would be [UNK] (1).
    expect(Array.from(batch.ids.subarray(6, 12))).toEqual([2, vocab.a, vocab.blue, vocab.v, vocab['-'], 3]);
    expect(batch.truncated).toBe(1);
    expect(tokenizer.encode(['logo']).ids[1]).toBe(1);
  });
});
