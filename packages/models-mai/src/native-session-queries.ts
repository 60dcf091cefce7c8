import type { SessionBatch } from './batches';
import { concatenateArrays } from './features';
import { FrozenMaiTurn, type MemoryTokens, type TextTokens } from './frozen-turn';
import type { MaiModel } from './mai-model';
import { NativeGalleryEncoder } from './native-gallery-encoder';

/**
 * The final-turn composed query of each session of a batch — `forwardSessions(...).turns.at(-1).fusedQuery` — on
 * Float32Arrays: BSA of every turn image with `NativeGalleryEncoder`, the memory updated turn by turn, and MSA only
 * at the last turn (the earlier turns' queries are not read in evaluation; the memory does not depend on them).
 * For evaluation; the tfjs path stays the reference (tested to 1e-4).
 */
export class NativeSessionQueries {
  private readonly turn: FrozenMaiTurn;
  private readonly gallery: NativeGalleryEncoder;

  /** Whether `model` can run here this way (two-stage, a frozen memory policy, onnxruntime loads). */
  static supports(model: MaiModel): boolean {
    return FrozenMaiTurn.supports(model) && NativeGalleryEncoder.available();
  }

  constructor(model: MaiModel) {
    this.turn = new FrozenMaiTurn(model);
    this.gallery = new NativeGalleryEncoder(model);
  }

  /** @returns `[batch.batch, embedDim]`, L2-normalised */
  finalQueries(batch: SessionBatch): Float32Array {
    const { queries, dim, embedDim } = this.turn.config;
    const { batch: size, turns } = batch;
    const images = batch.images.tokens;
    const captions = batch.captions.tokens;
    const [, imageTokens, imageDim] = images.shape;
    const [, captionTokens, captionDim] = captions.shape;
    const captionMask = batch.captions.mask!.dataSync();
    const captionValues = captions.dataSync() as Float32Array;
    // BSA of the images that are some turn's reference only (each session's final target never is).
    const referenced = [...new Set(batch.referenceRows.flatMap((rows) => Array.from(rows)))];
    const slot = new Map(referenced.map((row, index) => [row, index]));
    const { tokens: bsa } = this.gallery.encode({
      count: referenced.length,
      images: pickRows(images.dataSync() as Float32Array, imageTokens * imageDim, referenced),
      imageTokens,
      captions: pickRows(captionValues, captionTokens * captionDim, referenced),
      captionMask: pickRows(Float32Array.from(captionMask), captionTokens, referenced),
      captionTokens,
    });
    const width = queries * dim;
    let memory: MemoryTokens | undefined;
    for (let turn = 0; turn < turns; turn++) {
      const current = new Float32Array(size * width);
      batch.referenceRows[turn]!.forEach((row, session) => {
        const at = slot.get(row)!;
        current.set(bsa.subarray(at * width, (at + 1) * width), session * width);
      });
      memory = this.turn.updateMemory(memory, current, size);
    }
    const last = turns - 1;
    const texts = batch.texts.tokens;
    const [, textTokens, inputDim] = texts.shape;
    const textValues = texts.dataSync() as Float32Array;
    const textMask = batch.texts.mask!.dataSync();
    const out = new Float32Array(size * embedDim);
    // Combination sessions re-read their history's captions; the others compose from the memory alone.
    const combination = batch.combination[last]!;
    for (const wantsHistory of [false, true]) {
      const sessions = Array.from({ length: size }, (_value, session) => session).filter(
        (session) => combination[session]! > 0 === wantsHistory,
      );
      if (sessions.length === 0) continue;
      const rowMemory: MemoryTokens = {
        tokens: concatenateArrays(
          sessions.map((session) =>
            memory!.tokens.subarray(session * memory!.count * dim, (session + 1) * memory!.count * dim),
          ),
        ),
        count: memory!.count,
      };
      const text = tokenRows(
        textValues,
        textMask,
        textTokens,
        inputDim,
        sessions.map((session) => session * turns + last),
        1,
      );
      // The captions of turn images 0 … last, in turn order, as MaiModel.compose reads them.
      const history = wantsHistory
        ? {
            captions: tokenRows(
              captionValues,
              captionMask,
              captionTokens,
              inputDim,
              sessions.map((session) => session * (turns + 1)),
              turns,
            ),
            turns,
          }
        : undefined;
      const composed = this.turn.compose(rowMemory, text, sessions.length, history);
      sessions.forEach((session, index) => {
        out.set(composed.subarray(index * embedDim, (index + 1) * embedDim), session * embedDim);
      });
    }
    return out;
  }
}

/** The rows `rows` (in that order) of a row-major array whose rows hold `rowLength` values. */
function pickRows(values: Float32Array, rowLength: number, rows: readonly number[]): Float32Array {
  const out = new Float32Array(rows.length * rowLength);
  rows.forEach((row, index) => {
    out.set(values.subarray(row * rowLength, (row + 1) * rowLength), index * rowLength);
  });
  return out;
}

/**
 * Rows `first, first + 1, …, first + span − 1` of a `[rows, tokens, inputDim]` token array for each `first`, each
 * group concatenated along the tokens: `[firsts.length, span · tokens, inputDim]` with its mask.
 */
function tokenRows(
  values: Float32Array,
  mask: ArrayLike<number>,
  tokens: number,
  inputDim: number,
  firsts: readonly number[],
  span: number,
): TextTokens {
  const count = span * tokens;
  const out = new Float32Array(firsts.length * count * inputDim);
  const outMask = new Uint8Array(firsts.length * count);
  firsts.forEach((first, index) => {
    out.set(
      values.subarray(first * tokens * inputDim, (first * tokens + count) * inputDim),
      index * count * inputDim,
    );
    for (let position = 0; position < count; position++) {
      outMask[index * count + position] = mask[first * tokens + position] ? 1 : 0;
    }
  });
  return { tokens: out, count, mask: outMask };
}
