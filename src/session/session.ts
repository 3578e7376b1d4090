/**
 * One client connection after login: the protocol state machine. It serves the simple
 * Query protocol and the extended protocol (extendedQuery.ts), answers session commands
 * itself (sessionCommands.ts), runs COPY, cursors and PREPARE/EXECUTE around the queries
 * they wrap (wrappedStatements.ts), sends every other statement through the gate, and
 * runs what the gate returns on the tenant's instance.
 *
 * There is one error path (fail): it sends the ErrorResponse, marks an open transaction
 * block failed, and ends the Query; after an error in an extended-protocol message, every
 * message is discarded until Sync. Replies are written to one buffer and sent at Sync,
 * Flush, the end of a Query, an error, or whenever the buffer fills.
 */
import type { Logger } from 'pino';
import { pgErrorFromDuckdb } from '../engine/errors.js';
import type { QuerySlots } from '../engine/querySlots.js';
import type { TenantLease } from '../engine/tenantEngine.js';
import type { Plan } from '../tenants/plans.js';
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import type { SessionFacts } from '../sql/catalogRewrite.js';
import type { Gate } from '../sql/gate.js';
import { splitStatements, type StatementText, type Token } from '../sql/lexer.js';
import type { StatementObserver } from '../observability/statements.js';
import { parseSessionCommand, runsInFailedBlock, type SessionCommand } from '../sql/sessionCommand.js';
import { parseWrappedStatement } from '../sql/wrappedStatement.js';
import { BackendWriter, type TransactionStatus } from '../wire/backend.js';
import { FrontendType, hasValidLength, readExecute, readParse, readQuery } from '../wire/frontend.js';
import { ActiveQuery } from './activeQuery.js';
import { parseDuration } from './duration.js';
import { ExtendedQuery } from './extendedQuery.js';
import type { PreparedStatement } from './portals.js';
import { FLUSH_BYTES, streamSelect, streamedSql } from './resultStream.js';
import { runSessionCommand } from './sessionCommands.js';
import { SessionSettings } from './settings.js';
import { Transaction } from './transaction.js';
import { SIMPLE_RUN } from './wrappedStatements.js';

/**
 * What a session asks of the engine: its tenant's plan as the registry says now, a lease
 * on its current data, and a place among its plan's connections (TenantEngine; for the
 * admin database, AdminEngine).
 */
export interface SessionEngine {
  plan(tenantId: string): Promise<Plan>;
  lease(tenantId: string): Promise<TenantLease>;
  /** Whose memory limit the tenant's queries run under, in words ("the 256MB memory limit of plan free"). */
  memoryScope(tenantId: string): Promise<string>;
  admitSession(tenantId: string): Promise<() => void>;
}

/** What decides whether a statement may run, and what runs (Gate; for the admin, its read-only check). */
export type StatementGate = Pick<Gate, 'check'>;

export interface SessionServices {
  gate: StatementGate;
  engine: SessionEngine;
  dataDir: string;
  maxQueryBytes: number;
  /** Live counters the gateway exposes (queries running now). */
  stats: { running: number };
  /** Caps how many queries each tenant runs at once. */
  slots: QuerySlots;
  /** Told how every statement that reached the engine, or was refused, ended (query log, metrics). */
  observe?: StatementObserver | undefined;
}

export interface SessionIdentity {
  tenantId: string;
  user: string;
  /** The client's address, for the query log. */
  address?: string | undefined;
}

const EMPTY = new Uint8Array(0);

export class Session {
  readonly settings: SessionSettings;
  readonly tx: Transaction;
  private readonly extended: ExtendedQuery;
  /** Replies not sent yet. */
  private readonly out = new BackendWriter();
  private active: ActiveQuery | null = null;
  /** The active step is waiting for the socket to take its rows, not for DuckDB. */
  private parked = false;
  /** Extended protocol: after an error, discard messages until Sync. */
  private skipUntilSync = false;
  /** The process id this session was given in BackendKeyData (what pg_backend_pid() answers). */
  pid = 0;
  /** Set when the connection must be closed after the current reply (FATAL, Terminate). */
  closing = false;
  private closed = false;
  /** The text of each prepared statement, for the query log's record of its Executes. */
  private readonly statementTexts = new WeakMap<PreparedStatement, string>();

  constructor(
    readonly services: SessionServices,
    readonly identity: SessionIdentity,
    startupParams: Record<string, string>,
    readonly log: Logger,
  ) {
    this.settings = new SessionSettings(startupParams, identity.user);
    // Portals end with the transaction they were made in; cursors WITH HOLD outlive it.
    this.tx = new Transaction(this.settings, {
      end: (rollback) => this.extended.portals.endTransaction(rollback),
      mark: () => this.extended.portals.mark(),
      rollbackTo: (mark) => this.extended.portals.rollbackTo(mark),
    });
    this.extended = new ExtendedQuery(this);
  }

  get tenantId(): string {
    return this.identity.tenantId;
  }

  /** What a statement may read of this session (current_user, current_setting, pg_backend_pid). */
  facts(): SessionFacts & { key: string } {
    const settings = this.settings;
    return {
      user: this.identity.user,
      pid: this.pid,
      setting: (name) => {
        try {
          return settings.get(name);
        } catch {
          return undefined;
        }
      },
      key: `${this.pid}:${settings.generation}`,
    };
  }

  get transactionStatus(): TransactionStatus {
    return this.tx.status;
  }

  /** Handles one frontend message; yields the bytes to send (at least one, possibly empty, chunk). */
  async *handle(msg: Uint8Array): AsyncGenerator<Uint8Array> {
    if (this.closing) {
      yield EMPTY; // after a FATAL error nothing more is read
      return;
    }
    const type = msg[0];
    if (!hasValidLength(msg)) {
      yield* this.fatal('invalid message length');
      return;
    }
    switch (type) {
      case FrontendType.Sync: {
        // Outside a block, Sync ends the implicit transaction: rolled back if a message failed.
        const failed = this.skipUntilSync;
        this.skipUntilSync = false;
        this.extended.portals.close('');
        if (this.tx.status === 'I') this.extended.portals.endTransaction(failed);
        this.out.readyForQuery(this.tx.status);
        yield this.out.take();
        return;
      }
      case FrontendType.Flush:
        yield this.out.take();
        return;
      case FrontendType.CopyData:
      case FrontendType.CopyDone:
      case FrontendType.CopyFail:
        // Not in COPY: ignored, as PostgreSQL does (what is left of a COPY that failed).
        yield EMPTY;
        return;
    }
    if (this.skipUntilSync) {
      yield EMPTY;
      return;
    }
    switch (type) {
      case FrontendType.Query:
        yield* this.simpleQuery(msg);
        return;
      case FrontendType.FunctionCall:
        this.fail(this.out, new PgError(SqlState.FeatureNotSupported, 'the function call protocol is not supported'));
        this.out.readyForQuery(this.tx.status);
        yield this.out.take();
        return;
      case FrontendType.Parse:
      case FrontendType.Bind:
      case FrontendType.Describe:
      case FrontendType.Execute:
      case FrontendType.Close:
        yield* this.extendedMessage(type, msg);
        return;
      default:
        yield* this.fatal(`invalid frontend message type ${type ?? -1}`);
    }
  }

  private async *fatal(message: string): AsyncGenerator<Uint8Array> {
    this.fail(this.out, new PgError(SqlState.ProtocolViolation, message, { severity: 'FATAL' }));
    yield this.out.take();
  }

  private async *extendedMessage(type: number, msg: Uint8Array): AsyncGenerator<Uint8Array> {
    const w = this.out;
    try {
      if (type === FrontendType.Parse) yield* this.observedParse(msg, w);
      else if (type === FrontendType.Bind) yield* this.extended.bind(msg, w);
      else if (type === FrontendType.Describe) yield* this.extended.describe(msg, w);
      else if (type === FrontendType.Execute) yield* this.observedExecute(msg, w);
      else this.extended.close(msg, w);
    } catch (e) {
      this.fail(w, e);
      this.skipUntilSync = true;
      yield w.take(); // errors are sent at once, as PostgreSQL flushes them
      return;
    }
    yield w.length >= FLUSH_BYTES ? w.take() : EMPTY;
  }

  /** Parse: a refused statement is reported (a prepared one is reported at each Execute). */
  private async *observedParse(msg: Uint8Array, w: BackendWriter): AsyncGenerator<Uint8Array> {
    if (!this.services.observe) return yield* this.extended.parse(msg, w);
    const { statement, query } = readParse(msg);
    yield* this.observed(query, undefined, 'extended', w, this.extended.parse(msg, w), true);
    const prepared = this.extended.statements.get(statement);
    if (prepared.body.kind === 'query' || prepared.body.kind === 'wrapped') this.statementTexts.set(prepared, query);
  }

  /** Execute of a portal whose statement reaches the engine (a query, COPY, a cursor...). */
  private async *observedExecute(msg: Uint8Array, w: BackendWriter): AsyncGenerator<Uint8Array> {
    let text: string | undefined;
    let tokens: readonly Token[] | undefined;
    if (this.services.observe) {
      try {
        const stmt = this.extended.portals.get(readExecute(msg).portal).statement;
        text = this.statementTexts.get(stmt);
        if (stmt.body.kind === 'query') tokens = stmt.body.tokens;
      } catch {
        // No such portal: execute() says so; a statement that never ran is not reported.
      }
    }
    if (text === undefined) return yield* this.extended.execute(msg, w);
    yield* this.observed(text, tokens, 'extended', w, this.extended.execute(msg, w));
  }

  /**
   * The one place a statement's end is reported (services.observe): runs `body` and
   * reports its duration, rows (from the CommandComplete tag, else the DataRows sent),
   * the reply bytes sent, and how it ended (ok, error or cancelled, with the SQLSTATE).
   * `errorsOnly`: report only a failure (Parse).
   */
  private async *observed(
    text: string,
    tokens: readonly Token[] | undefined,
    protocol: 'simple' | 'extended',
    w: BackendWriter,
    body: AsyncGenerator<Uint8Array, void>,
    errorsOnly = false,
  ): AsyncGenerator<Uint8Array> {
    const observe = this.services.observe;
    if (!observe) return yield* body;
    const startedAt = Date.now();
    const started = performance.now();
    const pending = w.length;
    const rowsBefore = w.dataRows;
    w.lastTag = null;
    let sent = 0;
    let sqlstate: string = SqlState.SuccessfulCompletion;
    let limit: string | undefined;
    let ended = false;
    try {
      for (let r = await body.next(); !r.done; r = await body.next()) {
        sent += r.value.length;
        yield r.value;
      }
      ended = true;
    } catch (e) {
      ended = true;
      const err = pgErrorFromDuckdb(e, this.services.dataDir);
      sqlstate = err.code;
      limit = err.limit;
      throw e;
    } finally {
      if (!ended) {
        // Closed early (the client went away): close the body as yield* would, and count it cancelled.
        sqlstate = SqlState.QueryCanceled;
        await body.return(undefined).catch(() => undefined);
      }
      if (!errorsOnly || sqlstate !== SqlState.SuccessfulCompletion) {
        const tagged = w.lastTag !== null ? /(\d+)$/.exec(w.lastTag) : null;
        observe({
          tenant: this.identity.tenantId,
          user: this.identity.user,
          app: this.settings.get('application_name'),
          client: this.identity.address ?? '',
          text,
          tokens,
          protocol,
          startedAt,
          ms: performance.now() - started,
          rows: tagged ? Number(tagged[1]) : w.dataRows - rowsBefore,
          bytes: Math.max(0, sent + w.length - pending),
          outcome: sqlstate === SqlState.SuccessfulCompletion ? 'ok' : sqlstate === SqlState.QueryCanceled ? 'cancelled' : 'error',
          sqlstate,
          limit,
        });
      }
    }
  }

  /** CancelRequest for this session: interrupt what runs now, if anything. */
  cancel(): void {
    this.active?.interrupt('cancel');
  }

  /**
   * The server is shutting down and its grace period is over: interrupt what runs now;
   * it ends with FATAL 57P01 and the connection closes. False when nothing was running.
   */
  terminate(): boolean {
    if (!this.active) return false;
    this.active.interrupt('shutdown');
    return true;
  }

  /** The client went away: stop its query, give back its portals and snapshot. */
  close(): void {
    this.closed = true;
    const active = this.active;
    if (active) {
      active.interrupt('disconnect');
      // Waiting in DuckDB, the step ends soon and releases; parked at a write the socket
      // will never take, it may never resume: release now.
      if (!this.parked) return;
      active.finish();
    }
    this.releaseAll();
  }

  private releaseAll(): void {
    this.extended.portals.closeAll();
    this.tx.releaseLease();
  }

  /**
   * Runs one step of work on DuckDB: a simple-protocol statement, or a Parse, Bind,
   * Describe or Execute. CancelRequest, statement_timeout and the client hanging up
   * interrupt it; an error after an interrupt is reported as the interrupt (57014).
   */
  async *step<T>(body: (active: ActiveQuery) => AsyncGenerator<Uint8Array, T>): AsyncGenerator<Uint8Array, T> {
    // The plan as the registry says now: its limits (statement timeout, results, slots) apply to this step.
    const plan = await this.services.engine.plan(this.identity.tenantId);
    const active = new ActiveQuery(parseDuration(this.settings.get('statement_timeout'), 'ms'), plan, this.identity.tenantId);
    this.active = active;
    try {
      const it = body(active);
      for (let r = await it.next(); ; r = await it.next()) {
        if (r.done) return r.value;
        this.parked = true;
        yield r.value;
        this.parked = false;
      }
    } catch (e) {
      active.throwIfInterrupted();
      throw await this.outOfMemory(e);
    } finally {
      this.parked = false;
      active.finish();
      if (this.active === active) this.active = null;
      if (this.closed) this.releaseAll();
    }
  }

  /** DuckDB ran out of the memory the tenant's queries may use: 53200 naming that limit and whose it is. */
  private async outOfMemory(e: unknown): Promise<unknown> {
    if (e instanceof PgError) return e;
    const err = pgErrorFromDuckdb(e, this.services.dataDir);
    if (err.code !== SqlState.OutOfMemory) return e;
    const scope = await this.services.engine.memoryScope(this.identity.tenantId);
    return new PgError(SqlState.OutOfMemory, `out of memory: the query needs more than ${scope}`, {
      detail: err.message,
      hint: 'Aggregate or filter earlier, select fewer columns, or ask for a plan with more memory.',
      limit: 'memory',
    });
  }

  runCommand(cmd: SessionCommand, w: BackendWriter, rowDescription: boolean): void {
    runSessionCommand(cmd, w, this.settings, this.tx, rowDescription);
    if (cmd.kind === 'discard' && cmd.what === 'ALL') {
      // DISCARD ALL also closes every portal and prepared statement.
      this.extended.portals.closeAll();
      this.extended.statements.clear();
    }
  }

  private async *simpleQuery(msg: Uint8Array): AsyncGenerator<Uint8Array> {
    const w = this.out;
    let current: StatementText | null = null;
    let failed = false;
    // A simple Query uses (and so destroys) the unnamed statement and portal.
    this.extended.statements.delete('');
    this.extended.portals.close('');
    try {
      const text = readQuery(msg);
      yield* this.observed(text, undefined, 'simple', w, this.sizeChecked(text), true);
      const statements = splitStatements(text);
      if (statements.length === 0) w.emptyQueryResponse();
      for (const st of statements) {
        current = st;
        yield* this.statement(st, w);
      }
      current = null;
    } catch (e) {
      failed = true;
      this.fail(w, e, current?.offset ?? 0);
    }
    // Outside a block the Query was its own transaction: it ends here.
    if (this.tx.status === 'I') this.extended.portals.endTransaction(failed);
    if (!this.closing) w.readyForQuery(this.tx.status);
    yield w.take();
  }

  /** checkQuerySize as a step the query log sees: text refused for its size is reported. */
  private async *sizeChecked(text: string): AsyncGenerator<Uint8Array> {
    await this.checkQuerySize(text);
  }

  /** The query text must fit the gateway's limit and the tenant's plan (parsing cost grows with size). */
  async checkQuerySize(text: string): Promise<void> {
    const bytes = Buffer.byteLength(text);
    if (bytes <= 1024) return; // under every limit: no registry look-up
    const plan = await this.services.engine.plan(this.identity.tenantId);
    const limit = Math.min(this.services.maxQueryBytes, plan.maxQueryBytes);
    if (bytes > limit) {
      throw new PgError(
        SqlState.ProgramLimitExceeded,
        `query text is ${bytes} bytes; the limit is ${limit} bytes (plan ${plan.name})`,
        { limit: 'max_query_bytes' },
      );
    }
  }

  private async *statement(st: StatementText, w: BackendWriter): AsyncGenerator<Uint8Array> {
    const cmd = parseSessionCommand(st.tokens, st.text);
    if (cmd) {
      if (this.tx.status === 'E' && !runsInFailedBlock(cmd)) throw this.inFailedBlock();
      this.runCommand(cmd, w, true);
      return;
    }
    // Everything but a session command reaches the engine or is refused: it is reported.
    yield* this.observed(st.text, st.tokens, 'simple', w, this.engineStatement(st, w));
  }

  private inFailedBlock(): PgError {
    return new PgError(SqlState.InFailedSqlTransaction, 'current transaction is aborted, commands ignored until end of transaction block');
  }

  private async *engineStatement(st: StatementText, w: BackendWriter): AsyncGenerator<Uint8Array> {
    const wrapped = parseWrappedStatement(st.tokens, st.text);
    if (this.tx.status === 'E') throw this.inFailedBlock();
    if (wrapped) {
      yield* this.extended.wrapped.run(wrapped, w, SIMPLE_RUN);
      return;
    }
    yield* this.step((active) => this.runQuery(active, st, w));
  }

  private async *runQuery(active: ActiveQuery, st: StatementText, w: BackendWriter): AsyncGenerator<Uint8Array> {
    const started = performance.now();
    // The lease first: what the tenant may read is a property of the data it reads.
    const { tl, owned } = await this.tx.lease(this.services.engine, this.identity.tenantId);
    if (owned) active.defer(() => tl.lease.release());
    const verdict = await this.services.gate.check(st.text, st.tokens, tl.context, [], this.facts());
    await active.takeSlot(this.services.slots, this.identity.tenantId);
    const conn = await tl.lease.connect(streamedSql(verdict));
    let finished = false;
    active.defer(() => {
      if (!finished) conn.interrupt();
      // A connection kept for the next query must have ended this one cleanly.
      tl.lease.done(conn, finished && active.reason === null);
    });
    active.conn = conn;
    active.countAsRunning(this.services.stats);
    const rows = yield* streamSelect(conn, (sql) => tl.lease.prepare(conn, sql), verdict, w, active, this.settings.textFormat());
    finished = true;
    this.log.info({ rows, ms: Math.round(performance.now() - started) }, 'query done');
  }

  /** The one error path: ErrorResponse, a transaction block becomes failed, FATAL closes. */
  private fail(w: BackendWriter, e: unknown, offset = 0): void {
    w.dropUnfinished();
    const err = pgErrorFromDuckdb(e, this.services.dataDir);
    if (err.code === SqlState.InternalError) {
      this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'internal error');
    } else {
      this.log.info({ sqlstate: err.code }, 'statement failed');
    }
    w.errorResponse({
      severity: err.severity,
      code: err.code,
      message: err.message,
      detail: err.detail,
      hint: err.hint,
      position: err.position !== undefined ? err.position + offset : undefined,
    });
    this.tx.fail();
    if (err.severity === 'FATAL') this.closing = true;
  }
}
