/**
 * The contract every method (MAI, CoLLM, CIR-LVLM, DAR) and every baseline implements. The CLI, the server and the
 * evaluation talk only to this contract.
 */

/** A catalog item. Exactly one of imagePath / imageBytes is set. */
export interface GalleryItem {
  id: string;
  imagePath?: string;
  imageBytes?: Uint8Array;
  caption?: string;
  /** Free-form metadata used by filters (e.g. { category: 'dress' }). */
  attributes?: Record<string, string>;
}

export interface RankedResult {
  id: string;
  score: number;
}

export interface TurnInput {
  /** The item the shopper picked as the reference for this turn; the previous best result when absent. */
  referenceId?: string;
  /** The modification text ("like this one, but red"). */
  text: string;
  /** How many results to return (default 10). */
  limit?: number;
  /** Metadata filter: only items whose attributes equal every given value. */
  filter?: Record<string, string>;
}

export interface TurnResult {
  /** 1-based turn number within the session. */
  turn: number;
  results: RankedResult[];
  /**
   * Set when the text returned to an earlier image of the session ("go back to the second one, …") and the method
   * composed with that image instead of the given reference: its id. Methods without retrospection never set it.
   */
  returnedTo?: string;
}

/** A multi-turn conversation with one retriever. Its state is whatever the method carries across turns. */
export interface RetrievalSession {
  readonly id: string;
  turn(input: TurnInput): Promise<TurnResult>;
  /** Makes `turn` (1-based) the latest one again: later turns are forgotten. */
  rollback(turn: number): Promise<void>;
  /** Turns taken so far, in order. */
  history(): readonly { turn: number; referenceId?: string; text: string }[];
}

export interface ComposedRetriever {
  /** Method name as shown in tables (e.g. "mai", "last-turn", "text-only"). */
  readonly name: string;
  /** Encodes and indexes the catalog; replaces any previous gallery. */
  encodeGallery(
    items: readonly GalleryItem[],
    options?: { onProgress?: (done: number, total: number) => void },
  ): Promise<void>;
  openSession(): RetrievalSession;
  save(directory: string): Promise<void>;
  load(directory: string): Promise<void>;
  /**
   * Resolves when what the retriever loads in the background after `load` or `encodeGallery` is ready (MAI's turn
   * worker); it answers turns before that too. Optional. The server's warm-up waits for it, so that its round of
   * turns warms that up as well.
   */
  whenReady?(): Promise<void>;
  /**
   * Frees what the garbage collector does not (a model's tfjs tensors); the retriever and its sessions are unusable
   * afterwards. Optional: retrievers that hold only JavaScript memory need none. The server calls it when a
   * rebuilt or deleted collection's last session has ended.
   */
  dispose?(): void;
}

/**
 * Builds retrievers by method name: how the server and the CLI get a method for a collection without knowing
 * which package implements it.
 */
export interface RetrieverProvider {
  /** Method names this provider can build, the default first (e.g. ["mai", "sum", "text-only", "image-only"]). */
  readonly methods: readonly string[];
  /** A new, empty retriever (call `encodeGallery` or `load` next); throws naming the known methods if unknown. */
  create(method: string): Promise<ComposedRetriever>;
}

/** A turn named a reference (or a rollback named an item) that the retriever's gallery does not hold. */
export class UnknownItemError extends Error {
  override readonly name = 'UnknownItemError';

  constructor(readonly id: string) {
    super(`unknown gallery item "${id}"`);
  }
}

/** The image of a gallery item, its path or its bytes; throws naming the item when it has neither. */
export function gallerySource(item: GalleryItem): string | Uint8Array {
  const source = item.imagePath ?? item.imageBytes;
  if (!source) throw new Error(`gallery item ${item.id} has neither imagePath nor imageBytes`);
  return source;
}
