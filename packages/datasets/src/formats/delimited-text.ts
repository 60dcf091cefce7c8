/** One record of a CSV/TSV text: the 1-based line it starts on (quoted fields may span lines) and its fields. */
export interface DelimitedRow {
  line: number;
  fields: string[];
  /** Why the record's quoting is malformed; its fields are then incomplete. */
  error?: string;
}

/**
 * Parses CSV (RFC 4180) or TSV text: fields may be quoted to hold the delimiter, line breaks and doubled quotes
 * (`""`); `\n` and `\r\n` end records; blank lines are skipped. A quote inside an unquoted field is kept as text, as
 * spreadsheet exports do. A malformed record is returned with an `error` instead of aborting, so a loader in skip
 * mode can count it and go on with the next line.
 */
export function parseDelimitedText(text: string, delimiter: ',' | '\t'): DelimitedRow[] {
  const rows: DelimitedRow[] = [];
  let position = 0;
  let line = 1;

  const endOfUnquotedField = (from: number): number => {
    let end = from;
    while (end < text.length) {
      const character = text[end];
      if (character === delimiter || character === '\n' || (character === '\r' && text[end + 1] === '\n'))
        break;
      end++;
    }
    return end;
  };

  /** Reads a quoted field at `position`; returns undefined when the closing quote is missing. */
  const readQuotedField = (): string | undefined => {
    let field = '';
    let from = position + 1;
    for (;;) {
      const quote = text.indexOf('"', from);
      if (quote < 0) return undefined;
      const chunk = text.slice(from, quote);
      line += chunk.split('\n').length - 1;
      field += chunk;
      if (text[quote + 1] === '"') {
        field += '"';
        from = quote + 2;
      } else {
        position = quote + 1;
        return field;
      }
    }
  };

  while (position < text.length) {
    const row: DelimitedRow = { line, fields: [] };
    for (;;) {
      if (text[position] === '"') {
        const field = readQuotedField();
        if (field === undefined) {
          row.error = `unterminated quoted field opened on line ${line}`;
          position = text.length;
          break;
        }
        row.fields.push(field);
      } else {
        const end = endOfUnquotedField(position);
        row.fields.push(text.slice(position, end));
        position = end;
      }
      const character = text[position];
      if (character === delimiter) {
        position++;
        continue;
      }
      if (character === undefined) break;
      if (character === '\n' || (character === '\r' && text[position + 1] === '\n')) {
        position += character === '\n' ? 1 : 2;
        line++;
        break;
      }
      row.error = `unexpected text after a closing quote (line ${line})`;
      const nextLine = text.indexOf('\n', position);
      position = nextLine < 0 ? text.length : nextLine + 1;
      if (nextLine >= 0) line++;
      break;
    }
    const blank = row.error === undefined && row.fields.length === 1 && row.fields[0] === '';
    if (!blank) rows.push(row);
  }
  return rows;
}
