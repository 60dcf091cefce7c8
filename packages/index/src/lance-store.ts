import { type DirectoryReplaceStage, replaceDirectory, restoreInterruptedReplace } from '@cir/core-tensor';
import { type Connection, connect, Index, type Table } from '@lancedb/lancedb';
import type { Table as ArrowTable } from 'apache-arrow';
import { itemsToArrowTable, lanceSchema, validateMetadataColumns } from './lance-schema';
import { equalitySql, idInSql, sqlString } from './lance-sql';
import { OperationQueue } from './operation-queue';
import { DuplicateIdError } from './store-errors';
import { readStoreManifest, type StoreManifest, writeStoreManifest } from './store-manifest';
import { validateItems, validateSearch } from './validate-store-input';
import type { SearchHit, SearchOptions, VectorItem, VectorStore } from './vector-store';

/*
 * A LanceDB store is a directory: an embedded LanceDB database holding one table (lance-schema.ts) and store.json,
 * the manifest with the encoder identity, the metadata columns, the vector index and its search parameters.
 * `buildLanceStore` writes a complete new directory and swaps it in (core-tensor's replaceDirectory). Later add / upsert /
 * delete go straight to the table, where LanceDB commits each as a new table version. Distances are LanceDB's "dot" (1 − x·y), reported as the score x·y.
 * Only LanceDB's core is imported: its embedding helpers would load @huggingface/transformers 3 and with it an
 * onnxruntime-node that clashes with the workspace's.
 */

const format = 'cir-lance-store';
const formatVersion = 1;
const tableName = 'items';
/** Below this a flat scan is fast and IVF partitions would hold too few rows to train well. */
const minimumIndexedItems = 10_000;
/** Queries per LanceDB call: each call has a fixed cost (at 100k: 170 queries/s one per call, 550 with 50 per call). */
const queriesPerCall = 64;
/** Ids per `id IN (…)` clause, to keep the SQL text small. */
const idsPerClause = 1_000;

/** The vector index. Every type is trained with LanceDB's "dot" distance. */
export type LanceIndexOptions =
  | { type: 'ivf-flat'; numPartitions: number }
  | { type: 'ivf-pq'; numPartitions: number; numSubVectors: number }
  | { type: 'ivf-hnsw-sq'; numPartitions: number; m?: number; efConstruction?: number };

export interface LanceSearchParameters {
  /** IVF partitions scanned per query. */
  nprobes?: number;
  /** Quantised indices: limit × refineFactor candidates are re-scored with the full vectors. */
  refineFactor?: number;
  /** HNSW candidate list size. */
  ef?: number;
}

/** Points after which a build can be interrupted; crash tests throw or stop there. */
export type LanceBuildStage = 'table-written' | DirectoryReplaceStage;

export interface BuildLanceStoreOptions {
  encoderId: string;
  dim: number;
  /** Metadata keys that get their own column, so that `search` can filter on them inside LanceDB. */
  metadataColumns?: readonly string[];
  /** Default: `defaultLanceIndex(items.length)`; null for none (flat scans). */
  index?: LanceIndexOptions | null;
  /** Recorded in the manifest as the store's defaults. Default: `defaultSearchParameters(index)`. */
  search?: LanceSearchParameters;
  hooks?: { afterStage?: (stage: LanceBuildStage) => void | Promise<void> };
}

interface LanceStoreManifest extends StoreManifest {
  format: typeof format;
  formatVersion: typeof formatVersion;
  metadataColumns: string[];
  index: LanceIndexOptions | null;
  search: LanceSearchParameters;
}

/** None below 10,000 items; otherwise IVF_FLAT with about √count / 5 partitions (63 for 100k). */
export function defaultLanceIndex(count: number): LanceIndexOptions | null {
  if (count < minimumIndexedItems) return null;
  return { type: 'ivf-flat', numPartitions: Math.round(Math.sqrt(count) / 5) };
}

/**
 * Parameters that reached recall@10 ≥ 0.95 against exact search on 100k random normalised 256-d vectors, the
 * worst case for IVF (no clusters, so most partitions must be probed). Clustered real embeddings reach the same
 * recall with far fewer probes: measure with `benchmarkAnnRecall` and pass `search`.
 */
export function defaultSearchParameters(index: LanceIndexOptions | null): LanceSearchParameters {
  if (index === null) return {};
  // 92 % of the partitions: 58 of 63 gave recall 0.981 on three seeds, 56 gave 0.960–0.971, 48 gave 0.909.
  const nprobes = Math.ceil(index.numPartitions * 0.92);
  switch (index.type) {
    case 'ivf-flat':
      return { nprobes };
    case 'ivf-pq':
      return { nprobes, refineFactor: 20 };
    case 'ivf-hnsw-sq':
      // Re-scoring twice the candidates with the full vectors undoes most of the 8-bit quantisation's losses.
      return { nprobes: index.numPartitions, ef: 1000, refineFactor: 2 };
  }
}

function lanceIndex(options: LanceIndexOptions): Index {
  switch (options.type) {
    case 'ivf-flat':
      return Index.ivfFlat({ distanceType: 'dot', numPartitions: options.numPartitions });
    case 'ivf-pq':
      return Index.ivfPq({
        distanceType: 'dot',
        numPartitions: options.numPartitions,
        numSubVectors: options.numSubVectors,
      });
    case 'ivf-hnsw-sq':
      return Index.hnswSq({
        distanceType: 'dot',
        numPartitions: options.numPartitions,
        m: options.m,
        efConstruction: options.efConstruction,
      });
  }
}

/**
 * Builds a store of `items` (vectors [dim]) in `directory`, replacing any store there only once the new one is
 * complete: if the process dies during the build, `directory` still opens as the previous store. Store objects
 * opened on `directory` before the build must be reopened.
 */
export async function buildLanceStore(
  directory: string,
  items: readonly VectorItem[],
  options: BuildLanceStoreOptions,
): Promise<LanceStore> {
  const { encoderId, dim } = options;
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`dim must be a positive integer, got ${dim}`);
  if (encoderId === '') throw new RangeError('encoderId must not be empty');
  const metadataColumns = [...(options.metadataColumns ?? [])];
  validateMetadataColumns(metadataColumns);
  validateItems(items, dim);
  const index = options.index === undefined ? defaultLanceIndex(items.length) : options.index;
  const manifest: LanceStoreManifest = {
    format,
    formatVersion,
    encoderId,
    dim,
    createdAt: new Date().toISOString(),
    metadataColumns,
    index,
    search: options.search ?? defaultSearchParameters(index),
  };
  const afterStage = options.hooks?.afterStage;
  await replaceDirectory(
    directory,
    async (temporaryDirectory) => {
      const connection = await connect(temporaryDirectory);
      try {
        const schema = lanceSchema(dim, metadataColumns);
        const table =
          items.length === 0
            ? await connection.createEmptyTable(tableName, schema)
            : await connection.createTable(tableName, itemsToArrowTable(items, schema));
        try {
          await afterStage?.('table-written');
          if (index !== null) await table.createIndex('vector', { config: lanceIndex(index) });
        } finally {
          table.close();
        }
      } finally {
        connection.close();
      }
      // Last: a directory whose manifest is missing never passes for a store.
      await writeStoreManifest(temporaryDirectory, manifest);
    },
    { afterStage },
  );
  return LanceStore.open(directory, { expectedEncoderId: encoderId });
}

/** A persistent gallery in an embedded LanceDB table; see the format above. One process writes it at a time. */
export class LanceStore implements VectorStore {
  private readonly queue = new OperationQueue();

  private constructor(
    private readonly connection: Connection,
    private readonly table: Table,
    private readonly manifest: LanceStoreManifest,
    /** The manifest's search parameters, overridden by those given to `open`. */
    readonly searchParameters: LanceSearchParameters,
    /** Kept here because every write reports its row changes; LanceDB's countRows would scan. */
    private rowCount: number,
  ) {}

  /**
   * Opens a store made by `buildLanceStore`, first undoing a build killed between its two renames. Throws
   * `EncoderMismatchError` when it was built with another encoder than `expectedEncoderId`.
   */
  static async open(
    directory: string,
    options: { expectedEncoderId: string; search?: LanceSearchParameters },
  ): Promise<LanceStore> {
    await restoreInterruptedReplace(directory);
    const manifest = await readStoreManifest<LanceStoreManifest>(
      directory,
      format,
      formatVersion,
      options.expectedEncoderId,
    );
    const connection = await connect(directory);
    const table = await connection.openTable(tableName);
    const searchParameters = { ...manifest.search, ...options.search };
    return new LanceStore(connection, table, manifest, searchParameters, await table.countRows());
  }

  get encoderId(): string {
    return this.manifest.encoderId;
  }

  get dim(): number {
    return this.manifest.dim;
  }

  get metadataColumns(): readonly string[] {
    return this.manifest.metadataColumns;
  }

  get index(): LanceIndexOptions | null {
    return this.manifest.index;
  }

  count(): number {
    return this.rowCount;
  }

  add(items: readonly VectorItem[]): Promise<void> {
    return this.queue.run(async () => {
      validateItems(items, this.dim);
      if (items.length === 0) return;
      const existing = await this.existingIds(items.map((item) => item.id));
      const duplicate = items.find((item) => existing.has(item.id));
      if (duplicate !== undefined) throw new DuplicateIdError(duplicate.id);
      await this.table.add(this.toArrow(items));
      this.rowCount += items.length;
    });
  }

  upsert(items: readonly VectorItem[]): Promise<void> {
    return this.queue.run(async () => {
      validateItems(items, this.dim);
      if (items.length === 0) return;
      const result = await this.table
        .mergeInsert('id')
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .execute(this.toArrow(items));
      this.rowCount += result.numInsertedRows;
    });
  }

  delete(ids: readonly string[]): Promise<number> {
    return this.queue.run(async () => {
      const unique = [...new Set(ids)];
      let deleted = 0;
      for (let start = 0; start < unique.length; start += idsPerClause) {
        const result = await this.table.delete(idInSql(unique.slice(start, start + idsPerClause)));
        deleted += result.numDeletedRows;
      }
      this.rowCount -= deleted;
      return deleted;
    });
  }

  async get(id: string): Promise<VectorItem | undefined> {
    const rows = await this.table
      .query()
      .where(`id = ${sqlString(id)}`)
      .select(['vector', 'metadata'])
      .limit(1)
      .toArrow();
    if (rows.numRows === 0) return undefined;
    const vector = Float32Array.from(rows.getChild('vector')?.get(0));
    const metadata = rows.getChild('metadata')?.get(0);
    return metadata === null ? { id, vector } : { id, vector, metadata: JSON.parse(metadata) };
  }

  /**
   * Approximate top-k when the store has a vector index (exact otherwise); see `VectorStore.search`. Queries are
   * [queryCount, dim]. Filters run inside LanceDB before the vector search and may only use metadata columns;
   * excluded ids are dropped afterwards, asking LanceDB for more candidates while a query is left short.
   */
  search(
    queries: Float32Array,
    queryCount: number,
    k: number,
    options: SearchOptions = {},
  ): Promise<SearchHit[][]> {
    return this.queue.run(async () => {
      validateSearch(queries, queryCount, this.dim, k, options);
      const where = this.filterSql(options.filter ?? {});
      const { excludeIds } = options;
      const excludedSets = Array.isArray(excludeIds) ? excludeIds.map((ids) => new Set(ids)) : undefined;
      const isExcluded =
        typeof excludeIds === 'function'
          ? excludeIds
          : excludedSets && ((query: number, id: string) => excludedSets[query].has(id));
      const results: SearchHit[][] = Array.from({ length: queryCount }, () => []);
      if (k === 0 || this.rowCount === 0) return results;
      let limit =
        k +
        (excludedSets?.reduce((longest, ids) => Math.max(longest, ids.size), 0) ??
          (isExcluded === undefined ? 0 : k));
      let pending = Array.from({ length: queryCount }, (_, query) => query);
      while (pending.length > 0) {
        const candidates = await this.nearest(queries, pending, limit, where);
        const short: number[] = [];
        pending.forEach((query, position) => {
          results[query] = candidates[position].filter((hit) => !isExcluded?.(query, hit.id)).slice(0, k);
          // LanceDB had more rows to give than exclusions left: ask again for more candidates.
          if (results[query].length < k && candidates[position].length === limit) short.push(query);
        });
        pending = short;
        limit *= 2;
      }
      return results;
    });
  }

  async close(): Promise<void> {
    this.table.close();
    this.connection.close();
  }

  /** Candidates for the given queries, best first, `limit` per query at most. */
  private async nearest(
    queries: Float32Array,
    queryIndices: readonly number[],
    limit: number,
    where: string | undefined,
  ): Promise<SearchHit[][]> {
    const { nprobes, refineFactor, ef } = this.searchParameters;
    const vectorOf = (query: number) => queries.slice(query * this.dim, (query + 1) * this.dim);
    const candidates: SearchHit[][] = [];
    for (let start = 0; start < queryIndices.length; start += queriesPerCall) {
      const batch = queryIndices.slice(start, start + queriesPerCall);
      let request = this.table.vectorSearch(vectorOf(batch[0]));
      for (const query of batch.slice(1)) request = request.addQueryVector(vectorOf(query));
      request = request.distanceType('dot').limit(limit).select(['id', 'metadata', '_distance']);
      if (nprobes !== undefined) request = request.nprobes(nprobes);
      if (refineFactor !== undefined) request = request.refineFactor(refineFactor);
      if (ef !== undefined) request = request.ef(ef);
      if (where !== undefined) request = request.where(where);
      candidates.push(...groupByQuery(await request.toArrow(), batch.length));
    }
    return candidates;
  }

  private async existingIds(ids: readonly string[]): Promise<Set<string>> {
    const existing = new Set<string>();
    for (let start = 0; start < ids.length; start += idsPerClause) {
      const chunk = ids.slice(start, start + idsPerClause);
      const rows = await this.table
        .query()
        .where(idInSql(chunk))
        .select(['id'])
        .limit(chunk.length)
        .toArrow();
      for (const id of rows.getChild('id') ?? []) existing.add(id);
    }
    return existing;
  }

  private filterSql(filter: Readonly<Record<string, string>>): string | undefined {
    for (const key of Object.keys(filter)) {
      if (!this.metadataColumns.includes(key)) {
        throw new RangeError(
          `filter key "${key}" is not a metadata column of this store (columns: ${this.metadataColumns.join(', ') || 'none'}); declare it in buildLanceStore's metadataColumns`,
        );
      }
    }
    return equalitySql(filter);
  }

  private toArrow(items: readonly VectorItem[]): ArrowTable {
    return itemsToArrowTable(items, lanceSchema(this.dim, this.metadataColumns));
  }
}

/** Splits a multi-vector search result by its `query_index` column (absent for a single query), best first. */
function groupByQuery(rows: ArrowTable, queryCount: number): SearchHit[][] {
  const groups: SearchHit[][] = Array.from({ length: queryCount }, () => []);
  const queryIndex = rows.getChild('query_index');
  const ids = rows.getChild('id');
  const metadata = rows.getChild('metadata');
  const distances = rows.getChild('_distance');
  for (let row = 0; row < rows.numRows; row++) {
    const hit: SearchHit = { id: ids?.get(row), score: 1 - distances?.get(row) };
    const json = metadata?.get(row);
    if (json !== null) hit.metadata = JSON.parse(json);
    groups[queryIndex === null ? 0 : Number(queryIndex.get(row))].push(hit);
  }
  for (const group of groups) group.sort((left, right) => right.score - left.score);
  return groups;
}
