import { concatTokens, gatherRows, tf } from '@cir/core-tensor';
import type { SessionBatch } from './batches';
import type { MaiModel, TokenInput } from './mai-model';

/**
 * One turn's embeddings of a batch of sessions, as the Cyclic Combination Loss reads them (not `@cir/losses`'
 * `TurnEmbeddings`: the per-modality embeddings of L_sim, L_naive and L_pre).
 */
export interface MaiTurnEmbeddings {
  /** Composed query t^r of each turn: `[batch, embedDim]`. */
  fusedQuery: tf.Tensor2D;
  /** Target image + caption t^tg of each turn: `[batch, embedDim]`. */
  targetFused: tf.Tensor2D;
  /** Modification text m (text-only branch): `[batch, embedDim]`. */
  modificationText?: tf.Tensor2D;
  /** Target caption c^tg (text-only branch): `[batch, embedDim]`. */
  targetCaption?: tf.Tensor2D;
}

/** Rows of a token input, as a new input. */
function rowsOf(input: TokenInput, rows: Int32Array): TokenInput {
  const indices = tf.tensor1d(rows, 'int32');
  const [count, tokens, dim] = input.tokens.shape;
  return {
    tokens: gatherRows(tf.reshape(input.tokens, [count, tokens * dim]) as tf.Tensor2D, indices).reshape([
      rows.length,
      tokens,
      dim,
    ]) as tf.Tensor3D,
    ...(input.mask && { mask: gatherRows(input.mask, indices) as tf.Tensor2D }),
  };
}

/** Captions of turn images 0…turn of every session, concatenated along the tokens: `[batch, (turn+1)·tokens, inputDim]`. */
function historyCaptions(batch: SessionBatch, turn: number): TokenInput {
  const parts = Array.from({ length: turn + 1 }, (_value, position) =>
    rowsOf(
      batch.captions,
      Int32Array.from({ length: batch.batch }, (_session, index) => index * (batch.turns + 1) + position),
    ),
  );
  return {
    tokens: concatTokens(parts.map((part) => part.tokens)) as tf.Tensor3D,
    mask: concatTokens(parts.map((part) => part.mask!)) as tf.Tensor2D,
  };
}

/**
 * Runs MAI over a batch of sessions turn by turn: BSA once over every turn image (reference and target sides share
 * it), the memory update per turn, then MSA (or single-stage fusion) per turn. Returns the per-turn embeddings the
 * Cyclic Combination Loss needs, and the final memory `[batch, memoryTokens, dim]`.
 */
export function forwardSessions(
  model: MaiModel,
  batch: SessionBatch,
  options: { textBranch: boolean },
): { turns: MaiTurnEmbeddings[]; memory: tf.Tensor3D } {
  const { config } = model;
  const { turns, batch: size } = batch;
  const bsa = model.bimodalAggregation(batch.images, batch.captions);
  const targets = model.targetEmbedding(bsa);
  const flatTokens = tf.reshape(bsa.tokens, [size * (turns + 1), config.queries * config.dim]) as tf.Tensor2D;
  const textRows = (turn: number) =>
    Int32Array.from({ length: size }, (_value, index) => index * turns + turn);
  const targetRows = (turn: number) =>
    Int32Array.from({ length: size }, (_value, index) => index * (turns + 1) + turn + 1);
  let memory: tf.Tensor3D | undefined;
  const fusedQueries: tf.Tensor2D[] = [];
  for (let turn = 0; turn < turns; turn++) {
    const text = rowsOf(batch.texts, textRows(turn));
    if (config.twoStage) {
      const current = tf.reshape(gatherRows(flatTokens, tf.tensor1d(batch.referenceRows[turn]!, 'int32')), [
        size,
        config.queries,
        config.dim,
      ]) as tf.Tensor3D;
      memory = model.memory.update(memory, current);
      const wantsHistory = batch.combination[turn]!.some((flag) => flag > 0);
      fusedQueries.push(
        model.compose(
          memory,
          text,
          wantsHistory
            ? {
                captions: historyCaptions(batch, turn),
                turns: turn + 1,
                apply: tf.tensor1d(batch.combination[turn]!),
              }
            : undefined,
        ),
      );
    } else {
      const image = rowsOf(batch.images, batch.referenceRows[turn]!);
      const { query, tokens } = model.composeSingleStage(memory, image, text);
      memory = model.memory.update(memory, tokens);
      fusedQueries.push(query);
    }
  }
  const allRows = (rows: (turn: number) => Int32Array) =>
    Int32Array.from(Array.from({ length: turns }, (_value, turn) => Array.from(rows(turn))).flat());
  let modificationTexts: tf.Tensor2D | undefined;
  let targetCaptions: tf.Tensor2D | undefined;
  if (options.textBranch) {
    // Turn-major order, so turn t is rows t·batch … (t+1)·batch − 1.
    modificationTexts = model.textEmbedding(rowsOf(batch.texts, allRows(textRows)));
    targetCaptions = model.textEmbedding(rowsOf(batch.captions, allRows(targetRows)));
  }
  const slice = (matrix: tf.Tensor2D, turn: number) =>
    tf.slice(matrix, [turn * size, 0], [size, -1]) as tf.Tensor2D;
  return {
    turns: fusedQueries.map((fusedQuery, turn) => ({
      fusedQuery,
      targetFused: gatherRows(targets, tf.tensor1d(targetRows(turn), 'int32')) as tf.Tensor2D,
      ...(modificationTexts && { modificationText: slice(modificationTexts, turn) }),
      ...(targetCaptions && { targetCaption: slice(targetCaptions, turn) }),
    })),
    memory: memory!,
  };
}
