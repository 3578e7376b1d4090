/**
 * The extended query protocol: Parse, Bind, Describe, Execute and Close, as PostgreSQL
 * serves them (https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY).
 * Sync, Flush and the error path (ErrorResponse, then discard messages until Sync) are the
 * session's, shared with the simple protocol.
 *
 * - Parse checks the statement with the same gate as a simple query (session commands are
 *   answered by the gateway) and prepares the checked SQL on the tenant's instance, for
 *   DuckDB to say what its parameters and columns are. Errors surface at Parse.
 * - Bind decodes the parameter values by their types and binds them to the checked SQL,
 *   prepared again on a connection the portal keeps. Values are bound, never spliced.
 * - Execute streams the portal's rows up to the row limit, then PortalSuspended; the next
 *   Execute resumes where it stopped.
 *
 * The statements the session answers itself around a query (COPY, DECLARE, FETCH, MOVE,
 * CLOSE, PREPARE, EXECUTE, DEALLOCATE; wrappedStatements.ts) can be sent through these
 * messages too, as PostgreSQL allows; they run at Execute (COPY then enters the copy-out
 * sub-protocol, whatever the row limit), and their queries take the same prepare, bind
 * and read steps as any other.
 */
import type { DuckDBPreparedStatement } from '@duckdb/node-api';
import type { Logger } from 'pino';
import { bindParameter, parameterTypes, resultColumns, type ResultColumn } from '../engine/parameters.js';
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import { renameColumns, type ColumnNames } from '../sql/columnNames.js';
import { castKey, isNumericCast } from '../sql/parameterCasts.js';
import { splitStatements, type StatementText } from '../sql/lexer.js';
import { parseSessionCommand, runsInFailedBlock, type SessionCommand } from '../sql/sessionCommand.js';
import { parseWrappedStatement } from '../sql/wrappedStatement.js';
import type { BackendWriter } from '../wire/backend.js';
import { readBind, readExecute, readParse, readTarget } from '../wire/frontend.js';
import { castForDeclaredType, castForInferredType, castsForValues, decodeParam, type ParamValue } from '../wire/params.js';
import { PG_OID, pgFieldTypeFor } from '../wire/pgTypes.js';
import type { SessionFacts } from '../sql/catalogRewrite.js';
import type { ActiveQuery } from './activeQuery.js';
import { Portal, PortalStore, PreparedStatement, StatementStore, type StatementBody } from './portals.js';
import { describeFields, recheckSql, resultFormats, ResultCursor, withEndMarker, type EndMarker, type FormatCode, type RowWriter } from './resultStream.js';
import { commandColumns } from './sessionCommands.js';
import type { SessionServices } from './session.js';
import type { SessionSettings } from './settings.js';
import type { Transaction } from './transaction.js';
import { WrappedStatements } from './wrappedStatements.js';

/** What the extended protocol needs from its session. */
export interface ExtendedQueryHost {
  readonly services: SessionServices;
  readonly tenantId: string;
  readonly settings: SessionSettings;
  readonly tx: Transaction;
  readonly log: Logger;
  /** Runs work on DuckDB that CancelRequest, statement_timeout and a hang-up interrupt. */
  step<T>(body: (active: ActiveQuery) => AsyncGenerator<Uint8Array, T>): AsyncGenerator<Uint8Array, T>;
  runCommand(cmd: SessionCommand, w: BackendWriter, rowDescription: boolean): void;
  checkQuerySize(text: string): Promise<void>;
  facts(): SessionFacts & { key: string };
}

type QueryBody = Extract<StatementBody, { kind: 'query' }>;

function named(columns: ResultColumn[], names: ColumnNames): ResultColumn[] {
  const renamed = renameColumns(columns.map((c) => c.name), names);
  return columns.map((c, i) => ({ ...c, name: renamed[i]! }));
}

/** A statement with numeric parameters: some of its columns may take their scale from bound values. */
const hasNumericParams = (body: StatementBody): boolean => body.kind === 'query' && body.casts.some(isNumericCast);

export class ExtendedQuery {
  readonly statements = new StatementStore();
  readonly portals = new PortalStore();
  /** COPY, cursors, PREPARE/EXECUTE/DEALLOCATE. */
  readonly wrapped: WrappedStatements;

  constructor(private readonly host: ExtendedQueryHost) {
    this.wrapped = new WrappedStatements(host, this);
  }

  /** In a failed block only COMMIT and ROLLBACK run. */
  private refuseInFailedBlock(endsTransaction: boolean): void {
    if (this.host.tx.status === 'E' && !endsTransaction) {
      throw new PgError(SqlState.InFailedSqlTransaction, 'current transaction is aborted, commands ignored until end of transaction block');
    }
  }

  async *parse(msg: Uint8Array, w: BackendWriter): AsyncGenerator<Uint8Array> {
    const { statement: name, query, paramTypes } = readParse(msg);
    if (name === '') this.statements.delete(''); // replaced, even if this Parse fails
    else this.statements.checkFree(name);
    await this.host.checkQuerySize(query);
    const parts = splitStatements(query);
    if (parts.length > 1) throw new PgError(SqlState.SyntaxError, 'cannot insert multiple commands into a prepared statement');
    const st = parts[0];
    const command = st ? parseSessionCommand(st.tokens, st.text) : null;
    const wrapped = st && !command ? parseWrappedStatement(st.tokens, st.text) : null;
    this.refuseInFailedBlock(!st || runsInFailedBlock(command));
    let prepared: PreparedStatement;
    if (!st) prepared = new PreparedStatement(name, { kind: 'empty' }, paramTypes, null);
    else if (command) prepared = new PreparedStatement(name, { kind: 'command', command }, paramTypes, commandColumns(command));
    else if (wrapped) prepared = yield* this.wrapped.prepare(name, wrapped, paramTypes);
    else prepared = yield* this.host.step((active) => this.prepare(active, name, st, paramTypes));
    this.statements.set(prepared);
    w.parseComplete();
  }

  /** Gates the statement and asks DuckDB for the types of its parameters and columns. */
  async *prepare(active: ActiveQuery, name: string, st: StatementText, declared: number[]): AsyncGenerator<Uint8Array, PreparedStatement> {
    const { services, tenantId, tx } = this.host;
    const { tl, owned } = await tx.lease(services.engine, tenantId);
    if (owned) active.defer(() => tl.lease.release());
    let casts: (string | null)[] = declared.map(castForDeclaredType);
    let verdict = await services.gate.check(st.text, st.tokens, tl.context, casts, this.host.facts());
    await active.takeSlot(services.slots, tenantId);
    const conn = await tl.lease.connect(verdict.sql);
    let described = false;
    active.defer(() => tl.lease.done(conn, described && active.reason === null));
    active.conn = conn;
    let p = await tl.lease.prepare(conn, verdict.sql);
    active.throwIfInterrupted();
    let inferred = parameterTypes(p);
    // A parameter DuckDB cannot type is text, as PostgreSQL resolves an unknown one; one the
    // client left undeclared that DuckDB reads as a DECIMAL is numeric (castForInferredType).
    // Saying so in the SQL lets DuckDB type the columns that depend on it.
    const completed = inferred.map((t, i) => casts[i] ?? (t === null || !declared[i] ? castForInferredType(t) : null));
    if (completed.some((c, i) => c !== (casts[i] ?? null))) {
      casts = completed;
      verdict = await services.gate.check(st.text, st.tokens, tl.context, casts, this.host.facts());
      p = await tl.lease.prepare(conn, verdict.sql);
      active.throwIfInterrupted();
      // DuckDB does not always report the type of a cast parameter (one compared with a
      // DECIMAL column, say): the first reading stands then.
      const first = inferred;
      inferred = parameterTypes(p).map((t, i) => t ?? first[i] ?? null);
    }
    const oids = Array.from({ length: Math.max(declared.length, inferred.length) }, (_, i) => {
      const type = inferred[i];
      return declared[i] || (type ? pgFieldTypeFor(type).oid : PG_OID.text);
    });
    const body: QueryBody = { kind: 'query', text: st.text, tokens: st.tokens, casts, verdict, version: tl.context.version };
    const prepared = new PreparedStatement(name, body, oids, named(resultColumns(p, hasNumericParams(body)), verdict.columnNames));
    described = true;
    return prepared;
  }

  async *bind(msg: Uint8Array, w: BackendWriter): AsyncGenerator<Uint8Array> {
    const b = readBind(msg);
    const stmt = this.statements.get(b.statement);
    this.portals.makeRoom(b.portal);
    const n = stmt.paramOids.length;
    if (b.paramFormats.length > 1 && b.paramFormats.length !== b.values.length) {
      throw new PgError(SqlState.ProtocolViolation, `bind message has ${b.paramFormats.length} parameter formats but ${b.values.length} parameters`);
    }
    if (b.values.length !== n) {
      const which = stmt.name === '' ? 'unnamed prepared statement' : `prepared statement "${stmt.name}"`;
      throw new PgError(SqlState.ProtocolViolation, `bind message supplies ${b.values.length} parameters, but ${which} requires ${n}`);
    }
    for (const f of b.paramFormats) {
      if (f !== 0 && f !== 1) throw new PgError(SqlState.InvalidParameterValue, `unsupported format code: ${f}`);
    }
    this.refuseInFailedBlock(stmt.endsTransaction);
    const ctx = { timeZone: this.host.settings.get('TimeZone') };
    const format = (i: number) => (b.paramFormats.length === 0 ? 0 : b.paramFormats.length === 1 ? b.paramFormats[0]! : b.paramFormats[i]!);
    const values = b.values.map((v, i) => decodeParam(stmt.paramOids[i]!, format(i), v, i + 1, ctx));
    let portal: Portal;
    if (stmt.body.kind === 'query') {
      const body = stmt.body;
      portal = yield* this.host.step((active) => this.bindQuery(active, b.portal, stmt, body, values, b.resultFormats));
    } else if (stmt.body.kind === 'wrapped') {
      // Runs at Execute; its columns (FETCH's cursor, EXECUTE's statement) are known then.
      resultFormats(b.resultFormats, b.resultFormats.length);
      portal = new Portal(b.portal, stmt, null, [], null);
      portal.bound = { values, formatCodes: b.resultFormats };
    } else {
      const formats = resultFormats(b.resultFormats, stmt.columns?.length ?? 0);
      portal = new Portal(b.portal, stmt, stmt.columns, formats, null);
      portal.fields = stmt.columns ? describeFields(stmt.columns, formats) : null;
    }
    this.portals.set(portal);
    w.bindComplete();
  }

  /**
   * The statement's checked SQL, prepared on a connection of the portal's own, with the
   * values bound. The verdict is the one made at Parse, unless the tenant's data has
   * changed since (a new snapshot): what a tenant may read is a property of the data,
   * so the same text is checked again against the data it will read.
   */
  async *bindQuery(
    active: ActiveQuery,
    name: string,
    stmt: PreparedStatement,
    body: QueryBody,
    values: ParamValue[],
    formatCodes: number[],
  ): AsyncGenerator<Uint8Array, Portal> {
    const { services, tenantId, tx } = this.host;
    const { tl, owned } = await tx.lease(services.engine, tenantId);
    let handedOver = false;
    if (owned) {
      active.defer(() => {
        if (!handedOver) tl.lease.release();
      });
    }
    // A statement that read session values (current_setting...) is checked again: they may
    // have changed; and so is one whose casts follow the values bound (castsForValues).
    const casts = castsForValues(body.casts, values);
    const verdict =
      tl.context.version === body.version && !body.verdict.sessionDependent && castKey(casts) === castKey(body.casts)
        ? body.verdict
        : await services.gate.check(body.text, body.tokens, tl.context, casts, this.host.facts());
    await active.takeSlot(services.slots, tenantId);
    // What runs carries an end marker (resultStream.ts withEndMarker). Its column count is
    // the statement's, as Parse found it; where that is unknown, or the marked statement
    // does not type, the statement runs unmarked.
    const known = stmt.columns?.every((c) => c.type !== null) ? stmt.columns.length : null;
    const markedSql = known !== null ? withEndMarker(verdict.sql, known) : null;
    const conn = await tl.lease.connect(markedSql ?? verdict.sql);
    active.defer(() => {
      if (!handedOver) tl.lease.done(conn, false);
    });
    active.conn = conn;
    const numericParams = hasNumericParams(body);
    // Statements come from the connection's own (Lease.prepare), kept for later queries.
    const bindAll = async (sql: string) => {
      const p = await tl.lease.prepare(conn, sql);
      active.throwIfInterrupted();
      const count = parameterTypes(p).length;
      if (count > values.length) {
        throw new PgError(SqlState.ProtocolViolation, `bind message supplies ${values.length} parameters, but the statement now requires ${count}`);
      }
      // Parameters beyond those the text uses were declared by the client and are not bound.
      for (let i = 0; i < count; i++) bindParameter(p, i + 1, values[i]!);
      return p;
    };
    let run: DuckDBPreparedStatement | null = null;
    let resolved: ResultColumn[] = [];
    if (known !== null && markedSql !== null) {
      const marked = await bindAll(markedSql).catch(() => null);
      const cols = marked ? resultColumns(marked, numericParams) : [];
      if (marked && cols.length === known + 1 && cols.every((c) => c.type !== null)) {
        run = marked;
        resolved = cols.slice(0, known);
      }
    }
    const endMarker: EndMarker | undefined = run
      ? { recheck: async () => void (await (await bindAll(recheckSql(verdict.sql))).run()) }
      : undefined;
    if (!run) {
      run = await bindAll(verdict.sql);
      resolved = resultColumns(run, numericParams);
    }
    const columns = named(resolved, verdict.columnNames);
    const formats = resultFormats(formatCodes, columns.length);
    // Refuses a binary format a column's type lacks; a column typed only by a bound value
    // is checked when the result opens.
    const fields = describeFields(columns, formats);
    const releaseLease = owned ? () => tl.lease.release() : null;
    const portal = new Portal(name, stmt, columns, formats, { tl, releaseLease, conn, prepared: run, endMarker, cursor: null });
    handedOver = true;
    portal.fields = columns.every((c) => c.type !== null) ? fields : null;
    return portal;
  }

  async *describe(msg: Uint8Array, w: BackendWriter): AsyncGenerator<Uint8Array> {
    const { kind, name } = readTarget(msg, 'DESCRIBE');
    if (kind === 'S') {
      const stmt = this.statements.get(name);
      if (stmt.columns) this.refuseInFailedBlock(stmt.endsTransaction);
      w.parameterDescription(stmt.paramOids);
      const fields = stmt.body.kind === 'wrapped' ? this.wrapped.fields(stmt.body.statement, []) : stmt.columns && describeFields(stmt.columns, []);
      if (fields) w.rowDescription(fields);
      else w.noData();
      return;
    }
    const portal = this.portals.get(name);
    if (portal.statement.body.kind === 'wrapped') {
      const fields = this.wrapped.fields(portal.statement.body.statement, portal.bound?.formatCodes ?? []);
      if (fields) w.rowDescription(fields);
      else w.noData();
      return;
    }
    if (!portal.columns) {
      w.noData();
      return;
    }
    this.refuseInFailedBlock(portal.statement.endsTransaction);
    // A column typed only by a bound value: the result must be open to know its type.
    if (!portal.fields) yield* this.host.step((active) => this.open(active, portal));
    w.rowDescription(portal.fields!);
  }

  async *execute(msg: Uint8Array, w: BackendWriter): AsyncGenerator<Uint8Array> {
    const { portal: name, maxRows } = readExecute(msg);
    const portal = this.portals.get(name);
    this.refuseInFailedBlock(portal.statement.endsTransaction);
    const body = portal.statement.body;
    if (body.kind === 'empty') {
      w.emptyQueryResponse();
      return;
    }
    if (body.kind === 'command') {
      if (portal.done) throw new PgError(SqlState.ObjectNotInPrerequisiteState, `portal "${name}" cannot be run`);
      portal.done = true;
      this.host.runCommand(body.command, w, false);
      return;
    }
    if (body.kind === 'wrapped') {
      if (portal.done) throw new PgError(SqlState.ObjectNotInPrerequisiteState, `portal "${name}" cannot be run`);
      portal.done = true;
      const bound = portal.bound ?? { values: [], formatCodes: [] };
      yield* this.wrapped.run(body.statement, w, { describe: false, values: bound.values, formatCodes: bound.formatCodes, inner: body.inner });
      return;
    }
    if (portal.done) {
      w.commandComplete('SELECT 0');
      return;
    }
    try {
      yield* this.host.step((active) => this.fetch(active, portal, w, maxRows));
    } catch (e) {
      this.portals.close(portal.name); // a portal whose Execute failed cannot run again
      throw e;
    }
  }

  /** Opens the portal's result (its query starts running in DuckDB). */
  async *open(active: ActiveQuery, portal: Portal): AsyncGenerator<Uint8Array, ResultCursor> {
    const run = portal.run;
    if (!run) throw PgError.internal(`portal "${portal.name}" has no query to run`);
    if (run.cursor) return run.cursor;
    await active.takeSlot(this.host.services.slots, this.host.tenantId);
    active.conn = run.conn;
    active.countAsRunning(this.host.services.stats);
    const result = await run.prepared.stream();
    active.throwIfInterrupted();
    // Columns DuckDB could not type before the values were bound are known only now.
    const body = portal.statement.body;
    const names =
      result.columnCount === portal.columns!.length || body.kind !== 'query'
        ? portal.columns!.map((c) => c.name)
        : renameColumns(result.columnNames(), body.verdict.columnNames);
    const formats: FormatCode[] = [...portal.formats];
    run.cursor = new ResultCursor(result, names, formats, this.host.settings.textFormat(), hasNumericParams(portal.statement.body), run.endMarker);
    portal.fields = run.cursor.fields;
    return run.cursor;
  }

  /**
   * Reads up to maxRows rows (0: all the rest) of the portal's result, from where the last
   * read stopped, with `write` (DataRows in the portal's formats unless told otherwise),
   * and keeps the portal's position for FETCH and MOVE. At the end of its result the
   * portal gives back its DuckDB side and stays, done.
   */
  async *read(active: ActiveQuery, portal: Portal, w: BackendWriter, maxRows: number, write?: RowWriter): AsyncGenerator<Uint8Array, { rows: number; done: boolean }> {
    if (portal.done) {
      portal.atEnd = true;
      return { rows: 0, done: true };
    }
    const cursor = yield* this.open(active, portal);
    // Reading on from a result opened by an earlier step is DuckDB work too: it holds a
    // slot of the tenant's and of the server's like any query (not a rate token).
    await active.takeSlot(this.host.services.slots, this.host.tenantId, { rate: false });
    active.conn = portal.run!.conn;
    active.countAsRunning(this.host.services.stats);
    const r = yield* cursor.fetch(w, active, maxRows, write);
    portal.position += r.rows;
    if (r.done) {
      portal.atEnd = true;
      portal.done = true;
      portal.release();
    }
    return r;
  }

  private async *fetch(active: ActiveQuery, portal: Portal, w: BackendWriter, maxRows: number): AsyncGenerator<Uint8Array> {
    const started = performance.now();
    const { rows, done } = yield* this.read(active, portal, w, maxRows);
    if (!done) {
      w.portalSuspended();
      return;
    }
    w.commandComplete(`SELECT ${rows}`);
    this.host.log.info({ rows, ms: Math.round(performance.now() - started) }, 'query done');
  }

  close(msg: Uint8Array, w: BackendWriter): void {
    const { kind, name } = readTarget(msg, 'CLOSE');
    // Closing what does not exist is not an error (PostgreSQL).
    if (kind === 'S') this.statements.delete(name);
    else this.portals.close(name);
    w.closeComplete();
  }
}
