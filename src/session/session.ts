/**
 * One client connection after login: the protocol state machine. It answers session
 * commands itself, sends every other statement through the gate, and runs what the
 * gate returns on the tenant's instance. There is one error path (fail): it sends
 * the ErrorResponse, marks an open transaction block failed, and ends the Query.
 */
import type { Logger } from 'pino';
import { pgErrorFromDuckdb } from '../engine/errors.js';
import type { QuerySlots } from '../engine/querySlots.js';
import type { TenantEngine, TenantLease } from '../engine/tenantEngine.js';
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import type { Gate } from '../sql/gate.js';
import { splitStatements, type StatementText } from '../sql/lexer.js';
import { parseSessionCommand, type SessionCommand } from '../sql/sessionCommand.js';
import { BackendWriter, type TransactionStatus } from '../wire/backend.js';
import { FrontendType, readQuery } from '../wire/frontend.js';
import { ActiveQuery, streamSelect } from './resultStream.js';
import { SessionSettings, type ParameterChange } from './settings.js';
import { parseDuration } from './duration.js';

export interface SessionServices {
  gate: Gate;
  engine: TenantEngine;
  dataDir: string;
  maxQueryBytes: number;
  /** Live counters the gateway exposes (queries running now). */
  stats: { running: number };
  /** Caps how many queries each tenant runs at once. */
  slots: QuerySlots;
}

export interface SessionIdentity {
  tenantId: string;
  user: string;
  processId: number;
}

const EMPTY = new Uint8Array(0);

export class Session {
  readonly settings: SessionSettings;
  private tx: TransactionStatus = 'I';
  /** Settings at BEGIN, to return to on ROLLBACK. */
  private txSettings: ReadonlyMap<string, string> | null = null;
  private txLocal = new Set<string>();
  /** The snapshot a transaction block reads: one for the whole block. */
  private txLease: TenantLease | null = null;
  private active: ActiveQuery | null = null;
  /** Extended protocol: after an error, discard messages until Sync. */
  private skipUntilSync = false;
  /** Set when the connection must be closed after the current reply (FATAL, Terminate). */
  closing = false;

  constructor(
    private readonly services: SessionServices,
    readonly identity: SessionIdentity,
    startupParams: Record<string, string>,
    private readonly log: Logger,
  ) {
    this.settings = new SessionSettings(startupParams, identity.user);
  }

  get transactionStatus(): TransactionStatus {
    return this.tx;
  }

  /** Handles one frontend message; yields the bytes to send (at least one, possibly empty, chunk). */
  async *handle(msg: Uint8Array): AsyncGenerator<Uint8Array> {
    const type = msg[0];
    if (type === FrontendType.Query) {
      yield* this.simpleQuery(msg);
      return;
    }
    if (type === FrontendType.Sync) {
      this.skipUntilSync = false;
      yield new BackendWriter(16).readyForQuery(this.tx).take();
      return;
    }
    if (type === FrontendType.Flush) {
      yield EMPTY;
      return;
    }
    const known = Object.values(FrontendType) as number[];
    if (type !== undefined && known.includes(type)) {
      // Extended query, COPY and function-call messages are not served yet: one error,
      // then skip to Sync as PostgreSQL does, so the client stays in step.
      if (this.skipUntilSync) {
        yield EMPTY;
        return;
      }
      this.skipUntilSync = true;
      const w = new BackendWriter(256);
      this.writeError(w, new PgError(SqlState.FeatureNotSupported, 'the extended query protocol is not supported yet; use the simple query protocol'));
      yield w.take();
      return;
    }
    const w = new BackendWriter(256);
    this.writeError(
      w,
      new PgError(SqlState.ProtocolViolation, `invalid frontend message type ${type ?? -1}`, { severity: 'FATAL' }),
    );
    this.closing = true;
    yield w.take();
  }

  /** CancelRequest for this session: interrupt what runs now, if anything. */
  cancel(): void {
    this.active?.interrupt('cancel');
  }

  /** The client went away: stop its query, give back its snapshot. */
  close(): void {
    this.active?.interrupt('disconnect');
    this.endTransactionLease();
  }

  private async *simpleQuery(msg: Uint8Array): AsyncGenerator<Uint8Array> {
    const w = new BackendWriter();
    let current: StatementText | null = null;
    try {
      const text = readQuery(msg);
      await this.checkQuerySize(text);
      const statements = splitStatements(text);
      if (statements.length === 0) w.emptyQueryResponse();
      for (const st of statements) {
        current = st;
        yield* this.statement(st, w);
      }
      current = null;
    } catch (e) {
      this.fail(w, e, current?.offset ?? 0);
    }
    if (!this.closing) w.readyForQuery(this.tx);
    yield w.take();
  }

  /** The query text must fit the gateway's limit and the tenant's plan (parsing cost grows with size). */
  private async checkQuerySize(text: string): Promise<void> {
    const bytes = Buffer.byteLength(text);
    if (bytes <= 1024) return; // under every limit: no registry look-up
    const plan = await this.services.engine.plan(this.identity.tenantId);
    const limit = Math.min(this.services.maxQueryBytes, plan.maxQueryBytes);
    if (bytes > limit) {
      throw new PgError(
        SqlState.ProgramLimitExceeded,
        `query text is ${bytes} bytes; the limit is ${limit} bytes (plan ${plan.name})`,
      );
    }
  }

  private async *statement(st: StatementText, w: BackendWriter): AsyncGenerator<Uint8Array> {
    const cmd = parseSessionCommand(st.tokens, st.text);
    if (this.tx === 'E' && cmd?.kind !== 'rollback' && cmd?.kind !== 'commit') {
      throw new PgError(
        SqlState.InFailedSqlTransaction,
        'current transaction is aborted, commands ignored until end of transaction block',
      );
    }
    if (cmd) {
      this.sessionCommand(cmd, w);
      return;
    }
    const active = new ActiveQuery();
    this.active = active;
    const timeoutMs = parseDuration(this.settings.get('statement_timeout'), 'ms');
    const timer = timeoutMs > 0 ? setTimeout(() => active.interrupt('timeout'), timeoutMs) : null;
    const started = performance.now();
    let tl: TenantLease | null = null;
    let releaseSlot: (() => void) | null = null;
    try {
      // The lease first: what the tenant may read is a property of the data it reads.
      tl = this.txLease ?? (await this.services.engine.lease(this.identity.tenantId));
      if (this.tx === 'T') this.txLease = tl;
      const verdict = await this.services.gate.check(st.text, st.tokens, tl.context);
      active.throwIfInterrupted();
      releaseSlot = await this.services.slots.acquire(this.identity.tenantId, active.signal);
      active.throwIfInterrupted();
      const conn = await tl.lease.connect();
      active.conn = conn;
      let finished = false;
      this.services.stats.running++;
      try {
        const rows = yield* streamSelect(conn, verdict, w, active, {
          timeZone: this.settings.get('TimeZone'),
          extraFloatDigits: Number(this.settings.get('extra_float_digits')),
        });
        finished = true;
        this.log.info({ rows, ms: Math.round(performance.now() - started) }, 'query done');
      } finally {
        this.services.stats.running--;
        if (!finished) conn.interrupt();
        active.finish();
        conn.closeSync();
      }
    } catch (e) {
      active.throwIfInterrupted();
      throw e;
    } finally {
      releaseSlot?.();
      active.finish();
      if (timer) clearTimeout(timer);
      if (tl && tl !== this.txLease) tl.lease.release();
      this.active = null;
    }
  }

  private sessionCommand(cmd: SessionCommand, w: BackendWriter): void {
    switch (cmd.kind) {
      case 'set': {
        if (cmd.local && this.tx === 'I') {
          this.notice(w, SqlState.NoActiveSqlTransaction, 'SET LOCAL can only be used in transaction blocks');
        } else {
          const name = SessionSettings.canonicalName(cmd.name);
          if (name === 'statement_timeout' && cmd.value !== null) parseDuration(cmd.value, 'ms');
          this.report(w, [this.settings.set(cmd.name, cmd.value)]);
          if (cmd.local) this.txLocal.add(name);
        }
        w.commandComplete('SET');
        return;
      }
      case 'setTransaction':
        w.commandComplete('SET');
        return;
      case 'reset':
        this.report(w, cmd.name === 'ALL' ? this.settings.resetAll() : [this.settings.reset(cmd.name)]);
        w.commandComplete('RESET');
        return;
      case 'show': {
        const text = { tableOid: 0, columnAttr: 0, typeOid: 25, typeLen: -1, typeMod: -1, format: 0 as const };
        if (cmd.name === 'ALL') {
          w.rowDescription([
            { ...text, name: 'name' },
            { ...text, name: 'setting' },
            { ...text, name: 'description' },
          ]);
          for (const p of this.settings.all()) w.dataRow([p.name, p.setting, p.description]);
        } else {
          const value = this.settings.get(cmd.name);
          w.rowDescription([{ ...text, name: SessionSettings.showColumn(cmd.name) }]);
          w.dataRow([value]);
        }
        w.commandComplete('SHOW');
        return;
      }
      case 'begin':
        if (this.tx !== 'I') {
          this.notice(w, SqlState.ActiveSqlTransaction, 'there is already a transaction in progress');
        } else {
          this.tx = 'T';
          this.txSettings = this.settings.snapshot();
          this.txLocal.clear();
        }
        w.commandComplete(cmd.tag);
        return;
      case 'commit':
      case 'rollback': {
        if (this.tx === 'I') {
          this.notice(w, SqlState.NoActiveSqlTransaction, 'there is no transaction in progress');
          w.commandComplete(cmd.kind === 'commit' ? 'COMMIT' : 'ROLLBACK');
          return;
        }
        const failed = this.tx === 'E';
        this.endTransaction(w, cmd.kind === 'rollback' || failed);
        w.commandComplete(cmd.kind === 'commit' && !failed ? 'COMMIT' : 'ROLLBACK');
        return;
      }
      case 'discard':
        if (cmd.what === 'ALL') {
          if (this.tx !== 'I') {
            throw new PgError(SqlState.ActiveSqlTransaction, 'DISCARD ALL cannot run inside a transaction block');
          }
          this.report(w, this.settings.resetAll());
        }
        w.commandComplete(`DISCARD ${cmd.what}`);
        return;
    }
  }

  private endTransaction(w: BackendWriter, rollback: boolean): void {
    if (this.txSettings) {
      this.report(w, rollback ? this.settings.restore(this.txSettings) : this.settings.restore(this.txSettings, this.txLocal));
    }
    this.tx = 'I';
    this.txSettings = null;
    this.txLocal.clear();
    this.endTransactionLease();
  }

  private endTransactionLease(): void {
    this.txLease?.lease.release();
    this.txLease = null;
  }

  private report(w: BackendWriter, changes: (ParameterChange | null)[]): void {
    for (const c of changes) if (c) w.parameterStatus(c.name, c.value);
  }

  private notice(w: BackendWriter, code: string, message: string): void {
    w.noticeResponse({ severity: 'WARNING', code, message });
  }

  /** The one error path: ErrorResponse, a transaction block becomes failed, FATAL closes. */
  private fail(w: BackendWriter, e: unknown, offset: number): void {
    const err = pgErrorFromDuckdb(e, this.services.dataDir);
    if (err.code === SqlState.InternalError) {
      this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'internal error');
    } else {
      this.log.info({ sqlstate: err.code }, 'statement failed');
    }
    this.writeError(w, err, offset);
    if (this.tx === 'T') this.tx = 'E';
    if (err.severity === 'FATAL') this.closing = true;
  }

  private writeError(w: BackendWriter, err: PgError, offset = 0): void {
    w.errorResponse({
      severity: err.severity,
      code: err.code,
      message: err.message,
      detail: err.detail,
      hint: err.hint,
      position: err.position !== undefined ? err.position + offset : undefined,
    });
  }
}
