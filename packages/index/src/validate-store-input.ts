import { InvalidItemError } from './store-errors';
import type { SearchOptions, VectorItem } from './vector-store';

/**
 * Checks a whole batch before a store changes anything, so that a bad item leaves the store as it was: ids are
 * non-empty and unique within the batch, vectors are Float32Array [dim] of finite values, metadata values are strings.
 */
export function validateItems(items: readonly VectorItem[], dim: number): void {
  const seen = new Set<string>();
  for (const item of items) {
    const { id, vector, metadata } = item;
    if (typeof id !== 'string' || id === '') {
      throw new InvalidItemError(String(id), 'id must be a non-empty string');
    }
    if (seen.has(id)) throw new InvalidItemError(id, 'appears more than once in the same call');
    seen.add(id);
    if (!(vector instanceof Float32Array)) throw new InvalidItemError(id, 'vector must be a Float32Array');
    if (vector.length !== dim) {
      throw new InvalidItemError(id, `vector has length ${vector.length}, the store holds dim ${dim}`);
    }
    for (let index = 0; index < dim; index++) {
      if (!Number.isFinite(vector[index])) {
        throw new InvalidItemError(id, `vector[${index}] is ${vector[index]}`);
      }
    }
    for (const [key, value] of Object.entries(metadata ?? {})) {
      if (typeof value !== 'string') throw new InvalidItemError(id, `metadata "${key}" is not a string`);
    }
  }
}

/** Checks the shape of a search call: queries [queryCount, dim] of finite values, k ≥ 0, one exclude list per query. */
export function validateSearch(
  queries: Float32Array,
  queryCount: number,
  dim: number,
  k: number,
  options: SearchOptions,
): void {
  if (!Number.isInteger(queryCount) || queryCount < 0 || queries.length !== queryCount * dim) {
    throw new RangeError(`search: queries must be [${queryCount}, ${dim}], got length ${queries.length}`);
  }
  if (!Number.isInteger(k) || k < 0)
    throw new RangeError(`search: k must be a non-negative integer, got ${k}`);
  for (let index = 0; index < queries.length; index++) {
    if (!Number.isFinite(queries[index])) {
      throw new RangeError(
        `search: query ${Math.floor(index / dim)} has ${queries[index]} at ${index % dim}`,
      );
    }
  }
  const { excludeIds } = options;
  if (Array.isArray(excludeIds) && excludeIds.length !== queryCount) {
    throw new RangeError(`search: excludeIds has ${excludeIds.length} lists for ${queryCount} queries`);
  }
}
