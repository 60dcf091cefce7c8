import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  readSafetensorsFile,
  replaceDirectory,
  restoreInterruptedReplace,
  tf,
  writeSafetensorsFile,
} from '@cir/core-tensor';
import { EncoderMismatchError, MiniClipEncoder } from '@cir/encoders';
import {
  type ComposedRetriever,
  ExactStore,
  type GalleryItem,
  gallerySource,
  loadExactStore,
  type RetrievalSession,
  type TurnInput,
  type TurnResult,
  UnknownItemError,
} from '@cir/index';
import { concatenateArrays, type TokenEncoder } from './features';
import { loadMaiModel, saveMaiModel } from './mai-files';
import type { MaiModel, TokenInput } from './mai-model';
import { readTurnIntent } from './retrospective-text';

/** Frozen tokens of one gallery item, kept so that a session can use it as a reference. */
interface ItemTokens {
  image: Float32Array;
  caption: Float32Array;
  captionMask: Uint8Array;
  /** The item's BSA tokens `[queries, dim]`: a reference's first stage, computed once per gallery item. */
  aggregated: Float32Array;
}

const toInput = (tokens: Float32Array, count: number, tokenDim: number, mask?: Uint8Array): TokenInput => ({
  tokens: tf.tensor3d(tokens, [1, count, tokenDim]),
  ...(mask && { mask: tf.tensor2d(Float32Array.from(mask), [1, count]) }),
});

const ITEMS_FILE = 'items.safetensors';

/**
 * The tokens of every gallery item, row by row: frozen encoder image `[n, imageTokens, tokenDim]`, caption
 * `[n, captionTokens, tokenDim]` and its mask `[n, captionTokens]`, and the BSA output `[n, queries, dim]` (what a
 * turn needs of its reference, so turns skip BSA). Saved with the gallery so that a loaded retriever can use any
 * item as a reference without the encoder re-reading the images.
 */
class GalleryTokens {
  readonly rows = new Map<string, number>();
  constructor(
    readonly ids: string[],
    readonly shape: {
      imageTokens: number;
      captionTokens: number;
      tokenDim: number;
      queries: number;
      dim: number;
    },
    readonly image: Float32Array,
    readonly caption: Float32Array,
    readonly captionMask: Uint8Array,
    readonly aggregated: Float32Array,
  ) {
    ids.forEach((id, row) => {
      this.rows.set(id, row);
    });
  }

  get(id: string): ItemTokens | undefined {
    const row = this.rows.get(id);
    if (row === undefined) return undefined;
    const { imageTokens, captionTokens, tokenDim, queries, dim } = this.shape;
    const imageSize = imageTokens * tokenDim;
    const captionSize = captionTokens * tokenDim;
    return {
      image: this.image.subarray(row * imageSize, (row + 1) * imageSize),
      caption: this.caption.subarray(row * captionSize, (row + 1) * captionSize),
      captionMask: this.captionMask.subarray(row * captionTokens, (row + 1) * captionTokens),
      aggregated: this.aggregated.subarray(row * queries * dim, (row + 1) * queries * dim),
    };
  }

  async save(file: string, encoderId: string): Promise<void> {
    const { imageTokens, captionTokens, tokenDim, queries, dim } = this.shape;
    const count = this.ids.length;
    await writeSafetensorsFile(
      file,
      {
        image: { dtype: 'F32', shape: [count, imageTokens, tokenDim], data: this.image },
        caption: { dtype: 'F32', shape: [count, captionTokens, tokenDim], data: this.caption },
        captionMask: { dtype: 'U8', shape: [count, captionTokens], data: this.captionMask },
        aggregated: { dtype: 'F32', shape: [count, queries, dim], data: this.aggregated },
      },
      { encoderId, ids: JSON.stringify(this.ids) },
    );
  }

  static async load(file: string, expectedEncoderId: string): Promise<GalleryTokens> {
    if (!existsSync(file)) {
      throw new Error(
        `${file} not found: the folder was not written by MaiRetriever.save (or is from an old version)`,
      );
    }
    const { tensors, metadata } = await readSafetensorsFile(file);
    if (metadata.encoderId !== expectedEncoderId) {
      throw new EncoderMismatchError(`gallery tokens ${file}`, expectedEncoderId, metadata.encoderId ?? '?');
    }
    const { image, caption, captionMask, aggregated } = tensors;
    if (!image || !caption || !captionMask || !aggregated || !metadata.ids) {
      throw new Error(`${file}: expected tensors image, caption, captionMask, aggregated and an ids list`);
    }
    const ids = JSON.parse(metadata.ids) as string[];
    return new GalleryTokens(
      ids,
      {
        imageTokens: image.shape[1]!,
        captionTokens: caption.shape[1]!,
        tokenDim: image.shape[2]!,
        queries: aggregated.shape[1]!,
        dim: aggregated.shape[2]!,
      },
      image.data as Float32Array,
      caption.data as Float32Array,
      captionMask.data as Uint8Array,
      aggregated.data as Float32Array,
    );
  }
}

/**
 * MAI as a ComposedRetriever: the gallery is embedded on the target side (BSA over image + caption) into an exact
 * store; a session carries only its MIO memory tokens (a constant `queries × dim` for the MIO policy) plus the ids
 * and texts of its turns, which rollback and combination turns look up.
 */
export class MaiRetriever implements ComposedRetriever {
  readonly name: string;
  private store: ExactStore | undefined;
  private tokens: GalleryTokens | undefined;
  /** @internal Turns of concurrent sessions, computed together. */
  readonly batcher: TurnBatcher;

  constructor(
    readonly model: MaiModel,
    readonly encoder: TokenEncoder,
    options: { name?: string } = {},
  ) {
    this.name = options.name ?? 'mai';
    this.batcher = new TurnBatcher(model, encoder);
  }

  async encodeGallery(
    items: readonly GalleryItem[],
    options: { onProgress?: (done: number, total: number) => void } = {},
  ): Promise<void> {
    const store = new ExactStore({ encoderId: this.encoder.id, dim: this.model.config.embedDim });
    const images: Float32Array[] = [];
    const captions: Float32Array[] = [];
    const masks: Uint8Array[] = [];
    const aggregatedParts: Float32Array[] = [];
    const { queries, dim } = this.model.config;
    let shape = { imageTokens: 0, captionTokens: 0, tokenDim: 0, queries, dim };
    const batchSize = 128;
    for (let start = 0; start < items.length; start += batchSize) {
      const batch = items.slice(start, start + batchSize);
      const encodedImages = await this.encoder.encodeImages(batch.map(gallerySource));
      const encodedCaptions = await this.encoder.encodeTexts(batch.map((item) => item.caption ?? ''));
      shape = {
        imageTokens: encodedImages.tokenCount!,
        captionTokens: encodedCaptions.tokenCount!,
        tokenDim: encodedImages.tokenDim!,
        queries,
        dim,
      };
      const { imageTokens, captionTokens, tokenDim } = shape;
      const [embeddings, aggregated] = tf.tidy(() => {
        const bsa = this.model.bimodalAggregation(
          { tokens: tf.tensor3d(encodedImages.tokens!, [batch.length, imageTokens, tokenDim]) },
          {
            tokens: tf.tensor3d(encodedCaptions.tokens!, [batch.length, captionTokens, tokenDim]),
            mask: tf.tensor2d(Float32Array.from(encodedCaptions.tokenMask!), [batch.length, captionTokens]),
          },
        );
        return [this.model.targetEmbedding(bsa), bsa.tokens];
      });
      const vectors = (await embeddings.data()) as Float32Array;
      aggregatedParts.push((await aggregated.data()) as Float32Array);
      tf.dispose([embeddings, aggregated]);
      const embedDim = this.model.config.embedDim;
      await store.add(
        batch.map((item, row) => ({
          id: item.id,
          vector: vectors.slice(row * embedDim, (row + 1) * embedDim),
          ...(item.attributes && { metadata: item.attributes }),
        })),
      );
      images.push(encodedImages.tokens!);
      captions.push(encodedCaptions.tokens!);
      masks.push(encodedCaptions.tokenMask!);
      options.onProgress?.(Math.min(items.length, start + batchSize), items.length);
    }
    this.store = store;
    this.tokens = new GalleryTokens(
      items.map((item) => item.id),
      shape,
      concatenateArrays(images),
      concatenateArrays(captions),
      concatenateArrays(masks),
      concatenateArrays(aggregatedParts),
    );
  }

  openSession(): RetrievalSession {
    if (!this.store) throw new Error(`${this.name}: encode or load a gallery before opening a session`);
    return new MaiSession(this);
  }

  /**
   * Writes the model, the encoded gallery and the gallery's frozen tokens, atomically (a crash leaves the previous
   * folder); the encoder stays where it is.
   */
  async save(directory: string): Promise<void> {
    const { store, tokens } = this;
    if (!store || !tokens) throw new Error(`${this.name}: nothing to save before encodeGallery`);
    await replaceDirectory(directory, async (temporary) => {
      await saveMaiModel(join(temporary, 'model'), this.model, {
        name: this.name,
        encoderId: this.encoder.id,
        steps: 0,
      });
      await store.save(join(temporary, 'gallery'));
      await tokens.save(join(temporary, ITEMS_FILE), this.encoder.id);
    });
  }

  async load(directory: string): Promise<void> {
    await restoreInterruptedReplace(directory);
    const { model } = await loadMaiModel(join(directory, 'model'), { expectedEncoderId: this.encoder.id });
    this.model.importParameters(model.exportParameters());
    model.dispose();
    this.store = await loadExactStore(join(directory, 'gallery'), { expectedEncoderId: this.encoder.id });
    this.tokens = await GalleryTokens.load(join(directory, ITEMS_FILE), this.encoder.id);
  }

  /** Loads a trained MAI model folder with its encoder (a mini encoder folder). */
  static async fromFolders(modelDirectory: string, encoderDirectory: string): Promise<MaiRetriever> {
    const encoder = await MiniClipEncoder.load(encoderDirectory);
    const { model, info } = await loadMaiModel(modelDirectory, { expectedEncoderId: encoder.id });
    return new MaiRetriever(model, encoder, { name: info.name });
  }

  /** @internal */
  itemTokens(id: string): ItemTokens {
    const tokens = this.tokens?.get(id);
    if (!tokens) throw new UnknownItemError(id);
    return tokens;
  }

  /** @internal */
  get shape() {
    return this.tokens!.shape;
  }

  /** @internal */
  get gallery(): ExactStore {
    return this.store!;
  }
}

interface TurnRecord {
  turn: number;
  referenceId?: string;
  text: string;
  /** The turn's best result: the next turn's reference when the shopper names none. */
  best?: string;
}

class MaiSession implements RetrievalSession {
  readonly id = randomUUID();
  private turns: TurnRecord[] = [];
  /** The only tensor state: memory tokens `[1, memoryTokens, dim]` after the last turn. */
  private memory: tf.Tensor3D | undefined;

  constructor(private readonly retriever: MaiRetriever) {}

  history(): readonly { turn: number; referenceId?: string; text: string }[] {
    return this.turns.map(({ turn, referenceId, text }) => ({ turn, referenceId, text }));
  }

  async turn(input: TurnInput): Promise<TurnResult> {
    const referenceId = input.referenceId ?? this.turns.at(-1)?.best;
    if (!referenceId)
      throw new Error('the first turn needs a referenceId (the product the shopper starts from)');
    const record: TurnRecord = { turn: this.turns.length + 1, referenceId, text: input.text };
    const query = await this.step(record);
    const results = await this.retriever.gallery.search(
      query,
      1,
      input.limit ?? 10,
      input.filter ? { filter: input.filter } : {},
    );
    record.best = results[0]![0]?.id;
    this.turns.push(record);
    return { turn: record.turn, results: results[0]!.map((hit) => ({ id: hit.id, score: hit.score })) };
  }

  async rollback(turn: number): Promise<void> {
    if (!Number.isInteger(turn) || turn < 0 || turn > this.turns.length) {
      throw new RangeError(`cannot roll back to turn ${turn}: the session has ${this.turns.length} turns`);
    }
    const kept = this.turns.slice(0, turn);
    this.memory?.dispose();
    this.memory = undefined;
    this.turns = [];
    // Replaying the kept turns rebuilds their memory exactly (the model is deterministic).
    for (const record of kept) {
      await this.step(record);
      this.turns.push(record);
    }
  }

  /** Runs one turn through the model, updates the memory and returns the composed query `[embedDim]`. */
  private async step(record: TurnRecord): Promise<Float32Array> {
    const { model } = this.retriever;
    const { imageTokens, captionTokens, tokenDim } = this.retriever.shape;
    const intent = readTurnIntent(record.text);
    // A rollback request replaces the reference by the image of the turn it names (MAI's "Replace").
    const images = [...this.turns.map((previous) => previous.referenceId!), record.referenceId!];
    const referenceId =
      model.config.rollback && intent.rollbackTo !== undefined && intent.rollbackTo < images.length - 1
        ? images[intent.rollbackTo]!
        : record.referenceId!;
    const reference = this.retriever.itemTokens(referenceId);
    const modelText = model.config.rollback ? intent.text : record.text;
    if (model.config.twoStage && !(intent.combination && model.config.combination)) {
      // The common turn (reference + modification text): computed together with the turns of other sessions.
      const { query, memory } = await this.retriever.batcher.run({
        memory: this.memory,
        aggregated: reference.aggregated,
        text: modelText,
      });
      this.memory?.dispose();
      this.memory = memory;
      return query;
    }
    const text = await this.retriever.encoder.encodeTexts([modelText]);
    return tf.tidy(() => {
      let query: tf.Tensor2D;
      let memory: tf.Tensor3D;
      const textInput = toInput(text.tokens!, text.tokenCount!, tokenDim, text.tokenMask);
      if (model.config.twoStage) {
        // BSA of the reference was computed when the gallery was encoded (it depends only on the item).
        const current = tf.tensor3d(reference.aggregated, [1, model.config.queries, model.config.dim]);
        memory = model.memory.update(this.memory, current);
        let history: Parameters<MaiModel['compose']>[2];
        if (intent.combination && model.config.combination) {
          const parts = images.map((id) => this.retriever.itemTokens(id));
          history = {
            captions: {
              tokens: tf.tensor3d(concatenateArrays(parts.map((part) => part.caption)), [
                1,
                parts.length * captionTokens,
                tokenDim,
              ]),
              mask: tf.tensor2d(Float32Array.from(concatenateArrays(parts.map((part) => part.captionMask))), [
                1,
                parts.length * captionTokens,
              ]),
            },
            turns: parts.length,
            apply: tf.ones([1]) as tf.Tensor1D,
          };
        }
        query = model.compose(memory, textInput, history);
      } else {
        const referenceImage = toInput(reference.image, imageTokens, tokenDim);
        const fused = model.composeSingleStage(this.memory, referenceImage, textInput);
        memory = model.memory.update(this.memory, fused.tokens);
        query = fused.query;
      }
      this.memory?.dispose();
      this.memory = tf.keep(memory);
      return query.dataSync() as Float32Array;
    });
  }
}

interface BatchedTurn {
  /** The session's memory `[1, memoryTokens, dim]` before this turn (undefined on its first turn). */
  memory: tf.Tensor3D | undefined;
  /** The reference's BSA tokens `[queries, dim]`. */
  aggregated: Float32Array;
  text: string;
}

interface PendingTurn extends BatchedTurn {
  resolve(result: { query: Float32Array; memory: tf.Tensor3D }): void;
  reject(error: unknown): void;
}

/**
 * Dynamic batching of turns across sessions: turns that arrive while the model is busy (or in the same tick) run
 * as one batch — one text encoding, one memory update and one MSA pass for all of them — instead of one small
 * pass each. Under concurrent load this divides the fixed cost of every tfjs operation by the batch size. The
 * arithmetic per row is the same as for a single turn (every operation is row-wise), so a batched turn returns
 * the query a lone turn would.
 */
class TurnBatcher {
  private pending: PendingTurn[] = [];
  private scheduled = false;
  /** Largest batch: bounds the latency one flush adds. */
  static readonly MAX_BATCH = 64;

  constructor(
    private readonly model: MaiModel,
    private readonly encoder: TokenEncoder,
  ) {}

  run(turn: BatchedTurn): Promise<{ query: Float32Array; memory: tf.Tensor3D }> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ...turn, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending.splice(0, TurnBatcher.MAX_BATCH);
    try {
      if (batch.length > 0) await this.compute(batch);
    } finally {
      if (this.pending.length > 0) setImmediate(() => void this.flush());
      else this.scheduled = false;
    }
  }

  private async compute(batch: PendingTurn[]): Promise<void> {
    let texts: Awaited<ReturnType<TokenEncoder['encodeTexts']>>;
    try {
      texts = await this.encoder.encodeTexts(batch.map((turn) => turn.text));
    } catch (error) {
      for (const turn of batch) turn.reject(error);
      return;
    }
    const { queries, dim, embedDim } = this.model.config;
    const tokenDim = texts.tokenDim!;
    // Trailing padding columns (masked for every row) change nothing but cost MSA work: drop them.
    const paddedCount = texts.tokenCount!;
    let textCount = 1;
    for (let row = 0; row < batch.length; row++) {
      for (let column = paddedCount - 1; column >= textCount; column--) {
        if (texts.tokenMask![row * paddedCount + column]) {
          textCount = column + 1;
          break;
        }
      }
    }
    // Sessions whose memories have the same shape (e.g. all first turns; or MIO's constant size) run together.
    const groups = new Map<string, number[]>();
    batch.forEach((turn, row) => {
      const key = turn.memory ? turn.memory.shape.join('x') : 'none';
      groups.set(key, [...(groups.get(key) ?? []), row]);
    });
    for (const rows of groups.values()) {
      try {
        const { query, memories } = tf.tidy(() => {
          const count = rows.length;
          const current = tf.tensor3d(concatenateArrays(rows.map((row) => batch[row]!.aggregated)), [
            count,
            queries,
            dim,
          ]);
          const previous = batch[rows[0]!]!.memory
            ? (tf.concat(
                rows.map((row) => batch[row]!.memory!),
                0,
              ) as tf.Tensor3D)
            : undefined;
          const memory = this.model.memory.update(previous, current);
          const textRows = tf.tensor1d(Int32Array.from(rows), 'int32');
          const textTokens = tf.slice(
            tf.gather(tf.tensor3d(texts.tokens!, [batch.length, paddedCount, tokenDim]), textRows),
            [0, 0, 0],
            [-1, textCount, -1],
          );
          const textMask = tf.slice(
            tf.gather(
              tf.tensor2d(Float32Array.from(texts.tokenMask!), [batch.length, paddedCount]),
              textRows,
            ),
            [0, 0],
            [-1, textCount],
          );
          const composed = this.model.compose(memory, {
            tokens: textTokens as tf.Tensor3D,
            mask: textMask as tf.Tensor2D,
          });
          return {
            query: composed.dataSync() as Float32Array,
            memories: tf.split(memory, count, 0).map((part) => tf.keep(part as tf.Tensor3D)),
          };
        });
        rows.forEach((row, index) => {
          batch[row]!.resolve({
            query: query.slice(index * embedDim, (index + 1) * embedDim),
            memory: memories[index]!,
          });
        });
      } catch (error) {
        for (const row of rows) batch[row]!.reject(error);
      }
    }
  }
}
