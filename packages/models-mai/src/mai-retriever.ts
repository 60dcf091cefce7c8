import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { tf } from '@cir/core-tensor';
import { MiniClipEncoder } from '@cir/encoders';
import {
  type ComposedRetriever,
  ExactStore,
  type GalleryItem,
  loadExactStore,
  type RetrievalSession,
  type TurnInput,
  type TurnResult,
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
}

const toInput = (tokens: Float32Array, count: number, tokenDim: number, mask?: Uint8Array): TokenInput => ({
  tokens: tf.tensor3d(tokens, [1, count, tokenDim]),
  ...(mask && { mask: tf.tensor2d(Float32Array.from(mask), [1, count]) }),
});

/**
 * MAI as a ComposedRetriever: the gallery is embedded on the target side (BSA over image + caption) into an exact
 * store; a session carries only its MIO memory tokens (a constant `queries × dim` for the MIO policy) plus the ids
 * and texts of its turns, which rollback and combination turns look up.
 */
export class MaiRetriever implements ComposedRetriever {
  readonly name: string;
  private store: ExactStore | undefined;
  private readonly items = new Map<string, ItemTokens>();
  private tokenShape = { imageTokens: 0, captionTokens: 0, tokenDim: 0 };

  constructor(
    readonly model: MaiModel,
    readonly encoder: TokenEncoder,
    options: { name?: string } = {},
  ) {
    this.name = options.name ?? 'mai';
  }

  async encodeGallery(
    items: readonly GalleryItem[],
    options: { onProgress?: (done: number, total: number) => void } = {},
  ): Promise<void> {
    const store = new ExactStore({ encoderId: this.encoder.id, dim: this.model.config.embedDim });
    this.items.clear();
    const batchSize = 128;
    for (let start = 0; start < items.length; start += batchSize) {
      const batch = items.slice(start, start + batchSize);
      const images = await this.encoder.encodeImages(
        batch.map((item) => {
          const source = item.imagePath ?? item.imageBytes;
          if (!source) throw new Error(`gallery item ${item.id} has neither imagePath nor imageBytes`);
          return source;
        }),
      );
      const captions = await this.encoder.encodeTexts(batch.map((item) => item.caption ?? ''));
      const imageTokens = images.tokenCount!;
      const captionTokens = captions.tokenCount!;
      const tokenDim = images.tokenDim!;
      this.tokenShape = { imageTokens, captionTokens, tokenDim };
      const embeddings = tf.tidy(() =>
        this.model.targetEmbedding(
          this.model.bimodalAggregation(
            { tokens: tf.tensor3d(images.tokens!, [batch.length, imageTokens, tokenDim]) },
            {
              tokens: tf.tensor3d(captions.tokens!, [batch.length, captionTokens, tokenDim]),
              mask: tf.tensor2d(Float32Array.from(captions.tokenMask!), [batch.length, captionTokens]),
            },
          ),
        ),
      );
      const vectors = await embeddings.data();
      embeddings.dispose();
      const embedDim = this.model.config.embedDim;
      await store.add(
        batch.map((item, row) => ({
          id: item.id,
          vector: (vectors as Float32Array).slice(row * embedDim, (row + 1) * embedDim),
          ...(item.attributes && { metadata: item.attributes }),
        })),
      );
      batch.forEach((item, row) => {
        this.items.set(item.id, {
          image: images.tokens!.slice(row * imageTokens * tokenDim, (row + 1) * imageTokens * tokenDim),
          caption: captions.tokens!.slice(
            row * captionTokens * tokenDim,
            (row + 1) * captionTokens * tokenDim,
          ),
          captionMask: captions.tokenMask!.slice(row * captionTokens, (row + 1) * captionTokens),
        });
      });
      options.onProgress?.(Math.min(items.length, start + batchSize), items.length);
    }
    this.store = store;
  }

  openSession(): RetrievalSession {
    if (!this.store) throw new Error(`${this.name}: encode or load a gallery before opening a session`);
    return new MaiSession(this);
  }

  /** Writes the model and the encoded gallery; the encoder stays where it is (its folder is recorded). */
  async save(directory: string): Promise<void> {
    if (!this.store) throw new Error(`${this.name}: nothing to save before encodeGallery`);
    await saveMaiModel(join(directory, 'model'), this.model, {
      name: this.name,
      encoderId: this.encoder.id,
      steps: 0,
    });
    await this.store.save(join(directory, 'gallery'));
  }

  async load(directory: string): Promise<void> {
    const { model } = await loadMaiModel(join(directory, 'model'), { expectedEncoderId: this.encoder.id });
    this.model.importParameters(model.exportParameters());
    model.dispose();
    this.store = await loadExactStore(join(directory, 'gallery'), { expectedEncoderId: this.encoder.id });
  }

  /** Loads a trained MAI model folder with its encoder (a mini encoder folder). */
  static async fromFolders(modelDirectory: string, encoderDirectory: string): Promise<MaiRetriever> {
    const encoder = await MiniClipEncoder.load(encoderDirectory);
    const { model, info } = await loadMaiModel(modelDirectory, { expectedEncoderId: encoder.id });
    return new MaiRetriever(model, encoder, { name: info.name });
  }

  /** @internal */
  itemTokens(id: string): ItemTokens {
    const tokens = this.items.get(id);
    if (!tokens) throw new Error(`unknown gallery item "${id}"`);
    return tokens;
  }

  /** @internal */
  get shape() {
    return this.tokenShape;
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
}

class MaiSession implements RetrievalSession {
  readonly id = randomUUID();
  private turns: TurnRecord[] = [];
  /** The only tensor state: memory tokens `[1, memoryTokens, dim]` after the last turn. */
  private memory: tf.Tensor3D | undefined;
  private lastResults: string[] = [];

  constructor(private readonly retriever: MaiRetriever) {}

  history(): readonly TurnRecord[] {
    return this.turns;
  }

  async turn(input: TurnInput): Promise<TurnResult> {
    const referenceId = input.referenceId ?? this.lastResults[0];
    if (!referenceId)
      throw new Error('the first turn needs a referenceId (the product the shopper starts from)');
    const record = { turn: this.turns.length + 1, referenceId, text: input.text };
    const query = await this.step(record);
    const results = await this.retriever.gallery.search(
      query,
      1,
      input.limit ?? 10,
      input.filter ? { filter: input.filter } : {},
    );
    this.turns.push(record);
    this.lastResults = results[0]!.map((hit) => hit.id);
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
    this.lastResults = [];
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
    const text = await this.retriever.encoder.encodeTexts([
      model.config.rollback ? intent.text : record.text,
    ]);
    return tf.tidy(() => {
      const referenceImage = toInput(reference.image, imageTokens, tokenDim);
      const referenceCaption = toInput(reference.caption, captionTokens, tokenDim, reference.captionMask);
      let query: tf.Tensor2D;
      let memory: tf.Tensor3D;
      const textInput = toInput(text.tokens!, text.tokenCount!, tokenDim, text.tokenMask);
      if (model.config.twoStage) {
        const current = model.bimodalAggregation(referenceImage, referenceCaption).tokens;
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
