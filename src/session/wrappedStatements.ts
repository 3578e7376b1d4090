/**
 * The statements the session runs itself around a query, over either protocol: COPY ...
 * TO STDOUT (copyOut.ts), the SQL cursor statements (cursors.ts), and PREPARE, EXECUTE
 * and DEALLOCATE, the SQL face of the protocol's Parse, Bind/Execute and Close.
 *
 * Every query they wrap takes the path of the extended protocol (extendedQuery.ts): the
 * gate checks it and DuckDB prepares it at "Parse", it is bound to values on a connection
 * of its own at "Bind", and its rows are streamed from a portal, in a step that cancel,
 * statement_timeout and a hang-up interrupt, holding one of the tenant's query slots
 * while DuckDB works. Nothing here reaches DuckDB any other way.
 */
import type { ResultColumn } from '../engine/parameters.js';
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import type { CopyStatement, ExecuteArgument, InnerStatement, WrappedStatement } from '../sql/wrappedStatement.js';
import type { BackendWriter, FieldDescription } from '../wire/backend.js';
import { decodeParam, type ParamContext, type ParamValue } from '../wire/params.js';
import { pgTypeByName } from '../wire/pgTypes.js';
import { copyOut } from './copyOut.js';
import { closeCursor, declareCursor, fetchCursor, fetchFields } from './cursors.js';
import type { ExtendedQuery, ExtendedQueryHost } from './extendedQuery.js';
import { PreparedStatement, type StatementBody } from './portals.js';
import { describeFields, resultFormats } from './resultStream.js';

export interface WrappedContext {
  host: ExtendedQueryHost;
  ext: ExtendedQuery;
}

/** How a wrapped statement is run: by a simple Query, or by Execute of a portal. */
export interface WrappedRun {
  /** Send RowDescription before rows (the simple protocol; through Execute, the client used Describe). */
  describe: boolean;
  /** Parameter values (Bind's, or EXECUTE's); none for a simple Query. */
  values: ParamValue[];
  /** Bind's result format codes; null: the simple protocol's (text, or a BINARY cursor's binary). */
  formatCodes: number[] | null;
  /** DECLARE's query as Parse checked and typed it, if it was. */
  inner: PreparedStatement | null;
  /** How many EXECUTEs deep this runs (a statement Parse made of EXECUTE could name itself). */
  depth?: number;
}

/** How a simple Query runs a wrapped statement. */
export const SIMPLE_RUN: WrappedRun = { describe: true, values: [], formatCodes: null, inner: null };

type QueryBody = Extract<StatementBody, { kind: 'query' }>;

export function queryBody(p: PreparedStatement): QueryBody {
  if (p.body.kind !== 'query') throw PgError.internal('a wrapped statement must wrap a query');
  return p.body;
}

/**
 * An error about a wrapped query, placed in the client's statement: its position moves by
 * where the query starts; a query the gateway wrote itself (COPY of a table) has none.
 */
export function innerError(e: unknown, inner: InnerStatement): unknown {
  if (!(e instanceof PgError) || e.position === undefined) return e;
  const fields = { severity: e.severity, detail: e.detail, hint: e.hint };
  return new PgError(e.code, e.message, inner.generated ? fields : { ...fields, position: e.position + inner.offset });
}

const MAX_EXECUTE_DEPTH = 4;

export class WrappedStatements {
  private readonly ctx: WrappedContext;

  constructor(host: ExtendedQueryHost, ext: ExtendedQuery) {
    this.ctx = { host, ext };
  }

  /** Parse of a wrapped statement: DECLARE's query is checked and typed now, the others when they run. */
  async *prepare(name: string, stmt: WrappedStatement, declared: number[]): AsyncGenerator<Uint8Array, PreparedStatement> {
    const { host, ext } = this.ctx;
    if (stmt.kind === 'declare') {
      const inner = yield* host.step(async function* (active) {
        try {
          return yield* ext.prepare(active, '', stmt.query, declared);
        } catch (e) {
          throw innerError(e, stmt.query);
        }
      });
      return new PreparedStatement(name, { kind: 'wrapped', statement: stmt, inner }, inner.paramOids, null);
    }
    return new PreparedStatement(name, { kind: 'wrapped', statement: stmt, inner: null }, declared, null);
  }

  /**
   * The RowDescription of what the statement returns, in these formats, or null when it
   * returns no rows (Describe answers NoData): FETCH describes its cursor as it is now,
   * EXECUTE its prepared statement; COPY's rows go through the copy protocol.
   */
  fields(stmt: WrappedStatement, formatCodes: readonly number[], depth = 0): FieldDescription[] | null {
    const { ext } = this.ctx;
    if (stmt.kind === 'fetch') {
      const portal = stmt.move ? undefined : ext.portals.find(stmt.name);
      return portal ? fetchFields(portal, formatCodes) : null;
    }
    if (stmt.kind === 'execute') {
      const ps = ext.statements.find(stmt.name);
      if (!ps) return null;
      if (ps.body.kind === 'wrapped') return depth < MAX_EXECUTE_DEPTH ? this.fields(ps.body.statement, formatCodes, depth + 1) : null;
      const columns: readonly ResultColumn[] | null = ps.columns;
      return columns ? describeFields(columns, resultFormats(formatCodes, columns.length)) : null;
    }
    return null;
  }

  async *run(stmt: WrappedStatement, w: BackendWriter, how: WrappedRun): AsyncGenerator<Uint8Array> {
    switch (stmt.kind) {
      case 'copy':
        yield* this.copy(stmt, w);
        return;
      case 'declare':
        yield* declareCursor(this.ctx, stmt, w, how);
        return;
      case 'fetch':
        yield* fetchCursor(this.ctx, stmt, w, how);
        return;
      case 'close':
        closeCursor(this.ctx, stmt, w);
        return;
      case 'prepare':
        yield* this.prepareStatement(stmt, w);
        return;
      case 'execute':
        yield* this.execute(stmt, w, how);
        return;
      case 'deallocate':
        if (stmt.name === null) {
          this.ctx.ext.statements.clear();
          w.commandComplete('DEALLOCATE ALL');
        } else {
          this.ctx.ext.statements.get(stmt.name);
          this.ctx.ext.statements.delete(stmt.name);
          w.commandComplete('DEALLOCATE');
        }
        return;
    }
  }

  /** COPY ... TO STDOUT: the query through an unnamed portal of its own, its rows in COPY's format. */
  private async *copy(stmt: CopyStatement, w: BackendWriter): AsyncGenerator<Uint8Array> {
    const { host, ext } = this.ctx;
    const started = performance.now();
    const rows = yield* host.step(async function* (active) {
      let prepared: PreparedStatement;
      try {
        prepared = yield* ext.prepare(active, '', stmt.query, []);
      } catch (e) {
        throw innerError(e, stmt.query);
      }
      if (prepared.paramOids.length > 0) throw new PgError(SqlState.UndefinedParameter, 'there is no parameter $1');
      const binary = stmt.options.format === 'binary';
      const portal = yield* ext.bindQuery(active, '', prepared, queryBody(prepared), [], binary ? [1] : []);
      active.defer(() => portal.release());
      const cursor = yield* ext.open(active, portal);
      active.conn = portal.run!.conn;
      active.countAsRunning(host.services.stats);
      const n = yield* copyOut(cursor, stmt, w, active, host.settings.textFormat());
      portal.done = true;
      return n;
    });
    host.log.info({ rows, ms: Math.round(performance.now() - started) }, 'copy done');
  }

  /** PREPARE: a named statement, exactly as Parse makes one (the same namespace). */
  private async *prepareStatement(stmt: Extract<WrappedStatement, { kind: 'prepare' }>, w: BackendWriter): AsyncGenerator<Uint8Array> {
    const { host, ext } = this.ctx;
    ext.statements.checkFree(stmt.name);
    const oids = stmt.types.map((t) => {
      const type = pgTypeByName(t);
      if (!type) throw new PgError(SqlState.UndefinedObject, `type "${t}" does not exist`);
      return type.oid;
    });
    const prepared = yield* host.step(async function* (active) {
      try {
        return yield* ext.prepare(active, stmt.name, stmt.query, oids);
      } catch (e) {
        throw innerError(e, stmt.query);
      }
    });
    ext.statements.set(prepared);
    w.commandComplete('PREPARE');
  }

  /** EXECUTE: the statement bound to the constants given, as Bind binds values; its rows as a query's. */
  private async *execute(stmt: Extract<WrappedStatement, { kind: 'execute' }>, w: BackendWriter, how: WrappedRun): AsyncGenerator<Uint8Array> {
    const { host, ext } = this.ctx;
    const ps = ext.statements.get(stmt.name);
    const n = ps.paramOids.length;
    if (stmt.args.length !== n) {
      throw new PgError(SqlState.SyntaxError, `wrong number of parameters for prepared statement "${stmt.name}"`, {
        detail: `Expected ${n} parameters but got ${stmt.args.length}.`,
      });
    }
    const ctx: ParamContext = { timeZone: host.settings.get('TimeZone') };
    const values = stmt.args.map((a, i) => argumentValue(a, ps.paramOids[i]!, i + 1, ctx));
    const body = ps.body;
    switch (body.kind) {
      case 'empty':
        w.emptyQueryResponse();
        return;
      case 'command':
        host.runCommand(body.command, w, how.describe);
        return;
      case 'wrapped': {
        const depth = (how.depth ?? 0) + 1;
        if (depth > MAX_EXECUTE_DEPTH) throw new PgError(SqlState.StatementTooComplex, 'EXECUTE of EXECUTE nested too deeply');
        yield* this.run(body.statement, w, { ...how, values, inner: body.inner, depth });
        return;
      }
      case 'query': {
        const started = performance.now();
        const rows = yield* host.step(async function* (active) {
          const portal = yield* ext.bindQuery(active, '', ps, body, values, how.formatCodes ?? []);
          active.defer(() => portal.release());
          if (how.describe) {
            yield* ext.open(active, portal);
            w.rowDescription(portal.fields!);
          }
          return (yield* ext.read(active, portal, w, 0)).rows;
        });
        w.commandComplete(`SELECT ${rows}`);
        host.log.info({ rows, ms: Math.round(performance.now() - started) }, 'query done');
      }
    }
  }
}

/**
 * An EXECUTE parameter as the value Bind would get for it in text format: decoded by the
 * statement's parameter type, never written into SQL. A cast names a type that must exist;
 * the value takes the parameter's type, as PostgreSQL coerces it.
 */
function argumentValue(a: ExecuteArgument, oid: number, index: number, ctx: ParamContext): ParamValue {
  if (a.type !== null && !pgTypeByName(a.type)) throw new PgError(SqlState.UndefinedObject, `type "${a.type}" does not exist`);
  if (a.value === null) return { type: 'null' };
  return decodeParam(oid, 0, Buffer.from(a.value, 'utf8'), index, ctx);
}
