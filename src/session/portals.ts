/**
 * Prepared statements and portals of the extended query protocol.
 *
 * A prepared statement is a checked statement: the gate's verdict made at Parse (or a
 * session command, or nothing at all), with the type of every parameter and the columns
 * it returns. It holds no DuckDB resource, so a named statement can live across
 * transactions and snapshots until it is closed or the session ends.
 *
 * A portal is a statement bound to parameter values: it holds a lease on the tenant's
 * snapshot, a DuckDB connection of its own with the statement prepared and bound on it,
 * and once executed, the open result, until it is closed, runs to completion, its
 * transaction ends, or the session ends. A portal is suspended between Executes without
 * a query slot: the slot is for work DuckDB is doing, and a session holding slots for its
 * suspended portals could wait for itself forever.
 *
 * As in PostgreSQL, a SQL cursor (DECLARE) is a portal too, in the same namespace: FETCH
 * reads any portal, and Describe and Execute reach a cursor by its name. A cursor WITH
 * HOLD outlives the transaction it was declared in, keeping its open result (and the
 * snapshot it reads) until it is closed; a transaction that rolls back takes the cursors
 * declared in it along, held or not, and ROLLBACK TO those declared after the savepoint.
 *
 * SQL's PREPARE and the protocol's Parse share the statements' namespace in the same way.
 */
import type { DuckDBConnection, DuckDBPreparedStatement } from '@duckdb/node-api';
import type { ResultColumn } from '../engine/parameters.js';
import type { TenantLease } from '../engine/tenantEngine.js';
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import type { Verdict } from '../sql/gate.js';
import type { Token } from '../sql/lexer.js';
import type { ParameterCasts } from '../sql/parameterCasts.js';
import { runsInFailedBlock, type SessionCommand } from '../sql/sessionCommand.js';
import type { WrappedStatement } from '../sql/wrappedStatement.js';
import type { FieldDescription } from '../wire/backend.js';
import type { ParamValue } from '../wire/params.js';
import type { EndMarker, FormatCode, ResultCursor } from './resultStream.js';

/** Named prepared statements a session may hold at once. */
export const MAX_PREPARED_STATEMENTS = 1000;
/** Portals (cursors included) a session may hold at once: each holds a DuckDB connection. */
export const MAX_OPEN_PORTALS = 256;

export type StatementBody =
  | { kind: 'empty' }
  | { kind: 'command'; command: SessionCommand }
  | { kind: 'query'; text: string; tokens: Token[]; casts: ParameterCasts; verdict: Verdict; version: string }
  /**
   * A statement the session runs itself around a query (COPY, DECLARE, FETCH, PREPARE,
   * EXECUTE, ...). `inner`: DECLARE's query, checked and typed at Parse, whose parameters
   * are the statement's.
   */
  | { kind: 'wrapped'; statement: WrappedStatement; inner: PreparedStatement | null };

export class PreparedStatement {
  constructor(
    readonly name: string,
    readonly body: StatementBody,
    /** The type OID of each parameter: declared by the client, else inferred (text when DuckDB cannot tell). */
    readonly paramOids: readonly number[],
    /** The columns it returns; null: none (NoData). */
    readonly columns: readonly ResultColumn[] | null,
  ) {}

  /** COMMIT, ROLLBACK and ROLLBACK TO are all that a failed transaction block still runs. */
  get endsTransaction(): boolean {
    return this.body.kind === 'command' && runsInFailedBlock(this.body.command);
  }
}

/** A portal's DuckDB side. */
export interface PortalRun {
  tl: TenantLease;
  /**
   * Lets go of the lease: the portal's own (made outside a block), or its reference to a
   * block's (a cursor WITH HOLD); null: the block releases it.
   */
  releaseLease: (() => void) | null;
  conn: DuckDBConnection;
  /** What runs: the statement with an end marker when its columns are known (withEndMarker). */
  prepared: DuckDBPreparedStatement;
  /** Set when `prepared` carries the end marker. */
  endMarker?: EndMarker;
  /** The open result, from the first Execute (or a Describe that needed its types) on. */
  cursor: ResultCursor | null;
}

/** What DECLARE made a portal. */
export interface CursorOptions {
  /** WITH HOLD: it outlives its transaction. */
  holdable: boolean;
  /** BINARY: FETCH over the simple protocol sends binary values. */
  binary: boolean;
}

export class Portal {
  /** The result was read to its end (or the command ran): a later Execute returns nothing. */
  done = false;
  /** Its RowDescription; null until the result is open when a column's type depends on a bound value. */
  fields: FieldDescription[] | null = null;
  /** Rows read so far (PostgreSQL's portalPos), and whether a read ran off the end: for FETCH and MOVE. */
  position = 0;
  atEnd = false;
  /** A SQL cursor's options; null: a portal of the protocol's Bind. */
  cursor: CursorOptions | null = null;
  /** For a wrapped statement: Bind's parameter values and result format codes, used when it runs. */
  bound: { values: ParamValue[]; formatCodes: number[] } | null = null;
  /** The transaction it was made in, and its place in the order portals were made (PortalStore). */
  epoch = 0;
  seq = 0;

  constructor(
    readonly name: string,
    readonly statement: PreparedStatement,
    /** The columns as bound; a null type is known only once the result is open. */
    readonly columns: readonly ResultColumn[] | null,
    readonly formats: readonly FormatCode[],
    public run: PortalRun | null,
  ) {}

  /** Gives back the DuckDB side: the connection (with the statement and result on it), the lease. */
  release(): void {
    const run = this.run;
    this.run = null;
    if (!run) return;
    if (run.cursor && !this.done) run.conn.interrupt();
    // Its connection serves another query only if this one read its result to the end.
    run.tl.lease.done(run.conn, this.done);
    run.releaseLease?.();
  }
}

const quoted = (kind: 'prepared statement' | 'portal', name: string) => (name === '' ? `unnamed ${kind}` : `${kind} "${name}"`);

export class StatementStore {
  private readonly map = new Map<string, PreparedStatement>();

  find(name: string): PreparedStatement | undefined {
    return this.map.get(name);
  }

  get(name: string): PreparedStatement {
    const s = this.map.get(name);
    if (!s) throw new PgError(SqlState.InvalidSqlStatementName, `${quoted('prepared statement', name)} does not exist`);
    return s;
  }

  /** A named statement's name must be free; the unnamed one is replaced. */
  checkFree(name: string): void {
    if (name === '') return;
    if (this.map.has(name)) throw new PgError(SqlState.DuplicatePreparedStatement, `prepared statement "${name}" already exists`);
    if (this.map.size >= MAX_PREPARED_STATEMENTS) {
      throw new PgError(SqlState.ProgramLimitExceeded, `too many prepared statements (at most ${MAX_PREPARED_STATEMENTS} per session)`, {
        hint: 'Close prepared statements that are no longer needed.',
      });
    }
  }

  set(statement: PreparedStatement): void {
    this.checkFree(statement.name);
    this.map.set(statement.name, statement);
  }

  delete(name: string): void {
    this.map.delete(name);
  }

  clear(): void {
    this.map.clear();
  }
}

export class PortalStore {
  private readonly map = new Map<string, Portal>();
  /** The transaction (block or implicit) portals are being made in now. */
  private epoch = 0;
  private seq = 0;

  find(name: string): Portal | undefined {
    return this.map.get(name);
  }

  get(name: string): Portal {
    const p = this.map.get(name);
    if (!p) throw new PgError(SqlState.InvalidCursorName, `${quoted('portal', name)} does not exist`);
    return p;
  }

  /** A portal by the name SQL gives it (FETCH, MOVE, CLOSE). */
  cursor(name: string): Portal {
    const p = this.map.get(name);
    if (!p || name === '') throw new PgError(SqlState.InvalidCursorName, `cursor "${name}" does not exist`);
    return p;
  }

  /** A named portal's name must be free; the unnamed one is closed (Bind replaces it). */
  makeRoom(name: string): void {
    if (name === '') {
      this.close('');
      return;
    }
    if (this.map.has(name)) throw new PgError(SqlState.DuplicateCursor, `cursor "${name}" already exists`);
    if (this.map.size >= MAX_OPEN_PORTALS) {
      throw new PgError(SqlState.ProgramLimitExceeded, `too many open portals (at most ${MAX_OPEN_PORTALS} per session, cursors included)`, {
        hint: 'Close portals and cursors that are no longer needed.',
      });
    }
  }

  set(portal: Portal): void {
    portal.epoch = this.epoch;
    portal.seq = ++this.seq;
    this.map.set(portal.name, portal);
  }

  close(name: string): void {
    this.map.get(name)?.release();
    this.map.delete(name);
  }

  /** CLOSE ALL, DISCARD ALL, the end of the session: every portal, held cursors too. */
  closeAll(): void {
    for (const p of this.map.values()) p.release();
    this.map.clear();
  }

  /**
   * A transaction ends (a block, or the implicit transaction of a Query or of the
   * messages up to Sync): its portals go, except cursors WITH HOLD; a rollback takes the
   * held cursors declared in it along.
   */
  endTransaction(rollback: boolean): void {
    for (const [name, p] of this.map) {
      if (!p.cursor?.holdable || (rollback && p.epoch === this.epoch)) this.close(name);
    }
    this.epoch++;
  }

  /** Where a savepoint stands in the order portals are made. */
  mark(): number {
    return this.seq;
  }

  /** ROLLBACK TO a savepoint: the portals made after it go. */
  rollbackTo(mark: number): void {
    for (const [name, p] of this.map) if (p.seq > mark) this.close(name);
  }
}
