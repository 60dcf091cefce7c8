import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { l2Normalize, replaceDirectory, restoreInterruptedReplace } from '@cir/core-tensor';
import type { ImageEncoder, TextEncoder } from '@cir/encoders';
import {
  type BatchedRequest,
  type ComposedRetriever,
  ExactStore,
  type GalleryItem,
  gallerySource,
  loadExactStore,
  MicroBatcher,
  type RetrievalSession,
  type SearchHit,
  searchGrouped,
  type TurnInput,
  type TurnResult,
  UnknownItemError,
} from '@cir/index';

/** The zero-shot fusions of frozen encoder embeddings that MAI's tables compare against. */
export const FUSION_MODES = ['sum', 'text-only', 'image-only'] as const;
export type FusionMode = (typeof FUSION_MODES)[number];

/** A turn waiting for its batch: the session's gallery, the reference, the text and the search. */
interface FusionTurn {
  store: ExactStore;
  referenceId: string;
  text: string;
  limit: number;
  filter?: Record<string, string>;
}

/**
 * A zero-shot baseline as a ComposedRetriever, over the encoder's pooled embeddings: the gallery holds the
 * L2-normalised image embeddings `[n, dim]`; a turn's query is the modification text's embedding (`text-only`), the
 * reference image's (`image-only`), or normalize(image + text) (`sum`, CLIP4Cir's sum fusion). Each turn is
 * independent (the "multiple single-turn" paradigm): a session remembers only its turns, for rollback. Concurrent
 * turns (a server's sessions) are batched: one text encoding and one search for all of them (`MicroBatcher`).
 */
export class FusionRetriever implements ComposedRetriever {
  readonly name: string;
  private store: ExactStore | undefined;
  /** Concurrent turns of every session, computed together. */
  readonly batcher = new MicroBatcher<FusionTurn, SearchHit[]>((batch) => this.answer(batch));

  constructor(
    readonly mode: FusionMode,
    readonly encoder: ImageEncoder & TextEncoder,
  ) {
    this.name = mode;
  }

  async encodeGallery(
    items: readonly GalleryItem[],
    options: { onProgress?: (done: number, total: number) => void } = {},
  ): Promise<void> {
    const store = new ExactStore({ encoderId: this.encoder.id, dim: this.encoder.dim });
    const batchSize = 256;
    for (let start = 0; start < items.length; start += batchSize) {
      const batch = items.slice(start, start + batchSize);
      const encoded = await this.encoder.encodeImages(batch.map(gallerySource));
      const vectors = l2Normalize(encoded.pooled, batch.length, encoded.dim);
      await store.add(
        batch.map((item, row) => ({
          id: item.id,
          vector: vectors.slice(row * encoded.dim, (row + 1) * encoded.dim),
          ...(item.attributes && { metadata: item.attributes }),
        })),
      );
      options.onProgress?.(Math.min(items.length, start + batchSize), items.length);
    }
    this.store = store;
  }

  openSession(): RetrievalSession {
    if (!this.store) throw new Error(`${this.name}: encode or load a gallery before opening a session`);
    return new FusionSession(this, this.store);
  }

  async save(directory: string): Promise<void> {
    const { store } = this;
    if (!store) throw new Error(`${this.name}: nothing to save before encodeGallery`);
    await replaceDirectory(directory, (temporary) => store.save(join(temporary, 'gallery')));
  }

  async load(directory: string): Promise<void> {
    await restoreInterruptedReplace(directory);
    this.store = await loadExactStore(join(directory, 'gallery'), { expectedEncoderId: this.encoder.id });
  }

  /** The query `[dim]` of one turn. @throws UnknownItemError for a reference the gallery does not hold */
  async query(referenceId: string, text: string): Promise<Float32Array> {
    const image = await this.store!.get(referenceId);
    if (!image) throw new UnknownItemError(referenceId);
    return this.fuse([image.vector], [text]);
  }

  /**
   * The queries `[count, dim]` of `count` turns, L2-normalised: one text encoding for all their texts.
   * @param images the references' gallery vectors, each `[dim]` @param texts the turns' texts
   */
  private async fuse(images: readonly Float32Array[], texts: readonly string[]): Promise<Float32Array> {
    const { dim } = this.encoder;
    const count = images.length;
    const queries = new Float32Array(count * dim);
    if (this.mode !== 'image-only') {
      const unique = [...new Set(texts)];
      const encoded = l2Normalize((await this.encoder.encodeTexts(unique)).pooled, unique.length, dim);
      const row = new Map(unique.map((text, index) => [text, index]));
      texts.forEach((text, index) => {
        const at = row.get(text)! * dim;
        queries.set(encoded.subarray(at, at + dim), index * dim);
      });
    }
    if (this.mode === 'text-only') return queries;
    images.forEach((image, index) => {
      for (let d = 0; d < dim; d++) queries[index * dim + d]! += image[d]!;
    });
    return l2Normalize(queries, count, dim);
  }

  /**
   * Answers a batch of turns: for each gallery (a session keeps the one it opened on), its references, one fusion
   * and one search per limit and filter. A failure rejects that gallery's turns only.
   */
  private async answer(batch: readonly BatchedRequest<FusionTurn, SearchHit[]>[]): Promise<void> {
    const byStore = new Map<ExactStore, BatchedRequest<FusionTurn, SearchHit[]>[]>();
    for (const request of batch) {
      const requests = byStore.get(request.input.store);
      if (requests) requests.push(request);
      else byStore.set(request.input.store, [request]);
    }
    for (const [store, requests] of byStore) {
      try {
        await this.answerStore(store, requests);
      } catch (error) {
        for (const request of requests) request.reject(error);
      }
    }
  }

  /** `answer` for the turns of one gallery. */
  private async answerStore(
    store: ExactStore,
    requests: readonly BatchedRequest<FusionTurn, SearchHit[]>[],
  ): Promise<void> {
    const images = await Promise.all(requests.map(({ input }) => store.get(input.referenceId)));
    const known = requests.filter((request, index) => {
      if (images[index]) return true;
      request.reject(new UnknownItemError(request.input.referenceId));
      return false;
    });
    if (known.length === 0) return;
    const { dim } = this.encoder;
    const queries = await this.fuse(
      images.flatMap((image) => (image ? [image.vector] : [])),
      known.map(({ input }) => input.text),
    );
    const hits = await searchGrouped(
      store,
      known.map(({ input }, index) => ({
        query: queries.subarray(index * dim, (index + 1) * dim),
        limit: input.limit,
        ...(input.filter && { filter: input.filter }),
      })),
    );
    known.forEach((request, index) => {
      request.resolve(hits[index]!);
    });
  }
}

class FusionSession implements RetrievalSession {
  readonly id = randomUUID();
  private turns: { turn: number; referenceId: string; text: string; best?: string }[] = [];

  constructor(
    private readonly retriever: FusionRetriever,
    private readonly store: ExactStore,
  ) {}

  history(): readonly { turn: number; referenceId?: string; text: string }[] {
    return this.turns.map(({ turn, referenceId, text }) => ({ turn, referenceId, text }));
  }

  async turn(input: TurnInput): Promise<TurnResult> {
    const referenceId = input.referenceId ?? this.turns.at(-1)?.best;
    if (!referenceId)
      throw new Error('the first turn needs a referenceId (the product the shopper starts from)');
    const hits = await this.retriever.batcher.run({
      store: this.store,
      referenceId,
      text: input.text,
      limit: input.limit ?? 10,
      ...(input.filter && { filter: input.filter }),
    });
    const turn = this.turns.length + 1;
    this.turns.push({ turn, referenceId, text: input.text, best: hits[0]?.id });
    return { turn, results: hits.map((hit) => ({ id: hit.id, score: hit.score })) };
  }

  async rollback(turn: number): Promise<void> {
    if (!Number.isInteger(turn) || turn < 0 || turn > this.turns.length) {
      throw new RangeError(`cannot roll back to turn ${turn}: the session has ${this.turns.length} turns`);
    }
    this.turns = this.turns.slice(0, turn);
  }
}
