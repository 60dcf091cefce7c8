import { copyTokens, tf } from '@cir/core-tensor';
import { longestText } from '@cir/encoders';
import { concatenateArrays, type TokenEncoder } from './features';
import { FrozenMaiTurn, type MemoryTokens, type TextTokens } from './frozen-turn';
import type { MaiModel, TokenInput } from './mai-model';

/** One session's turn, as the model needs it (the second stage: memory, reference and text). */
export interface ComposeTurn {
  /** The session's memory `[1, count, dim]` before this turn (undefined on its first turn). */
  memory: MemoryTokens | undefined;
  /** The reference's BSA tokens `[queries, dim]`. */
  aggregated: Float32Array;
  text: string;
  /**
   * A combination turn's history: the captions of the turn images `[turns, captionTokens, tokenDim]` and their
   * masks `[turns, captionTokens]`, re-read by the memory before the text.
   */
  history?: { captions: Float32Array; mask: Uint8Array; turns: number };
}

/** What the model made of one turn: the composed query and the memory after it, or why it failed. */
export type ComposedTurn =
  | {
      /** The composed query `[embedDim]`, L2-normalised. */
      query: Float32Array;
      /** The session's memory after this turn `[1, count, dim]`. */
      memory: MemoryTokens;
    }
  | { error: unknown };

/**
 * MAI's second stage for a batch of turns of different sessions: one text encoding, the memory updates and one MSA
 * pass per group of turns that compose together (see `compose`). This is the model's part of a served turn (the
 * gallery search is the caller's); `TurnBatcher` runs it on the calling thread or in a turn worker
 * (`turn-worker.ts`), with the same results.
 */
export class TurnComposer {
  private frozen: FrozenMaiTurn | undefined;

  constructor(
    readonly model: MaiModel,
    readonly encoder: TokenEncoder,
  ) {}

  /**
   * The composed query and updated memory of every turn, in order. A failure rejects only the turns it concerns:
   * the text encoding all of them, a group's compose that group's.
   */
  async compose(batch: readonly ComposeTurn[]): Promise<ComposedTurn[]> {
    // One text encoding for the batch, up to its longest text (padding columns are masked: skipping them changes
    // nothing).
    let texts: TextTokens;
    let tokenDim: number;
    try {
      const encoded = await this.encoder.encodeTexts(
        batch.map((turn) => turn.text),
        { trimPadding: true },
      );
      texts = { tokens: encoded.tokens!, count: encoded.tokenCount!, mask: encoded.tokenMask! };
      tokenDim = encoded.tokenDim!;
    } catch (error) {
      return batch.map(() => ({ error }));
    }
    const frozen = FrozenMaiTurn.supports(this.model)
      ? (this.frozen ??= new FrozenMaiTurn(this.model))
      : undefined;
    const { queries, memory: policy, embedDim } = this.model.config;
    // Turns that compose together: frozen, every turn whose memory has the same size after this turn's update
    // (all of them for MIO), plain and combination turns apart (the latter padded to the most history turns);
    // with tfjs (recurrent memory), equal memory size before the update and equal history length.
    const groups = new Map<string, number[]>();
    batch.forEach((turn, row) => {
      const key = frozen
        ? `${policy === 'concat' ? (turn.memory?.count ?? 0) + queries : queries}/${turn.history ? 'combination' : 'plain'}`
        : `${turn.memory?.count ?? 0}/${turn.history?.turns ?? 0}`;
      groups.set(key, [...(groups.get(key) ?? []), row]);
    });
    const results = new Array<ComposedTurn>(batch.length);
    for (const rows of groups.values()) {
      try {
        const { query, memories } = this.composeGroup(
          rows.map((row) => batch[row]!),
          selectRows(texts, rows, tokenDim),
          frozen,
        );
        rows.forEach((row, index) => {
          results[row] = {
            query: query.slice(index * embedDim, (index + 1) * embedDim),
            memory: memories[index]!,
          };
        });
      } catch (error) {
        for (const row of rows) results[row] = { error };
      }
    }
    return results;
  }

  /**
   * The memory updates and one MSA pass for a group of turns (see `compose` for who groups together): on
   * Float32Arrays with `frozen`, else with tfjs.
   * @param text the group's modification texts `[count, textTokens, tokenDim]`
   */
  private composeGroup(
    group: readonly ComposeTurn[],
    text: TextTokens,
    frozen: FrozenMaiTurn | undefined,
  ): { query: Float32Array; memories: MemoryTokens[] } {
    const { queries, dim } = this.model.config;
    const count = group.length;
    const history = group[0]!.history && historyTokens(group, text.tokens.length / (count * text.count));
    let memories: MemoryTokens[];
    let query: Float32Array;
    if (frozen) {
      // Each turn's memory update (they may differ in size before it), then one compose for the group.
      memories = group.map((turn) => frozen.updateMemory(turn.memory, turn.aggregated, 1));
      const memory = {
        tokens: concatenateArrays(memories.map((updated) => updated.tokens)),
        count: memories[0]!.count,
      };
      query = frozen.compose(memory, text, count, history);
    } else {
      const previous = group[0]!.memory && {
        tokens: concatenateArrays(group.map((turn) => turn.memory!.tokens)),
        count: group[0]!.memory.count,
      };
      let updatedTokens: Float32Array;
      let updatedCount: number;
      [query, updatedTokens, updatedCount] = tf.tidy(() => {
        const updated = this.model.memory.update(
          previous && memoryTensor(previous, count, dim),
          tf.tensor3d(concatenateArrays(group.map((turn) => turn.aggregated)), [count, queries, dim]),
        );
        const composed = this.model.compose(
          updated,
          textInput(text, count),
          history && {
            captions: textInput(history.captions, count),
            turns: history.turns,
            apply: tf.ones([count]) as tf.Tensor1D,
          },
        );
        return [
          composed.dataSync() as Float32Array,
          updated.dataSync() as Float32Array,
          updated.shape[1],
        ] as const;
      });
      const size = updatedCount * dim;
      memories = group.map((_turn, row) => ({
        tokens: updatedTokens.slice(row * size, (row + 1) * size),
        count: updatedCount,
      }));
    }
    return { query, memories };
  }
}

/** A memory `[batch, count, dim]` as a tensor. */
export const memoryTensor = (memory: MemoryTokens, batch: number, dim: number): tf.Tensor3D =>
  tf.tensor3d(memory.tokens, [batch, memory.count, dim]);

/** Text tokens `[batch, count, tokenDim]` and their mask as the model's input. */
export const textInput = (text: TextTokens, batch: number): TokenInput => ({
  tokens: tf.tensor3d(text.tokens, [batch, text.count, text.tokens.length / (batch * text.count)]),
  mask: tf.tensor2d(Float32Array.from(text.mask), [batch, text.count]),
});

/** Rows of a `[batch, count, tokenDim]` text batch. */
function selectRows(texts: TextTokens, rows: readonly number[], tokenDim: number): TextTokens {
  const { count } = texts;
  const tokens = new Float32Array(rows.length * count * tokenDim);
  const mask = new Uint8Array(rows.length * count);
  rows.forEach((row, index) => {
    tokens.set(
      texts.tokens.subarray(row * count * tokenDim, (row + 1) * count * tokenDim),
      index * count * tokenDim,
    );
    for (let column = 0; column < count; column++)
      mask[index * count + column] = texts.mask[row * count + column]!;
  });
  return { tokens, count, mask };
}

/**
 * The history captions of a group of combination turns, `turns` blocks per row (the group's most; a row with fewer
 * turns gets fully masked blocks after its own), each caption cut to the longest real caption of the group:
 * `[count, turns · kept, tokenDim]`. Exact: cut columns and added blocks are padding, masked out of attention.
 */
function historyTokens(
  group: readonly ComposeTurn[],
  tokenDim: number,
): { captions: TextTokens; turns: number } {
  const turns = Math.max(...group.map((turn) => turn.history!.turns));
  const captionTokens = group[0]!.history!.mask.length / group[0]!.history!.turns;
  const masks = concatenateArrays(group.map((turn) => turn.history!.mask));
  const kept = longestText(masks, masks.length / captionTokens, captionTokens);
  const captions = new Float32Array(group.length * turns * kept * tokenDim);
  const mask = new Uint8Array(group.length * turns * kept);
  group.forEach((turn, row) => {
    // Each of the row's caption blocks, cut to `kept` tokens, into the row's first blocks.
    const blocks = turn.history!.turns;
    const at = row * turns * kept;
    copyTokens(
      turn.history!.captions,
      captionTokens,
      0,
      captions.subarray(at * tokenDim),
      kept,
      0,
      blocks,
      kept,
      tokenDim,
    );
    copyTokens(turn.history!.mask, captionTokens, 0, mask.subarray(at), kept, 0, blocks, kept, 1);
  });
  return { captions: { tokens: captions, count: turns * kept, mask }, turns };
}
