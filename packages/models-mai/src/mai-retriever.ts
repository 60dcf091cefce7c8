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
  type SearchHit,
  type TurnInput,
  type TurnResult,
  UnknownItemError,
} from '@cir/index';
import { concatenateArrays, type TokenEncoder } from './features';
import type { MemoryTokens } from './frozen-turn';
import { loadMaiModel, saveMaiModel } from './mai-files';
import type { MaiModel } from './mai-model';
import { NativeGalleryEncoder } from './native-gallery-encoder';
import { readTurnIntent } from './retrospective-text';
import { TurnBatcher, type TurnSearch, type TurnWorkerOptions } from './turn-batcher';
import { memoryTensor, textInput } from './turn-composer';

/** Frozen tokens of one gallery item, kept so that a session can use it as a reference. */
interface ItemTokens {
  image: Float32Array;
  caption: Float32Array;
  captionMask: Uint8Array;
  /** The item's BSA tokens `[queries, dim]`: a reference's first stage, computed once per gallery item. */
  aggregated: Float32Array;
}

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

  /**
   * @param options.turnWorker compute turns in a worker thread as well (see TurnBatcher): give the folder the
   *   mini encoder was loaded from. Served retrievers use one (`maiRetrieverProvider`); without it, or on one core,
   *   turns compute on the calling thread.
   */
  constructor(
    readonly model: MaiModel,
    readonly encoder: TokenEncoder,
    options: { name?: string; turnWorker?: TurnWorkerOptions } = {},
  ) {
    this.name = options.name ?? 'mai';
    this.batcher = new TurnBatcher(model, encoder, () => this.gallery, options.turnWorker);
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
    // The gallery side as onnxruntime graphs when they load (the same values, ~2.7× faster), else the tfjs model.
    const native = NativeGalleryEncoder.available() ? new NativeGalleryEncoder(this.model) : undefined;
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
      let vectors: Float32Array;
      if (native) {
        const encoded = native.encode({
          count: batch.length,
          images: encodedImages.tokens!,
          imageTokens,
          captions: encodedCaptions.tokens!,
          captionMask: encodedCaptions.tokenMask!,
          captionTokens,
        });
        vectors = encoded.embeddings;
        aggregatedParts.push(encoded.tokens);
      } else {
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
        vectors = (await embeddings.data()) as Float32Array;
        aggregatedParts.push((await aggregated.data()) as Float32Array);
        tf.dispose([embeddings, aggregated]);
      }
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
    void this.batcher.whenWorkerLoaded();
  }

  /** Resolves once the turn worker has loaded or failed (at once without one): see `TurnBatcher`. */
  async whenReady(): Promise<void> {
    await this.batcher.whenWorkerLoaded();
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
    this.batcher.invalidate();
    this.store = await loadExactStore(join(directory, 'gallery'), { expectedEncoderId: this.encoder.id });
    this.tokens = await GalleryTokens.load(join(directory, ITEMS_FILE), this.encoder.id);
    // A served retriever's turn worker loads now, beside whatever the server does before its first turns.
    void this.batcher.whenWorkerLoaded();
  }

  /**
   * Frees the model's tensors (the model given to the constructor: dispose only a retriever that owns it) and the
   * gallery; the encoder, shared by other retrievers, stays.
   */
  dispose(): void {
    this.model.dispose();
    this.batcher.invalidate();
    this.store = undefined;
    this.tokens = undefined;
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
  /** The only model state: memory tokens `[1, count, dim]` after the last turn. */
  private memory: MemoryTokens | undefined;

  constructor(private readonly retriever: MaiRetriever) {}

  history(): readonly { turn: number; referenceId?: string; text: string }[] {
    return this.turns.map(({ turn, referenceId, text }) => ({ turn, referenceId, text }));
  }

  async turn(input: TurnInput): Promise<TurnResult> {
    const referenceId = input.referenceId ?? this.turns.at(-1)?.best;
    if (!referenceId)
      throw new Error('the first turn needs a referenceId (the product the shopper starts from)');
    const record: TurnRecord = { turn: this.turns.length + 1, referenceId, text: input.text };
    const search = { limit: input.limit ?? 10, ...(input.filter && { filter: input.filter }) };
    const { query, hits, returnedTo } = await this.step(record, search);
    const results =
      hits ??
      (
        await this.retriever.gallery.search(
          query,
          1,
          search.limit,
          search.filter ? { filter: search.filter } : {},
        )
      )[0]!;
    record.best = results[0]?.id;
    this.turns.push(record);
    return {
      turn: record.turn,
      results: results.map((hit) => ({ id: hit.id, score: hit.score })),
      ...(returnedTo !== undefined && { returnedTo }),
    };
  }

  async rollback(turn: number): Promise<void> {
    if (!Number.isInteger(turn) || turn < 0 || turn > this.turns.length) {
      throw new RangeError(`cannot roll back to turn ${turn}: the session has ${this.turns.length} turns`);
    }
    const kept = this.turns.slice(0, turn);
    this.memory = undefined;
    this.turns = [];
    // Replaying the kept turns rebuilds their memory exactly (the model is deterministic).
    for (const record of kept) {
      await this.step(record);
      this.turns.push(record);
    }
  }

  /**
   * Runs one turn through the model, updates the memory and returns the composed query `[embedDim]`; with
   * `search`, also its results when the turn was batched (searched together with the batch); `returnedTo`, the
   * earlier image a rollback turn composed with instead of the given reference.
   */
  private async step(
    record: TurnRecord,
    search?: TurnSearch,
  ): Promise<{ query: Float32Array; hits?: SearchHit[]; returnedTo?: string }> {
    const { model } = this.retriever;
    const { imageTokens, tokenDim } = this.retriever.shape;
    // A rollback request replaces the reference by the image of the turn it names (MAI's "Replace").
    const images = [...this.turns.map((previous) => previous.referenceId!), record.referenceId!];
    const intent = readTurnIntent(record.text, images.length);
    const returnedTo =
      model.config.rollback && intent.rollbackTo !== undefined && intent.rollbackTo < images.length - 1
        ? images[intent.rollbackTo]!
        : undefined;
    const referenceId = returnedTo ?? record.referenceId!;
    const reference = this.retriever.itemTokens(referenceId);
    const modelText = model.config.rollback ? intent.text : record.text;
    if (model.config.twoStage) {
      // Reference + modification text (+ the history's captions in a combination turn): computed together with
      // the turns of other sessions. BSA of the reference was computed when the gallery was encoded.
      const parts =
        intent.combination && model.config.combination
          ? images.map((id) => this.retriever.itemTokens(id))
          : undefined;
      const { query, memory, hits } = await this.retriever.batcher.run({
        memory: this.memory,
        aggregated: reference.aggregated,
        text: modelText,
        ...(search && { search }),
        ...(parts && {
          history: {
            captions: concatenateArrays(parts.map((part) => part.caption)),
            mask: concatenateArrays(parts.map((part) => part.captionMask)),
            turns: parts.length,
          },
        }),
      });
      this.memory = memory;
      return { query, ...(hits && { hits }), ...(returnedTo !== undefined && { returnedTo }) };
    }
    // Single-stage fusion (the "Base" ablation): the reference image's tokens and the text in one pass.
    const text = await this.retriever.encoder.encodeTexts([modelText], { trimPadding: true });
    return tf.tidy(() => {
      const words = textInput({ tokens: text.tokens!, count: text.tokenCount!, mask: text.tokenMask! }, 1);
      const referenceImage = { tokens: tf.tensor3d(reference.image, [1, imageTokens, tokenDim]) };
      const previous = this.memory && memoryTensor(this.memory, 1, model.config.dim);
      const fused = model.composeSingleStage(previous, referenceImage, words);
      const memory = model.memory.update(previous, fused.tokens);
      this.memory = { tokens: memory.dataSync() as Float32Array, count: memory.shape[1] };
      return {
        query: fused.query.dataSync() as Float32Array,
        ...(returnedTo !== undefined && { returnedTo }),
      };
    });
  }
}
