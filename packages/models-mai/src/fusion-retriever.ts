import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { l2Normalize, replaceDirectory, restoreInterruptedReplace } from '@cir/core-tensor';
import type { ImageEncoder, TextEncoder } from '@cir/encoders';
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

/** The zero-shot fusions of frozen encoder embeddings that MAI's tables compare against. */
export const FUSION_MODES = ['sum', 'text-only', 'image-only'] as const;
export type FusionMode = (typeof FUSION_MODES)[number];

/**
 * A zero-shot baseline as a ComposedRetriever, over the encoder's pooled embeddings: the gallery holds the
 * L2-normalised image embeddings `[n, dim]`; a turn's query is the modification text's embedding (`text-only`), the
 * reference image's (`image-only`), or normalize(image + text) (`sum`, CLIP4Cir's sum fusion). Each turn is
 * independent (the "multiple single-turn" paradigm): a session remembers only its turns, for rollback.
 */
export class FusionRetriever implements ComposedRetriever {
  readonly name: string;
  private store: ExactStore | undefined;

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

  /** The query `[dim]` of one turn. */
  async query(referenceId: string, text: string): Promise<Float32Array> {
    const dim = this.encoder.dim;
    const image = await this.store!.get(referenceId);
    if (!image) throw new UnknownItemError(referenceId);
    if (this.mode === 'image-only') return image.vector;
    const textVector = l2Normalize((await this.encoder.encodeTexts([text])).pooled, 1, dim);
    if (this.mode === 'text-only') return textVector;
    return l2Normalize(
      textVector.map((value, index) => value + image.vector[index]!),
      1,
      dim,
    );
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
    const query = await this.retriever.query(referenceId, input.text);
    const [hits] = await this.store.search(query, 1, input.limit ?? 10, {
      ...(input.filter && { filter: input.filter }),
    });
    const turn = this.turns.length + 1;
    this.turns.push({ turn, referenceId, text: input.text, best: hits![0]?.id });
    return { turn, results: hits!.map((hit) => ({ id: hit.id, score: hit.score })) };
  }

  async rollback(turn: number): Promise<void> {
    if (!Number.isInteger(turn) || turn < 0 || turn > this.turns.length) {
      throw new RangeError(`cannot roll back to turn ${turn}: the session has ${this.turns.length} turns`);
    }
    this.turns = this.turns.slice(0, turn);
  }
}
