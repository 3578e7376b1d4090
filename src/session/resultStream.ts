/**
 * Streams the result of a gated SELECT as DataRows, for the simple protocol (all of it,
 * after a RowDescription) and for Execute (up to a row limit, resumable). DuckDB produces
 * the result chunk by chunk (streaming, not materialised); rows are encoded into one
 * buffer that is handed to the socket whenever it passes FLUSH_BYTES, and the next chunk
 * is only fetched once the socket has taken the previous one: memory stays bounded
 * whatever the result size, and a slow client slows its own query only.
 */
import type { DuckDBConnection, DuckDBPreparedStatement, DuckDBResult, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { numericScaleFollowsValues, resultColumns, type ResultColumn } from '../engine/parameters.js';
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import { renameColumns } from '../sql/columnNames.js';
import { formatBytes } from '../tenants/plans.js';
import type { Verdict } from '../sql/gate.js';
import type { BackendWriter, FieldDescription } from '../wire/backend.js';
import { binaryEncoderFor, type BinaryEncoder } from '../wire/binaryFormat.js';
import { PG_OID, pgFieldTypeFor } from '../wire/pgTypes.js';
import { textEncoderFor, type TextFormatSettings } from '../wire/textFormat.js';
import type { ActiveQuery } from './activeQuery.js';

export const FLUSH_BYTES = 64 * 1024;

export type FormatCode = 0 | 1;

/**
 * The format of each result column from Bind's result format codes: none (all text),
 * one (for every column) or one per column, each 0 (text) or 1 (binary).
 */
export function resultFormats(codes: readonly number[], columns: number): FormatCode[] {
  for (const c of codes) {
    if (c !== 0 && c !== 1) throw new PgError(SqlState.InvalidParameterValue, `unsupported format code: ${c}`);
  }
  if (codes.length > 1 && codes.length !== columns) {
    throw new PgError(SqlState.ProtocolViolation, `bind message has ${codes.length} result formats but query has ${columns} columns`);
  }
  return Array.from({ length: columns }, (_, i) => (codes.length === 0 ? 0 : codes.length === 1 ? codes[0]! : codes[i]!) as FormatCode);
}

function typeName(type: DuckDBType): string {
  const name = pgFieldTypeFor(type).name;
  return name.startsWith('_') ? `${name.slice(1)}[]` : name;
}

/** The protocol cannot fall back to text for a column asked for in binary: refuse. */
function noBinary(type: DuckDBType): PgError {
  return new PgError(SqlState.FeatureNotSupported, `binary format is not supported for type ${typeName(type)}`, {
    hint: 'Ask for this column in text format.',
  });
}

/**
 * RowDescription fields for result columns in the given formats. A column whose type
 * DuckDB only learns at execution is described as text; a numeric column whose scale
 * follows bound values (anyScale), without a typmod. Throws 0A000 when a binary format is
 * asked for a type that has none.
 */
export function describeFields(columns: readonly ResultColumn[], formats: readonly FormatCode[]): FieldDescription[] {
  return columns.map((c, i) => {
    const format = formats[i] ?? 0;
    if (c.type === null) {
      return { name: c.name, tableOid: 0, columnAttr: 0, typeOid: PG_OID.text, typeLen: -1, typeMod: -1, format };
    }
    if (format === 1 && !binaryEncoderFor(c.type)) throw noBinary(c.type);
    const pg = pgFieldTypeFor(c.type);
    return { name: c.name, tableOid: 0, columnAttr: 0, typeOid: pg.oid, typeLen: pg.typlen, typeMod: c.anyScale ? -1 : pg.typmod, format };
  });
}

/**
 * Writes rows [from, to) of one chunk's columns: as DataRows (dataRowWriter), as COPY
 * data (copyOut.ts), or nowhere (skipRows, for MOVE).
 */
export type RowWriter = (w: BackendWriter, columns: readonly (readonly DuckDBValue[])[], from: number, to: number) => void;

/** Reads rows without sending them. */
export const skipRows: RowWriter = () => {};

/**
 * DataRows of columns of these types, each in its format (0 text, 1 binary). The text
 * loop is the hot loop of every text result: one encoder call per value, nothing else.
 * Describe the columns with describeFields first: it refuses a binary format a type lacks.
 */
export function dataRowWriter(types: readonly DuckDBType[], formats: readonly FormatCode[], settings: TextFormatSettings): RowWriter {
  const binary = types.map((_, i) => formats[i] === 1);
  const text = types.map((t, i) => (binary[i] ? null : textEncoderFor(t, settings)));
  if (!binary.includes(true)) {
    return (w, columns, from, to) => {
      const n = columns.length;
      for (let r = from; r < to; r++) {
        w.beginDataRow(n);
        for (let c = 0; c < n; c++) {
          const v = columns[c]![r];
          if (v === null || v === undefined) w.nullField();
          else w.textField(text[c]!(v));
        }
        w.endDataRow();
      }
    };
  }
  const bin: (BinaryEncoder | null)[] = types.map((t, i) => (binary[i] ? binaryEncoderFor(t) : null));
  return (w, columns, from, to) => {
    const n = columns.length;
    for (let r = from; r < to; r++) {
      w.beginDataRow(n);
      for (let c = 0; c < n; c++) {
        const v = columns[c]![r];
        if (v === null || v === undefined) w.nullField();
        else if (binary[c]) w.bytesField(bin[c]!(v));
        else w.textField(text[c]!(v));
      }
      w.endDataRow();
    }
  };
}

/**
 * DuckDB's streamed results lose an error raised after the first chunk was delivered: the
 * stream just ends, exactly as a complete one does (measured: a cast that fails on row
 * 250,000 ends the stream near row 225,000 without an error, more often the smaller the
 * streaming buffer). So the SQL that is streamed carries an end marker: one more column,
 * false on every row, and one last row where it is true. A stream that ends without that
 * row did not complete; the query is then run once more, aggregated to one row (so the
 * error, if it recurs, is raised before any row is sent), for the error to report.
 */
export const END_MARKER_COLUMN = '__tg_end';

export function withEndMarker(sql: string, columns: number): string {
  return `SELECT *, false AS "${END_MARKER_COLUMN}" FROM (${sql}) AS "__tg_rows" UNION ALL SELECT ${'NULL, '.repeat(columns)}true`;
}

/** The query again, every column evaluated (hashed), one row out: it raises what the stream lost. */
export function recheckSql(sql: string): string {
  return `SELECT max(hash("__tg_rows")) FROM (${sql}) AS "__tg_rows"`;
}

export interface EndMarker {
  /** Runs the query again to find the error its stream lost; throws it if it recurs. */
  recheck(): Promise<void>;
}

function lostError(): PgError {
  return new PgError(SqlState.InternalError, 'the query failed while its result was being sent', {
    detail: 'The engine ended the result early without reporting why; the rows sent are incomplete.',
  });
}

/** An open DuckDB result, read row by row across as many Executes (or FETCHes) as the client asks for. */
export class ResultCursor {
  readonly fields: FieldDescription[];
  /** The DuckDB type of each column. */
  readonly types: DuckDBType[];
  /** DataRows in the formats the cursor was opened with. */
  private readonly write: RowWriter;
  private columns: DuckDBValue[][] = [];
  private chunkRows = 0;
  private row = 0;
  private ended = false;
  /** Rows and bytes of rows sent so far, over every fetch (a portal's Executes, a cursor's FETCHes). */
  private sentRows = 0;
  private sentBytes = 0;

  /** `numericParams`: the statement has numeric parameters (see numericScaleFollowsValues). */
  /** The end-marker row was seen (see withEndMarker). */
  private sawEnd = false;

  constructor(
    private readonly result: DuckDBResult,
    names: readonly string[],
    formats: readonly FormatCode[],
    settings: TextFormatSettings,
    numericParams = false,
    /** The result carries an end marker (its last column): check it, and hide it. */
    private readonly endMarker?: EndMarker,
  ) {
    this.types = result.columnTypes();
    if (endMarker) this.types.pop();
    // A statement DuckDB could not type before its values were bound has its real columns
    // only now: their own names, and a single format code applies to each of them.
    const n = this.types.length;
    const own = names.length === n ? names : result.columnNames().slice(0, n);
    const fmts = formats.length === n ? formats : formats.length === 1 ? Array<FormatCode>(n).fill(formats[0]!) : Array<FormatCode>(n).fill(0);
    this.fields = describeFields(
      this.types.map((type, i) => ({ name: own[i]!, type, anyScale: numericParams && numericScaleFollowsValues(type) })),
      fmts,
    );
    this.write = dataRowWriter(this.types, fmts, settings);
  }

  /**
   * Writes up to maxRows rows (0: all the rest) with `write` (DataRows in the cursor's
   * formats unless told otherwise), handing the buffer to the socket whenever it fills.
   * `done` is false when the limit stopped it: as PostgreSQL, a portal that returned
   * exactly its limit is suspended even if no row is left.
   */
  async *fetch(
    w: BackendWriter,
    active: ActiveQuery,
    maxRows: number,
    write: RowWriter = this.write,
  ): AsyncGenerator<Uint8Array, { rows: number; done: boolean }> {
    let rows = 0;
    for (;;) {
      if (maxRows > 0 && rows >= maxRows) {
        active.throwIfInterrupted();
        return { rows, done: false };
      }
      if (this.row >= this.chunkRows) {
        // Past the end marker nothing is left: no need to ask DuckDB for an empty chunk.
        if (this.sawEnd) this.ended = true;
        if (this.ended) break;
        const chunk = await this.result.fetchChunk();
        // An interrupted stream just ends: never let that pass for a complete result.
        active.throwIfInterrupted();
        if (!chunk || chunk.rowCount === 0 || this.sawEnd) {
          this.ended = true;
          if (this.endMarker && !this.sawEnd) {
            await this.endMarker.recheck();
            active.throwIfInterrupted();
            throw lostError();
          }
          break;
        }
        this.columns = chunk.getColumns();
        this.chunkRows = chunk.rowCount;
        this.row = 0;
        if (this.endMarker) {
          // The marker row is the last row of the result: rows before it are the query's.
          const at = (this.columns.pop() ?? []).indexOf(true);
          if (at >= 0) {
            this.sawEnd = true;
            this.chunkRows = at;
          }
        }
      }
      const end = maxRows > 0 ? Math.min(this.chunkRows, this.row + maxRows - rows) : this.chunkRows;
      if (write === skipRows || !active.plan) {
        write(w, this.columns, this.row, end);
      } else {
        // The plan's result caps: past them, an error (never a silently short result).
        const plan = active.plan;
        if (plan.maxResultRows !== null && this.sentRows + (end - this.row) > plan.maxResultRows) {
          throw resultCapError(`more than ${plan.maxResultRows} rows`, plan.name, 'max-rows');
        }
        const before = w.length;
        write(w, this.columns, this.row, end);
        this.sentRows += end - this.row;
        this.sentBytes += w.length - before;
        if (plan.maxResultBytes !== null && this.sentBytes > plan.maxResultBytes) {
          throw resultCapError(`more than ${formatBytes(plan.maxResultBytes)} of rows`, plan.name, 'max-bytes');
        }
      }
      rows += end - this.row;
      this.row = end;
      if (w.length >= FLUSH_BYTES) yield w.take();
    }
    active.throwIfInterrupted();
    return { rows, done: true };
  }
}

function resultCapError(what: string, plan: string, option: string): PgError {
  return new PgError(SqlState.ProgramLimitExceeded, `result exceeds the limit of plan ${plan}: ${what}`, {
    detail: `The plan's ${option} limit applies to each result; the rows sent before this error are not the complete result.`,
    hint: 'Add a LIMIT or a WHERE clause, or aggregate; or read the result in parts.',
    limit: option.replace(/-/g, '_'),
  });
}

/** A verdict's result columns (the same for the same SQL on the same data), as prepared once. */
const verdictColumns = new WeakMap<Verdict, ResultColumn[]>();

/**
 * The SQL streamSelect runs for a verdict: with the end marker where its columns are
 * typed. Before the verdict first ran (its columns unknown), the verdict's own SQL, which
 * is what is prepared first.
 */
export function streamedSql(verdict: Verdict, columns = verdictColumns.get(verdict)): string {
  if (!columns) return verdict.sql;
  return columns.every((c) => c.type !== null) ? withEndMarker(verdict.sql, columns.length) : verdict.sql;
}

/** The simple protocol: RowDescription, every row, CommandComplete. */
export async function* streamSelect(
  conn: DuckDBConnection,
  /** The connection's prepared statement for a SQL text (Lease.prepare: kept for the next query). */
  prepare: (sql: string) => Promise<DuckDBPreparedStatement>,
  verdict: Verdict,
  w: BackendWriter,
  active: ActiveQuery,
  format: TextFormatSettings,
): AsyncGenerator<Uint8Array, number> {
  active.throwIfInterrupted();
  // The columns, for the marker's count and their names (the marked SQL adds one, and
  // renames duplicates): from a prepare, once per verdict.
  let columns = verdictColumns.get(verdict);
  if (!columns) {
    columns = resultColumns(await prepare(verdict.sql));
    active.throwIfInterrupted();
    verdictColumns.set(verdict, columns);
  }
  const marked = columns.every((c) => c.type !== null);
  const result = await (await prepare(streamedSql(verdict, columns))).stream();
  active.throwIfInterrupted();
  const names = renameColumns(marked ? columns.map((c) => c.name) : result.columnNames(), verdict.columnNames);
  const recheck = async () => void (await conn.run(recheckSql(verdict.sql)));
  const cursor = new ResultCursor(result, names, [], format, false, marked ? { recheck } : undefined);
  w.rowDescription(cursor.fields);
  const { rows } = yield* cursor.fetch(w, active, 0);
  w.commandComplete(`SELECT ${rows}`);
  return rows;
}
