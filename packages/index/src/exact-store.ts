import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ReplaceDirectoryHooks,
  readSafetensorsFile,
  replaceDirectory,
  restoreInterruptedReplace,
  topK,
  writeSafetensorsFile,
} from '@cir/core-tensor';
import { OperationQueue } from './operation-queue';
import { DuplicateIdError, StoreFormatError } from './store-errors';
import {
  readStoreManifest,
  type StoreManifest,
  storeManifestFileName,
  writeStoreManifest,
} from './store-manifest';
import { validateItems, validateSearch } from './validate-store-input';
import type { ExcludeIds, SearchHit, SearchOptions, VectorItem, VectorStore } from './vector-store';

/*
 * A saved exact store is a directory: vectors.safetensors (F32 [count, dim]), items.json (ids and metadata in row
 * order) and store.json, the manifest, written last. It is written beside the live one and swapped in
 * (core-tensor's replaceDirectory), so a killed save leaves the previous store loadable.
 */

const format = 'cir-exact-store';
const formatVersion = 1;
const vectorsFileName = 'vectors.safetensors';
const itemsFileName = 'items.json';

interface ExactStoreManifest extends StoreManifest {
  format: typeof format;
  formatVersion: typeof formatVersion;
  count: number;
}

interface SavedItems {
  ids: string[];
  metadata: (Record<string, string> | null)[];
}

export interface ExactStoreOptions {
  encoderId: string;
  dim: number;
}

export interface SaveExactStoreOptions {
  hooks?: ReplaceDirectoryHooks;
}

/**
 * In-memory gallery searched exactly with core-tensor's chunked `topK` (inner product; vectors are stored as
 * given, not normalised). Rows stay compact: a delete moves the last row into the hole.
 */
export class ExactStore implements VectorStore {
  readonly encoderId: string;
  readonly dim: number;
  /** [capacity, dim]; rows [0, size) are in use. */
  private vectors: Float32Array;
  private size = 0;
  private readonly ids: string[] = [];
  /** Frozen copies, so that hits and `get` can hand them out without the caller changing the store. */
  private readonly metadata: (Readonly<Record<string, string>> | undefined)[] = [];
  private readonly rowById = new Map<string, number>();
  private readonly queue = new OperationQueue();

  constructor(options: ExactStoreOptions) {
    if (!Number.isInteger(options.dim) || options.dim < 1) {
      throw new RangeError(`ExactStore: dim must be a positive integer, got ${options.dim}`);
    }
    if (options.encoderId === '') throw new RangeError('ExactStore: encoderId must not be empty');
    this.encoderId = options.encoderId;
    this.dim = options.dim;
    this.vectors = new Float32Array(0);
  }

  count(): number {
    return this.size;
  }

  add(items: readonly VectorItem[]): Promise<void> {
    return this.queue.run(async () => {
      validateItems(items, this.dim);
      for (const item of items) if (this.rowById.has(item.id)) throw new DuplicateIdError(item.id);
      this.reserve(this.size + items.length);
      for (const item of items) this.writeRow(this.appendRow(item.id), item);
    });
  }

  upsert(items: readonly VectorItem[]): Promise<void> {
    return this.queue.run(async () => {
      validateItems(items, this.dim);
      this.reserve(this.size + items.filter((item) => !this.rowById.has(item.id)).length);
      for (const item of items) this.writeRow(this.rowById.get(item.id) ?? this.appendRow(item.id), item);
    });
  }

  delete(ids: readonly string[]): Promise<number> {
    return this.queue.run(async () => {
      let deleted = 0;
      for (const id of new Set(ids)) {
        const row = this.rowById.get(id);
        if (row === undefined) continue;
        this.removeRow(row);
        deleted++;
      }
      return deleted;
    });
  }

  async get(id: string): Promise<VectorItem | undefined> {
    const row = this.rowById.get(id);
    if (row === undefined) return undefined;
    const vector = this.vectors.slice(row * this.dim, (row + 1) * this.dim);
    const metadata = this.metadata[row];
    return metadata === undefined ? { id, vector } : { id, vector, metadata };
  }

  /** Exact top-k; see `VectorStore.search`. Queries are [queryCount, dim]. */
  search(
    queries: Float32Array,
    queryCount: number,
    k: number,
    options: SearchOptions = {},
  ): Promise<SearchHit[][]> {
    return this.queue.run(async () => {
      validateSearch(queries, queryCount, this.dim, k, options);
      const filter =
        options.filter !== undefined && Object.keys(options.filter).length > 0 ? options.filter : undefined;
      const matchingRows = filter === undefined ? undefined : this.rowsMatching(filter);
      const isExcluded = this.exclusionOf(options.excludeIds);
      let gallery = this.vectors;
      let galleryCount = this.size;
      let rowOf = (index: number) => index;
      let exclude = isExcluded;
      if (matchingRows !== undefined && matchingRows.length < this.size / 2) {
        // A selective filter scores a copy of the matching rows: less work than scoring every row, and topK's
        // native selection falls back to whole score rows whenever `exclude` rejects most of its candidates.
        gallery = this.copyRows(matchingRows);
        galleryCount = matchingRows.length;
        rowOf = (index) => matchingRows[index];
        exclude = isExcluded && ((query, index) => isExcluded(query, matchingRows[index]));
      } else if (matchingRows !== undefined) {
        const allowed = new Uint8Array(this.size);
        for (const row of matchingRows) allowed[row] = 1;
        exclude = (query, row) => allowed[row] === 0 || (isExcluded?.(query, row) ?? false);
      }
      const { indices, scores } = await topK(queries, queryCount, gallery, galleryCount, this.dim, k, {
        exclude,
      });
      return Array.from({ length: queryCount }, (_, query) => {
        const hits: SearchHit[] = [];
        for (let rank = query * k; rank < (query + 1) * k && indices[rank] >= 0; rank++) {
          const row = rowOf(indices[rank]);
          const metadata = this.metadata[row];
          const hit: SearchHit = { id: this.ids[row], score: scores[rank] };
          if (metadata !== undefined) hit.metadata = metadata;
          hits.push(hit);
        }
        return hits;
      });
    });
  }

  /**
   * Writes the store to `directory` (see the format above), replacing what is there only once the new copy is
   * complete on disk.
   */
  save(directory: string, options: SaveExactStoreOptions = {}): Promise<void> {
    return this.queue.run(async () => {
      await replaceDirectory(
        directory,
        async (temporaryDirectory) => {
          const vectors = this.vectors.subarray(0, this.size * this.dim);
          await writeSafetensorsFile(
            join(temporaryDirectory, vectorsFileName),
            { vectors: { dtype: 'F32', shape: [this.size, this.dim], data: vectors } },
            { encoderId: this.encoderId },
          );
          const items: SavedItems = {
            ids: this.ids,
            metadata: this.metadata.map((metadata) => metadata ?? null),
          };
          await writeFile(join(temporaryDirectory, itemsFileName), JSON.stringify(items));
          const manifest: ExactStoreManifest = {
            format,
            formatVersion,
            encoderId: this.encoderId,
            dim: this.dim,
            count: this.size,
            createdAt: new Date().toISOString(),
          };
          // Last: a directory whose manifest is missing never passes for a store.
          await writeStoreManifest(temporaryDirectory, manifest);
        },
        options.hooks,
      );
    });
  }

  async close(): Promise<void> {}

  /** Grows the vector buffer geometrically so that repeated adds cost amortised O(1) copies per row. */
  private reserve(rows: number): void {
    const capacity = this.vectors.length / this.dim;
    if (rows <= capacity) return;
    const grown = new Float32Array(Math.max(rows, capacity * 2, 1024) * this.dim);
    grown.set(this.vectors.subarray(0, this.size * this.dim));
    this.vectors = grown;
  }

  private appendRow(id: string): number {
    const row = this.size++;
    this.ids[row] = id;
    this.rowById.set(id, row);
    return row;
  }

  private writeRow(row: number, item: VectorItem): void {
    this.vectors.set(item.vector, row * this.dim);
    this.metadata[row] = item.metadata === undefined ? undefined : Object.freeze({ ...item.metadata });
  }

  private removeRow(row: number): void {
    const last = this.size - 1;
    this.rowById.delete(this.ids[row]);
    if (row !== last) {
      this.vectors.copyWithin(row * this.dim, last * this.dim, (last + 1) * this.dim);
      this.ids[row] = this.ids[last];
      this.metadata[row] = this.metadata[last];
      this.rowById.set(this.ids[row], row);
    }
    this.ids.pop();
    this.metadata.pop();
    this.size = last;
  }

  private rowsMatching(filter: Record<string, string>): Int32Array {
    const entries = Object.entries(filter);
    const rows: number[] = [];
    for (let row = 0; row < this.size; row++) {
      const metadata = this.metadata[row];
      if (metadata !== undefined && entries.every(([key, value]) => metadata[key] === value)) rows.push(row);
    }
    return Int32Array.from(rows);
  }

  /** [rows.length, dim] */
  private copyRows(rows: Int32Array): Float32Array {
    const copy = new Float32Array(rows.length * this.dim);
    for (let index = 0; index < rows.length; index++) {
      copy.set(this.vectors.subarray(rows[index] * this.dim, (rows[index] + 1) * this.dim), index * this.dim);
    }
    return copy;
  }

  private exclusionOf(
    excludeIds: ExcludeIds | undefined,
  ): ((query: number, row: number) => boolean) | undefined {
    if (excludeIds === undefined) return undefined;
    if (typeof excludeIds === 'function') return (query, row) => excludeIds(query, this.ids[row]);
    const excludedRows = excludeIds.map(
      (ids) => new Set(ids.map((id) => this.rowById.get(id)).filter((row) => row !== undefined)),
    );
    return (query, row) => excludedRows[query].has(row);
  }
}

/**
 * Loads a store written by `ExactStore.save`, first undoing a save that was killed between its two renames.
 * Throws `EncoderMismatchError` when it was built with another encoder than `expectedEncoderId`.
 */
export async function loadExactStore(
  directory: string,
  options: { expectedEncoderId: string },
): Promise<ExactStore> {
  await restoreInterruptedReplace(directory);
  const manifest = await readStoreManifest<ExactStoreManifest>(
    directory,
    format,
    formatVersion,
    options.expectedEncoderId,
  );
  const vectorsPath = join(directory, vectorsFileName);
  const vectors = (await readSafetensorsFile(vectorsPath)).tensors.vectors;
  const items: SavedItems = JSON.parse(await readFile(join(directory, itemsFileName), 'utf8'));
  const expectedShape = [manifest.count, manifest.dim];
  if (vectors?.dtype !== 'F32' || String(vectors.shape) !== String(expectedShape)) {
    throw new StoreFormatError(
      vectorsPath,
      `must hold F32 "vectors" [${expectedShape}] (${storeManifestFileName})`,
    );
  }
  if (items.ids.length !== manifest.count || items.metadata.length !== manifest.count) {
    throw new StoreFormatError(
      join(directory, itemsFileName),
      `must list ${manifest.count} ids and metadata`,
    );
  }
  const store = new ExactStore({ encoderId: manifest.encoderId, dim: manifest.dim });
  const data = vectors.data as Float32Array;
  // Through `add`, so that a hand-edited or damaged file fails the same checks as any input.
  await store.add(
    items.ids.map((id, row) => {
      const vector = data.subarray(row * manifest.dim, (row + 1) * manifest.dim);
      const metadata = items.metadata[row];
      return metadata === null ? { id, vector } : { id, vector, metadata };
    }),
  );
  return store;
}
