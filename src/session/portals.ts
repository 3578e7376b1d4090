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
import type { FieldDescription } from '../wire/backend.js';
import type { FormatCode, ResultCursor } from './resultStream.js';

/** Named prepared statements a session may hold at once. */
export const MAX_PREPARED_STATEMENTS = 1000;
/** Portals a session may hold at once: each holds a DuckDB connection. */
export const MAX_OPEN_PORTALS = 256;

export type StatementBody =
  | { kind: 'empty' }
  | { kind: 'command'; command: SessionCommand }
  | { kind: 'query'; text: string; tokens: Token[]; casts: ParameterCasts; verdict: Verdict; version: string };

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
  /** Whether the portal releases the lease (outside a block) or the block does. */
  ownsLease: boolean;
  conn: DuckDBConnection;
  prepared: DuckDBPreparedStatement;
  /** The open result, from the first Execute (or a Describe that needed its types) on. */
  cursor: ResultCursor | null;
}

export class Portal {
  /** The result was read to its end (or the command ran): a later Execute returns nothing. */
  done = false;
  /** Its RowDescription; null until the result is open when a column's type depends on a bound value. */
  fields: FieldDescription[] | null = null;

  constructor(
    readonly name: string,
    readonly statement: PreparedStatement,
    /** The columns as bound; a null type is known only once the result is open. */
    readonly columns: readonly ResultColumn[] | null,
    readonly formats: readonly FormatCode[],
    public run: PortalRun | null,
  ) {}

  /** Gives back the DuckDB side: the connection (and the statement and result on it), the lease. */
  release(): void {
    const run = this.run;
    this.run = null;
    if (!run) return;
    if (run.cursor && !this.done) run.conn.interrupt();
    run.conn.closeSync();
    if (run.ownsLease) run.tl.lease.release();
  }
}

const quoted = (kind: 'prepared statement' | 'portal', name: string) => (name === '' ? `unnamed ${kind}` : `${kind} "${name}"`);

export class StatementStore {
  private readonly map = new Map<string, PreparedStatement>();

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

  get(name: string): Portal {
    const p = this.map.get(name);
    if (!p) throw new PgError(SqlState.InvalidCursorName, `${quoted('portal', name)} does not exist`);
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
      throw new PgError(SqlState.ProgramLimitExceeded, `too many open portals (at most ${MAX_OPEN_PORTALS} per session)`, {
        hint: 'Close portals that are no longer needed.',
      });
    }
  }

  set(portal: Portal): void {
    this.map.set(portal.name, portal);
  }

  close(name: string): void {
    this.map.get(name)?.release();
    this.map.delete(name);
  }

  closeAll(): void {
    for (const p of this.map.values()) p.release();
    this.map.clear();
  }
}
