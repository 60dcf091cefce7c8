import { copyTokens, FrozenLayerNorm, FrozenLinear, l2NormalizeRowsInPlace } from '@cir/core-tensor';
import { selectTokens } from '@cir/mio';
import type { FrozenAggregationStack } from './aggregation-layer';
import type { MaiConfig } from './config';
import type { MaiModel } from './mai-model';

/** Memory tokens of a batch of sessions: `[batch, count, dim]`. */
export interface MemoryTokens {
  tokens: Float32Array;
  count: number;
}

/** Token features of a batch of texts: `[batch, count, inputDim]` and their mask `[batch, count]`. */
export interface TextTokens {
  tokens: Float32Array;
  count: number;
  mask: ArrayLike<number>;
}

/**
 * MAI's turn on Float32Arrays, for serving a trained model: the memory update (MIO, concat or none) and `compose`
 * (MSA over memory + modification text, with the combination turn's caption re-read), computing what MaiModel
 * computes with tfjs (tested to 1e-4) without tfjs's per-kernel overhead (see @cir/core-tensor's frozen.ts). The
 * weights are copied when freezing: freeze again after the model changes.
 */
export class FrozenMaiTurn {
  readonly config: MaiConfig;
  private readonly textInput: FrozenLinear;
  private readonly textNorm: FrozenLayerNorm;
  private readonly bsa: FrozenAggregationStack;
  private readonly msa: FrozenAggregationStack;
  private readonly queryProjection: FrozenLinear;
  /** `[maxTurns, dim]` */
  private readonly turnEmbedding: Float32Array;

  /** Whether `model`'s memory policy has a frozen update (the recurrent one does not). */
  static supports(model: MaiModel): boolean {
    return model.config.twoStage && model.config.memory !== 'recurrent';
  }

  constructor(model: MaiModel) {
    if (!FrozenMaiTurn.supports(model)) {
      throw new Error('FrozenMaiTurn: needs two-stage aggregation and a none, concat or mio memory');
    }
    this.config = model.config;
    this.textInput = new FrozenLinear(model.textInput);
    this.textNorm = new FrozenLayerNorm(model.textNorm);
    this.bsa = model.bsa.freezeWithoutImage();
    this.msa = model.msa.freezeWithoutImage();
    this.queryProjection = new FrozenLinear(model.queryProjection);
    this.turnEmbedding = model.turnEmbedding.queries.dataSync() as Float32Array;
  }

  /**
   * The memory after this turn, as MemoryUpdate computes it.
   * @param memory `[batch, count, dim]` before the turn (undefined at the first turn)
   * @param current this turn's BSA tokens `[batch, queries, dim]`
   */
  updateMemory(memory: MemoryTokens | undefined, current: Float32Array, batch: number): MemoryTokens {
    const { queries, dim, memory: policy, mioNeighbours } = this.config;
    if (!memory || policy === 'none') return { tokens: current.slice(), count: queries };
    const count = memory.count + queries;
    const combined = new Float32Array(batch * count * dim);
    copyTokens(memory.tokens, memory.count, 0, combined, count, 0, batch, memory.count, dim);
    copyTokens(current, queries, 0, combined, count, memory.count, batch, queries, dim);
    if (policy === 'concat') return { tokens: combined, count };
    // MIO: keep the `queries` DPC-kNN density peaks, in selection order (as gatherTokens does).
    const kept = selectTokens(combined, [batch, count, dim], queries, { k: mioNeighbours });
    const tokens = new Float32Array(batch * queries * dim);
    for (let row = 0; row < batch; row++) {
      for (let slot = 0; slot < queries; slot++) {
        const source = (row * count + kept[row * queries + slot]!) * dim;
        tokens.set(combined.subarray(source, source + dim), (row * queries + slot) * dim);
      }
    }
    return { tokens, count: queries };
  }

  /** `textNorm(textInput(x))`: `[rows, inputDim]` → `[rows, dim]` */
  private embedText(tokens: Float32Array, rows: number): Float32Array {
    return this.textNorm.apply(this.textInput.apply(tokens, rows), rows);
  }

  /**
   * MaiModel.compose on arrays: every row of the batch is a combination turn when `history` is given.
   * @param memory `[batch, count, dim]` @param text `[batch, count, inputDim]`
   * @param history captions of the turn images `[batch, turns · perTurn, inputDim]`, `turns` blocks per row
   * @returns the composed queries `[batch, embedDim]`, L2-normalised
   */
  compose(
    memory: MemoryTokens,
    text: TextTokens,
    batch: number,
    history?: { captions: TextTokens; turns: number },
  ): Float32Array {
    const { dim, pooling, embedDim } = this.config;
    let queries = memory.tokens;
    if (history && this.config.combination) {
      const { captions, turns } = history;
      const perTurn = captions.count / turns;
      const embedded = this.embedText(captions.tokens, batch * captions.count);
      for (let row = 0; row < batch; row++) {
        for (let position = 0; position < captions.count; position++) {
          // Turns past maxTurns share the last turn embedding (as in MaiModel.compose).
          const turn = Math.min(Math.floor(position / perTurn), this.config.maxTurns - 1);
          const offset = (row * captions.count + position) * dim;
          for (let d = 0; d < dim; d++) embedded[offset + d]! += this.turnEmbedding[turn * dim + d]!;
        }
      }
      // Only the memory tokens are read after the re-read.
      queries = this.bsa.apply(queries, memory.count, embedded, captions.count, captions.mask, batch, [
        0,
        memory.count,
      ]);
    }
    // The readout: the text's first ([CLS]) state, or the mean of the memory tokens; the last layer computes only it.
    const textCls = pooling === 'text-cls';
    const outputs = textCls ? ([memory.count, memory.count + 1] as const) : ([0, memory.count] as const);
    const fused = this.msa.apply(
      queries,
      memory.count,
      this.embedText(text.tokens, batch * text.count),
      text.count,
      text.mask,
      batch,
      outputs,
    );
    const kept = outputs[1] - outputs[0];
    const readout = new Float32Array(batch * dim);
    for (let row = 0; row < batch; row++) {
      for (let token = 0; token < kept; token++) {
        const offset = (row * kept + token) * dim;
        for (let d = 0; d < dim; d++) readout[row * dim + d]! += fused[offset + d]! / kept;
      }
    }
    return l2NormalizeRowsInPlace(this.queryProjection.apply(readout, batch), batch, embedDim);
  }
}
