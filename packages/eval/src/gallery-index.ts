/** Maps gallery image names to their row in the gallery matrix; duplicate names are an error. */
export function galleryIndex(names: readonly string[], source = 'gallery'): Map<string, number> {
  const index = new Map<string, number>();
  names.forEach((name, row) => {
    if (index.has(name))
      throw new Error(`${source}: image "${name}" appears twice (rows ${index.get(name)} and ${row})`);
    index.set(name, row);
  });
  return index;
}

/** Row of `name` in the gallery, with an error that names the query and the missing image. */
export function lookupRow(index: Map<string, number>, name: string, what: string, query: number): number {
  const row = index.get(name);
  if (row === undefined) throw new Error(`query ${query}: ${what} "${name}" is not in the gallery`);
  return row;
}

/** Checks that a matrix has the rows and columns a protocol expects. */
export function checkMatrix(name: string, data: Float32Array, rows: number, dim: number): void {
  if (dim <= 0 || data.length !== rows * dim) {
    throw new Error(
      `${name}: expected ${rows} rows of dim ${dim} (${rows * dim} values), got ${data.length} values`,
    );
  }
}
