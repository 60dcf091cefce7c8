/** A result table: column names and rows of values (numbers are printed with fixed decimals). */
export interface ResultTable {
  title?: string;
  columns: string[];
  rows: (string | number | undefined)[][];
}

/** Renders a GitHub-flavoured Markdown table; numbers get `decimals` digits, missing values a dash. */
export function toMarkdown(table: ResultTable, decimals = 2): string {
  const cell = (value: string | number | undefined) =>
    value === undefined
      ? '–'
      : typeof value === 'number'
        ? value.toFixed(decimals)
        : value.replaceAll('|', '\\|');
  const header = `| ${table.columns.join(' | ')} |`;
  const rule = `| ${table.columns.map((_column, index) => (index === 0 ? '---' : '---:')).join(' | ')} |`;
  const body = table.rows.map((row) => `| ${row.map(cell).join(' | ')} |`);
  return [...(table.title ? [`### ${table.title}`, ''] : []), header, rule, ...body].join('\n');
}

/** Rows as objects keyed by column, for JSON output. */
export function toRecords(table: ResultTable): Record<string, string | number | null>[] {
  return table.rows.map((row) =>
    Object.fromEntries(table.columns.map((column, index) => [column, row[index] ?? null])),
  );
}
