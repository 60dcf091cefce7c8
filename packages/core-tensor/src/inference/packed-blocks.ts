import type { FrozenPreNormBlock } from './frozen';

/**
 * A stack of frozen blocks over the real tokens only. Rows are packed: each row's real tokens (mask 1) are moved
 * to the front in their order, rows of similar length are grouped, and each group runs padded only to its own
 * longest row. Attention has no notion of position inside a block (positions were added before it), and a masked
 * key has exactly zero weight, so every real token's output is what the padded batch computes; only the work on
 * padding is skipped.
 *
 * Why: a serving batch pads every text to its longest (here ~2× the mean: 4–15 tokens), and combination turns pad
 * every history caption to the longest caption; a block costs in proportion to the tokens it is given.
 */

/** Tokens' worth of work that a separate call costs (its fixed overhead): a new group must save more than this. */
const CALL_COST_TOKENS = 12;

/**
 * Splits `lengths` (sorted ascending) into groups of consecutive rows minimising Σ rows × longest + groups × cost.
 * @returns the end index of each group
 */
export function lengthGroups(lengths: readonly number[], callCost = CALL_COST_TOKENS): number[] {
  const count = lengths.length;
  const best = new Float64Array(count + 1);
  const cut = new Int32Array(count + 1);
  for (let end = 1; end <= count; end++) {
    best[end] = Number.POSITIVE_INFINITY;
    for (let start = 0; start < end; start++) {
      const cost = best[start]! + (end - start) * lengths[end - 1]! + callCost;
      if (cost < best[end]!) {
        best[end] = cost;
        cut[end] = start;
      }
    }
  }
  const ends: number[] = [];
  for (let end = count; end > 0; end = cut[end]!) ends.unshift(end);
  return ends;
}

/** `blocks` applied in turn to the padded batch x `[batch, tokens, dim]`, the last one computing only `outputs`. */
export function applyBlocksPadded(
  blocks: readonly FrozenPreNormBlock[],
  x: Float32Array,
  batch: number,
  tokens: number,
  mask: ArrayLike<number> | undefined,
  outputs: readonly [number, number] = [0, tokens],
): Float32Array {
  let sequence = x;
  blocks.forEach((block, index) => {
    sequence = block.apply(
      sequence,
      batch,
      tokens,
      mask,
      index === blocks.length - 1 ? outputs : [0, tokens],
    );
  });
  return sequence;
}

/**
 * `blocks` applied in turn to x `[batch, tokens, dim]`, the last one computing only `outputs`, over real tokens only.
 * @param mask `[batch, tokens]`, 1 = real token (all real when absent)
 * @param outputs positions `[start, end)` of the result (all by default). A range other than all tokens is packed
 *   only when every row's positions before `end` are real (so that they keep their places); otherwise the batch
 *   runs padded.
 * @returns `[batch, end − start, dim]`; the outputs of masked positions are zero (a masked token is nobody's key,
 *   so no later computation reads them)
 */
export function applyBlocksPacked(
  blocks: readonly FrozenPreNormBlock[],
  x: Float32Array,
  batch: number,
  tokens: number,
  mask: ArrayLike<number> | undefined,
  outputs: readonly [number, number] = [0, tokens],
): Float32Array {
  const dim = x.length / Math.max(batch * tokens, 1);
  const padded = () => applyBlocksPadded(blocks, x, batch, tokens, mask, outputs);
  const [first, end] = outputs;
  const all = first === 0 && end === tokens;
  if (!mask || blocks.length === 0 || batch === 0) return padded();
  const lengths = new Int32Array(batch);
  for (let row = 0; row < batch; row++) {
    let real = 0;
    for (let position = 0; position < tokens; position++) if (mask[row * tokens + position]) real++;
    lengths[row] = real;
    // An all-masked row has no keys to pack: the padded batch defines it.
    if (real === 0) return padded();
    if (!all) {
      for (let position = 0; position < end; position++) if (!mask[row * tokens + position]) return padded();
    }
  }
  if (lengths.every((length) => length === tokens)) return padded();

  const kept = end - first;
  const out = new Float32Array(batch * kept * dim);
  const order = Array.from(lengths.keys()).sort((a, b) => lengths[a]! - lengths[b]!);
  let start = 0;
  for (const groupEnd of lengthGroups(order.map((row) => lengths[row]!))) {
    const rows = order.slice(start, groupEnd);
    start = groupEnd;
    const longest = lengths[rows[rows.length - 1]!]!;
    const packed = new Float32Array(rows.length * longest * dim);
    const packedMask = new Uint8Array(rows.length * longest);
    rows.forEach((row, index) => {
      let target = index * longest;
      for (let position = 0; position < tokens; position++) {
        if (!mask[row * tokens + position]) continue;
        const source = (row * tokens + position) * dim;
        packed.set(x.subarray(source, source + dim), target * dim);
        packedMask[target++] = 1;
      }
    });
    const sequence = applyBlocksPadded(
      blocks,
      packed,
      rows.length,
      longest,
      rows.every((row) => lengths[row] === longest) ? undefined : packedMask,
      all ? [0, longest] : outputs,
    );
    rows.forEach((row, index) => {
      if (!all) {
        out.set(sequence.subarray(index * kept * dim, (index + 1) * kept * dim), row * kept * dim);
        return;
      }
      // Back to the row's own positions.
      let packedPosition = index * longest;
      for (let position = 0; position < tokens; position++) {
        if (!mask[row * tokens + position]) continue;
        const source = packedPosition++ * dim;
        out.set(sequence.subarray(source, source + dim), (row * tokens + position) * dim);
      }
    });
  }
  return out;
}
