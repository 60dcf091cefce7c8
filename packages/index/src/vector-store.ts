/**
 * The contract both gallery stores implement: the in-memory exact store and the persistent LanceDB store.
 *
 * Scores are inner products of the stored vectors with the query. Neither store normalises: store and query
 * L2-normalised vectors (encoders report `normalized`) and the score is the cosine similarity.
 */

/** One stored vector with its id and optional metadata (e.g. `{ category: 'dress' }`) used by filters. */
export interface VectorItem {
  id: string;
  /** [dim] */
  vector: Float32Array;
  metadata?: Record<string, string>;
}

export interface SearchHit {
  id: string;
  /** Inner product with the query. */
  score: number;
  metadata?: Record<string, string>;
}

/**
 * Ids to leave out of the results (CIRR drops the reference image): one list per query, or a predicate called
 * with the query index and a candidate id.
 */
export type ExcludeIds = readonly (readonly string[])[] | ((queryIndex: number, id: string) => boolean);

export interface SearchOptions {
  /** Equality on metadata: only items whose metadata has every given key with the given value. */
  filter?: Record<string, string>;
  excludeIds?: ExcludeIds;
}

export interface VectorStore {
  /** Identity of the encoder that produced the vectors; stores refuse to open for another one. */
  readonly encoderId: string;
  readonly dim: number;
  count(): number;
  /** Inserts new items; throws naming the id if one already exists, and then adds none of them. */
  add(items: readonly VectorItem[]): Promise<void>;
  /** Inserts new items and replaces the vector and metadata of existing ones. */
  upsert(items: readonly VectorItem[]): Promise<void>;
  /** Removes the given ids; returns how many existed (unknown ids are skipped, not an error). */
  delete(ids: readonly string[]): Promise<number>;
  get(id: string): Promise<VectorItem | undefined>;
  /**
   * Top-k items by inner product for each of `queryCount` queries [queryCount, dim], best first. A query gets
   * fewer than k hits when fewer items pass the filter and exclusions.
   */
  search(
    queries: Float32Array,
    queryCount: number,
    k: number,
    options?: SearchOptions,
  ): Promise<SearchHit[][]>;
  /** Writes the store to `directory` (stores that persist every write do not need it). */
  save?(directory: string): Promise<void>;
  close(): Promise<void>;
}
