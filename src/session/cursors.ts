/**
 * SQL cursors: DECLARE, FETCH, MOVE and CLOSE. A cursor is a portal (portals.ts), made by
 * the same steps as the protocol's Parse and Bind: its query is checked by the gate,
 * prepared on a DuckDB connection of its own, and its result streamed as FETCH asks for
 * rows; between FETCHes it holds its open result but none of the tenant's query slots.
 *
 * Cursors read forward only (DuckDB streams a result once): FETCH and MOVE go forward by
 * a count, to the end, or to a later row (ABSOLUTE, RELATIVE); going back is refused as
 * PostgreSQL refuses it for a NO SCROLL cursor (55000).
 */
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import type { FetchDirection, WrappedStatement } from '../sql/wrappedStatement.js';
import type { BackendWriter, FieldDescription } from '../wire/backend.js';
import type { Portal } from './portals.js';
import { dataRowWriter, describeFields, resultFormats, skipRows, type RowWriter } from './resultStream.js';
import { innerError, queryBody, type WrappedContext, type WrappedRun } from './wrappedStatements.js';

type Declare = Extract<WrappedStatement, { kind: 'declare' }>;
type Fetch = Extract<WrappedStatement, { kind: 'fetch' }>;
type Close = Extract<WrappedStatement, { kind: 'close' }>;

/** What a FETCH or MOVE does: skip rows, then read some (0: all the rest); or nothing, by a count of 0. */
export type FetchPlan = { skip: number; take: number } | { zero: true; onRow: boolean };

function backward(): PgError {
  return new PgError(SqlState.ObjectNotInPrerequisiteState, 'cursor can only scan forward', {
    hint: 'tenantgate cursors read their rows once, forward: FETCH NEXT, FORWARD n, ALL, or ABSOLUTE/RELATIVE to a later row.',
  });
}

/**
 * The plan of a FETCH or MOVE from where the cursor stands (`position` rows read,
 * `atEnd` once a read ran off the end), as PostgreSQL's PortalRunFetch moves a cursor
 * that cannot scan backward.
 */
export function planFetch(state: { position: number; atEnd: boolean }, dir: FetchDirection, move: boolean): FetchPlan {
  // A count of 0 re-reads the current row: possible only when the cursor is not on one.
  const onRow = state.position > 0 && !state.atEnd;
  const zero = (): FetchPlan => {
    if (onRow && !move) throw backward();
    return { zero: true, onRow };
  };
  switch (dir.kind) {
    case 'forward':
      if (dir.count === 0) return zero();
      return { skip: 0, take: dir.count === 'ALL' ? 0 : dir.count };
    case 'backward':
      if (dir.count === 0) return zero();
      throw backward();
    case 'relative':
      if (dir.offset === 0) return zero();
      if (dir.offset < 0) throw backward();
      return { skip: dir.offset - 1, take: 1 };
    case 'absolute': {
      const p = dir.position;
      if (p === 0) {
        // Back to before the first row: nothing to do when nothing was read yet.
        if (state.position === 0 && !state.atEnd) return { zero: true, onRow: false };
        throw backward();
      }
      if (p < 0) throw backward(); // from the end backward (LAST, ABSOLUTE -n)
      if (state.atEnd) {
        if (p > state.position + 1) return { skip: 0, take: 1 }; // past the end: no row
        throw backward();
      }
      if (p > state.position) return { skip: p - state.position - 1, take: 1 };
      throw backward();
    }
  }
}

/** DECLARE: a portal named as the cursor, holdable or not, its rows binary or text. */
export async function* declareCursor(ctx: WrappedContext, stmt: Declare, w: BackendWriter, how: WrappedRun): AsyncGenerator<Uint8Array> {
  const { host, ext } = ctx;
  if (!stmt.hold && host.tx.status === 'I') {
    throw new PgError(SqlState.NoActiveSqlTransaction, 'DECLARE CURSOR can only be used in transaction blocks');
  }
  ext.portals.makeRoom(stmt.name);
  const portal = yield* host.step(async function* (active) {
    let prepared = how.inner;
    if (!prepared) {
      try {
        prepared = yield* ext.prepare(active, '', stmt.query, []);
      } catch (e) {
        throw innerError(e, stmt.query);
      }
    }
    if (prepared.paramOids.length > how.values.length) {
      throw new PgError(SqlState.UndefinedParameter, `there is no parameter $${how.values.length + 1}`);
    }
    return yield* ext.bindQuery(active, stmt.name, prepared, queryBody(prepared), how.values, stmt.binary ? [1] : []);
  });
  portal.cursor = { holdable: stmt.hold, binary: stmt.binary };
  const run = portal.run!;
  // Declared in a block, a held cursor keeps reading the block's snapshot after COMMIT.
  if (stmt.hold && !run.releaseLease) run.releaseLease = host.tx.holdLease(run.tl);
  ext.portals.set(portal);
  w.commandComplete('DECLARE CURSOR');
}

/** The RowDescription FETCH from this portal sends in these formats, or null when it has no rows to describe. */
export function fetchFields(portal: Portal, formatCodes: readonly number[]): FieldDescription[] | null {
  if (!portal.columns) return null;
  const types = portal.run?.cursor?.types;
  const columns = types ? portal.columns.map((c, i) => ({ name: c.name, type: types[i] ?? c.type })) : portal.columns;
  return describeFields(columns, resultFormats(formatCodes, columns.length));
}

/**
 * FETCH (RowDescription over the simple protocol, the rows, "FETCH n") or MOVE ("MOVE n").
 * Over the simple protocol rows come in the cursor's formats (binary for a BINARY cursor);
 * through Execute, in the formats Bind asked for. A FETCH that fails closes the cursor.
 */
export async function* fetchCursor(ctx: WrappedContext, stmt: Fetch, w: BackendWriter, how: WrappedRun): AsyncGenerator<Uint8Array> {
  const { host, ext } = ctx;
  const portal = ext.portals.cursor(stmt.name);
  if (portal.statement.body.kind !== 'query' || !portal.columns) {
    throw new PgError(SqlState.ObjectNotInPrerequisiteState, `cursor "${stmt.name}" does not return rows`);
  }
  const plan = planFetch(portal, stmt.direction, stmt.move);
  const started = performance.now();
  let rows: number;
  try {
    rows = yield* host.step(async function* (active) {
      const opened = portal.done ? null : yield* ext.open(active, portal);
      let write: RowWriter | undefined;
      if (stmt.move) write = skipRows;
      else if (how.formatCodes !== null) {
        const fields = fetchFields(portal, how.formatCodes);
        if (opened && fields) write = dataRowWriter(opened.types, fields.map((f) => f.format), host.settings.textFormat());
      } else if (how.describe) w.rowDescription(portal.fields!);
      if ('zero' in plan) return stmt.move && plan.onRow ? 1 : 0;
      if (plan.skip > 0) yield* ext.read(active, portal, w, plan.skip, skipRows);
      return (yield* ext.read(active, portal, w, plan.take, write)).rows;
    });
  } catch (e) {
    ext.portals.close(portal.name);
    throw e;
  }
  w.commandComplete(`${stmt.move ? 'MOVE' : 'FETCH'} ${rows}`);
  if (!stmt.move) host.log.info({ rows, ms: Math.round(performance.now() - started) }, 'fetch done');
}

/** CLOSE a cursor (any portal, as in PostgreSQL), or CLOSE ALL. */
export function closeCursor(ctx: WrappedContext, stmt: Close, w: BackendWriter): void {
  const { portals } = ctx.ext;
  if (stmt.name === null) {
    portals.closeAll();
    w.commandComplete('CLOSE CURSOR ALL');
    return;
  }
  portals.cursor(stmt.name);
  portals.close(stmt.name);
  w.commandComplete('CLOSE CURSOR');
}
