/**
 * COPY ... TO STDOUT: a checked query's rows in COPY's text, CSV or binary format, byte
 * for byte as PostgreSQL writes them (CopyAttributeOutText / CopyAttributeOutCSV and the
 * binary file format of its copyto.c), inside the protocol's copy-out sub-protocol:
 * CopyOutResponse, CopyData..., CopyDone, then CommandComplete "COPY n".
 *
 * Values are first put in PostgreSQL's text output form by the same encoders as every
 * result (textFormat.ts), or its binary form (binaryFormat.ts). Rows are read through a
 * ResultCursor, chunk by chunk: the rows of a chunk go into CopyData messages of about
 * FLUSH_BYTES, and the next chunk is read only once the socket has taken them, so memory
 * stays bounded whatever the result size. An error or a cancel while rows are flowing
 * ends the copy with an ErrorResponse (and no CopyDone), as in PostgreSQL: never a
 * result that looks complete and is not.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import type { CopyOptions, CopyStatement } from '../sql/wrappedStatement.js';
import type { BackendWriter } from '../wire/backend.js';
import { binaryEncoderFor, type BinaryEncoder } from '../wire/binaryFormat.js';
import { textEncoderFor, type TextEncoder, type TextFormatSettings } from '../wire/textFormat.js';
import type { ActiveQuery } from './activeQuery.js';
import { FLUSH_BYTES, type FormatCode, type ResultCursor, type RowWriter } from './resultStream.js';

/** The file header of binary COPY: signature, flags, header extension length. */
const BINARY_HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);

/** The format code of every column, as the cursor must be opened for COPY (binary needs binary encoders). */
export function copyColumnFormats(options: CopyOptions, columns: number): FormatCode[] {
  return new Array<FormatCode>(columns).fill(options.format === 'binary' ? 1 : 0);
}

const inClass = (c: string) => c.replace(/[\\\]^-]/g, '\\$&');

const TEXT_ESCAPES: Readonly<Record<string, string>> = {
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '\\': '\\\\',
};

/**
 * COPY's text format of one value (CopyAttributeOutText): backslash, the delimiter and
 * the control characters \b \f \n \r \t \v are backslash-escaped; other characters,
 * other control characters included, are written as they are.
 */
export function textEscaper(delimiter: string): (s: string) => string {
  const any = new RegExp(`[\\\\\\b\\f\\n\\r\\t\\v${inClass(delimiter)}]`);
  const all = new RegExp(any.source, 'g');
  const escape = (c: string) => TEXT_ESCAPES[c] ?? `\\${c}`;
  return (s) => (any.test(s) ? s.replace(all, escape) : s);
}

/**
 * COPY's CSV format of one non-null value (CopyAttributeOutCSV): quoted when asked to
 * (FORCE_QUOTE), when it equals the NULL string, when it holds the delimiter, the quote
 * character, CR or LF, or when it is `\.` alone on its line; inside quotes, the quote
 * and escape characters are preceded by the escape character.
 */
export function csvQuoter(options: CopyOptions, singleColumn: boolean): (s: string, force: boolean) => string {
  const { delimiter, quote, escape } = options;
  const needs = new RegExp(`[${inClass(delimiter)}${inClass(quote)}\\r\\n]`);
  const inner = new RegExp(`[${inClass(quote)}${inClass(escape)}]`, 'g');
  return (s, force) => {
    if (!force && s !== options.null && !(singleColumn && s === '\\.') && !needs.test(s)) return s;
    return quote + s.replace(inner, (c) => escape + c) + quote;
  };
}

/** Which columns FORCE_QUOTE names, by position; a name that is not a column of the copy is an error. */
function forceQuoteFlags(copy: CopyStatement, names: readonly string[]): boolean[] {
  const fq = copy.options.forceQuote;
  if (fq === '*') return names.map(() => true);
  const flags = names.map(() => false);
  for (const col of fq) {
    const i = names.indexOf(col);
    if (i < 0) {
      throw copy.columns
        ? new PgError(SqlState.InvalidColumnReference, `FORCE_QUOTE column "${col}" not referenced by COPY`)
        : new PgError(SqlState.UndefinedColumn, `column "${col}" does not exist`);
    }
    flags[i] = true;
  }
  return flags;
}

/** Rows [from, to) as COPY data, in CopyData messages of about FLUSH_BYTES. */
function inCopyData(row: (w: BackendWriter, columns: readonly (readonly DuckDBValue[])[], r: number) => void): RowWriter {
  return (w, columns, from, to) => {
    if (from >= to) return;
    w.beginCopyData();
    for (let r = from; r < to; r++) {
      row(w, columns, r);
      if (w.copyDataLength >= FLUSH_BYTES && r + 1 < to) w.endCopyData().beginCopyData();
    }
    w.endCopyData();
  };
}

function textRows(encoders: readonly TextEncoder[], options: CopyOptions, force: readonly boolean[]): RowWriter {
  const n = encoders.length;
  const { delimiter } = options;
  const nullText = options.null;
  if (options.format === 'csv') {
    const quote = csvQuoter(options, n === 1);
    return inCopyData((w, columns, r) => {
      let line = '';
      for (let c = 0; c < n; c++) {
        if (c > 0) line += delimiter;
        const v = columns[c]![r];
        line += v === null || v === undefined ? nullText : quote(encoders[c]!(v), force[c]!);
      }
      w.copyText(line + '\n');
    });
  }
  const escape = textEscaper(delimiter);
  return inCopyData((w, columns, r) => {
    let line = '';
    for (let c = 0; c < n; c++) {
      if (c > 0) line += delimiter;
      const v = columns[c]![r];
      line += v === null || v === undefined ? nullText : escape(encoders[c]!(v));
    }
    w.copyText(line + '\n');
  });
}

function binaryRows(encoders: readonly BinaryEncoder[]): RowWriter {
  const n = encoders.length;
  return inCopyData((w, columns, r) => {
    w.copyInt16(n);
    for (let c = 0; c < n; c++) {
      const v = columns[c]![r];
      if (v === null || v === undefined) {
        w.copyInt32(-1);
      } else {
        const bytes = encoders[c]!(v);
        w.copyInt32(bytes.length).copyBytes(bytes);
      }
    }
  });
}

/** The header line: the column names, in the row format (CSV-quoted or text-escaped). */
function headerLine(names: readonly string[], options: CopyOptions): string {
  if (options.format === 'csv') {
    const quote = csvQuoter(options, names.length === 1);
    return names.map((n) => quote(n, false)).join(options.delimiter) + '\n';
  }
  const escape = textEscaper(options.delimiter);
  return names.map(escape).join(options.delimiter) + '\n';
}

/**
 * Copies every row of an open cursor (opened with copyColumnFormats) to the client:
 * CopyOutResponse, the rows in CopyData messages, CopyDone, CommandComplete "COPY n".
 * Returns the number of rows.
 */
export async function* copyOut(
  cursor: ResultCursor,
  copy: CopyStatement,
  w: BackendWriter,
  active: ActiveQuery,
  settings: TextFormatSettings,
): AsyncGenerator<Uint8Array, number> {
  const { options } = copy;
  const names = cursor.fields.map((f) => f.name);
  const binary = options.format === 'binary';
  let write: RowWriter;
  if (binary) {
    // The cursor was opened in binary: a type without a binary form has been refused.
    write = binaryRows(cursor.types.map((t) => binaryEncoderFor(t)!));
  } else {
    const force = forceQuoteFlags(copy, names);
    write = textRows(
      cursor.types.map((t) => textEncoderFor(t, settings)),
      options,
      force,
    );
  }
  w.copyOutResponse(binary ? 1 : 0, copyColumnFormats(options, names.length));
  if (binary) w.copyData(BINARY_HEADER);
  else if (options.header) w.beginCopyData().copyText(headerLine(names, options)).endCopyData();
  const { rows } = yield* cursor.fetch(w, active, 0, write);
  if (binary) w.beginCopyData().copyInt16(-1).endCopyData();
  w.copyDone();
  w.commandComplete(`COPY ${rows}`);
  return rows;
}
