/**
 * Runs one gated SELECT on a tenant instance and streams its result as
 * RowDescription, DataRow..., CommandComplete. DuckDB produces the result chunk by
 * chunk (streaming, not materialised); rows are encoded into one buffer that is
 * handed to the socket whenever it passes FLUSH_BYTES, and the next chunk is only
 * fetched once the socket has taken the previous one: memory stays bounded whatever
 * the result size, and a slow client slows its own query only.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import { renameColumns } from '../sql/columnNames.js';
import type { Verdict } from '../sql/gate.js';
import type { BackendWriter, FieldDescription } from '../wire/backend.js';
import { pgFieldTypeFor } from '../wire/pgTypes.js';
import { textEncoderFor, type TextFormatSettings } from '../wire/textFormat.js';

export const FLUSH_BYTES = 64 * 1024;

/** The query a session is running, for CancelRequest and timeouts to interrupt. */
export class ActiveQuery {
  conn: DuckDBConnection | null = null;
  /** Why it was interrupted; null while it runs undisturbed. */
  reason: 'cancel' | 'timeout' | 'disconnect' | null = null;

  private repeat: NodeJS.Timeout | null = null;

  /**
   * Interrupts the query, and keeps interrupting every 50 ms until it has stopped: an
   * interrupt that lands while DuckDB is still preparing the query, before it runs, is
   * otherwise lost and the query runs to its end.
   */
  private readonly aborter = new AbortController();

  /** Aborted when the query is interrupted: for waits before it runs. */
  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  interrupt(reason: 'cancel' | 'timeout' | 'disconnect'): void {
    if (this.reason === null) this.reason = reason;
    this.aborter.abort();
    this.conn?.interrupt();
    this.repeat ??= setInterval(() => this.conn?.interrupt(), 50);
  }

  /** The query is over (finished, failed or stopped): no more interrupts. */
  finish(): void {
    this.conn = null;
    if (this.repeat) clearInterval(this.repeat);
    this.repeat = null;
  }

  /** Throws the error PostgreSQL gives for an interrupted statement, if it was interrupted. */
  throwIfInterrupted(): void {
    if (this.reason === 'timeout') throw new PgError(SqlState.QueryCanceled, 'canceling statement due to statement timeout');
    if (this.reason !== null) throw new PgError(SqlState.QueryCanceled, 'canceling statement due to user request');
  }
}

export async function* streamSelect(
  conn: DuckDBConnection,
  verdict: Verdict,
  w: BackendWriter,
  active: ActiveQuery,
  format: TextFormatSettings,
): AsyncGenerator<Uint8Array, number> {
  active.throwIfInterrupted();
  const result = await conn.stream(verdict.sql);
  active.throwIfInterrupted();
  const columnCount = result.columnCount;
  const types = result.columnTypes();
  const names = renameColumns(result.columnNames(), verdict.columnNames);
  const fields: FieldDescription[] = types.map((t, i) => {
    const pg = pgFieldTypeFor(t);
    return { name: names[i]!, tableOid: 0, columnAttr: 0, typeOid: pg.oid, typeLen: pg.typlen, typeMod: pg.typmod, format: 0 };
  });
  const encoders = types.map((t) => textEncoderFor(t, format));
  w.rowDescription(fields);
  let rows = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    // An interrupted stream just ends: never let that pass for a complete result.
    active.throwIfInterrupted();
    if (!chunk || chunk.rowCount === 0) break;
    const columns = chunk.getColumns();
    const n = chunk.rowCount;
    for (let r = 0; r < n; r++) {
      w.beginDataRow(columnCount);
      for (let c = 0; c < columnCount; c++) {
        const v = columns[c]![r];
        if (v === null || v === undefined) w.nullField();
        else w.textField(encoders[c]!(v));
      }
      w.endDataRow();
    }
    rows += n;
    if (w.length >= FLUSH_BYTES) yield w.take();
  }
  w.commandComplete(`SELECT ${rows}`);
  return rows;
}
