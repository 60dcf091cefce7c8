import {
  Field,
  FixedSizeList,
  Float32,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import type { VectorItem } from './vector-store';

/*
 * The LanceDB table of a store: `id` (utf8), `vector` (FixedSizeList<Float32>[dim]), `metadata` (the whole
 * metadata map as JSON, nullable) and one nullable utf8 column per declared metadata key, which is what `where`
 * filters run on. Keys that are not declared are kept in the JSON but cannot be filtered on.
 */

const reservedColumns = new Set(['id', 'vector', 'metadata']);
/** Leading letter: LanceDB names its own virtual columns `_distance`, `_rowid`. */
const columnNamePattern = /^[A-Za-z][A-Za-z0-9_]*$/;

/** Throws unless every name can be a metadata column (a plain identifier that no other column uses). */
export function validateMetadataColumns(columns: readonly string[]): void {
  for (const column of columns) {
    if (!columnNamePattern.test(column) || reservedColumns.has(column)) {
      throw new RangeError(
        `metadata column "${column}" must match ${columnNamePattern} and not be one of ${[...reservedColumns].join(', ')}`,
      );
    }
  }
  if (new Set(columns).size !== columns.length) throw new RangeError('metadata columns must be distinct');
}

export function lanceSchema(dim: number, metadataColumns: readonly string[]): Schema {
  return new Schema([
    new Field('id', new Utf8(), false),
    new Field('vector', new FixedSizeList(dim, new Field('item', new Float32(), true)), false),
    new Field('metadata', new Utf8(), true),
    ...metadataColumns.map((column) => new Field(column, new Utf8(), true)),
  ]);
}

/** Items (already validated) as one Arrow record batch; the vectors are copied into one [count, dim] buffer. */
export function itemsToArrowTable(items: readonly VectorItem[], schema: Schema): Table {
  const vectorType = schema.fields[1].type as FixedSizeList<Float32>;
  const dim = vectorType.listSize;
  const vectors = new Float32Array(items.length * dim);
  for (const [row, item] of items.entries()) vectors.set(item.vector, row * dim);
  const vectorData = makeData({
    type: vectorType,
    length: items.length,
    nullCount: 0,
    child: makeData({ type: new Float32(), length: vectors.length, data: vectors }),
  });
  const utf8Column = (value: (item: VectorItem) => string | null) =>
    vectorFromArray(items.map(value), new Utf8()).data[0];
  const children = [
    utf8Column((item) => item.id),
    vectorData,
    utf8Column((item) => (item.metadata === undefined ? null : JSON.stringify(item.metadata))),
    ...schema.fields.slice(3).map((field) => utf8Column((item) => item.metadata?.[field.name] ?? null)),
  ];
  const batch = new RecordBatch(
    schema,
    makeData({ type: new Struct(schema.fields), length: items.length, nullCount: 0, children }),
  );
  return new Table(schema, [batch]);
}
