/*
 * SQL fragments for LanceDB `where` clauses. LanceDB parses them with DataFusion's SQL dialect: string literals
 * are single-quoted with quotes doubled (a backslash is an ordinary character), identifiers are quoted with
 * backticks. Metadata column names are checked to be plain identifiers before they get here.
 */

/** `it's` → `'it''s'` */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** `category = 'dress' AND color = 'red'`, or undefined for an empty filter. */
export function equalitySql(filter: Readonly<Record<string, string>>): string | undefined {
  const terms = Object.entries(filter).map(([column, value]) => `\`${column}\` = ${sqlString(value)}`);
  return terms.length === 0 ? undefined : terms.join(' AND ');
}

/** `id IN ('a', 'b')` */
export function idInSql(ids: readonly string[]): string {
  return `id IN (${ids.map(sqlString).join(', ')})`;
}
