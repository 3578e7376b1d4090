/**
 * What a session is doing in DuckDB right now (a simple-protocol statement, or one Parse,
 * Bind, Describe or Execute message), for CancelRequest, statement_timeout and a client
 * that hangs up to interrupt. While it runs on the tenant's instance it holds one of the
 * tenant's query slots and one of the process's (QuerySlots); finish() gives everything back.
 *
 * It also applies the plan's rate quota (queriesPerMinute): before the slots, a step takes
 * a token of the tenant's bucket (waiting for the next one if it comes soon enough). The
 * token is spent when the step starts a query in DuckDB (countAsRunning) and given back
 * otherwise: Parse and Bind wait their turn like any step but do not count, so one query
 * counts once however the client sends it (simple Query; Parse, Bind, Execute; EXECUTE;
 * the first FETCH of a cursor; COPY).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { QuerySlots } from '../engine/querySlots.js';
import type { RateQuota } from '../engine/rateQuota.js';
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import { countLimitHit } from '../observability/metrics.js';
import { formatTimeout, type Plan } from '../tenants/plans.js';

/** "1 query", "60 queries". */
const queries = (n: number) => `${n} ${n === 1 ? 'query' : 'queries'}`;

/** Resolves after ms, or rejects with the signal's reason when it aborts first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export type InterruptReason = 'cancel' | 'timeout' | 'disconnect' | 'shutdown';

export class ActiveQuery {
  /** The connection to interrupt, while DuckDB works on it. */
  conn: DuckDBConnection | null = null;
  /** Why it was interrupted; null while it runs undisturbed. */
  reason: InterruptReason | null = null;

  private repeat: NodeJS.Timeout | null = null;
  private readonly timer: NodeJS.Timeout | null;
  private releaseSlot: (() => void) | null = null;
  /** A token of the tenant's rate quota taken for this step, not spent yet: given back at finish(). */
  private token: { rate: RateQuota; tenantId: string; perMinute: number } | null = null;
  /** The plan's statement timeout has been counted as a limit hit. */
  private timeoutCounted = false;
  private running: { running: number } | null = null;
  private readonly cleanups: (() => void)[] = [];
  private readonly aborter = new AbortController();
  /** The plan's statement timeout is the one in force (shorter than the session's, or the only one). */
  private readonly timeoutByPlan: boolean;

  /**
   * timeoutMs: the session's statement_timeout (0: none). plan: the tenant's plan as the
   * registry says now; its statement timeout caps the session's (a client may lower its
   * own with SET, never raise it above the plan's), and its result and concurrency limits
   * apply to this step. tenantId: whose step it is, for the limit-hit metrics (else
   * known from takeSlot).
   */
  constructor(
    timeoutMs = 0,
    readonly plan: Plan | null = null,
    private tenantId: string | null = null,
  ) {
    const planMs = plan?.statementTimeoutMs ?? 0;
    this.timeoutByPlan = planMs > 0 && (timeoutMs <= 0 || planMs < timeoutMs);
    const effective = this.timeoutByPlan ? planMs : timeoutMs;
    this.timer = effective > 0 ? setTimeout(() => this.interrupt('timeout'), effective) : null;
  }

  /** Aborted when the query is interrupted: for waits before it runs. */
  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  /**
   * Interrupts the query, and keeps interrupting every 50 ms until it has stopped: an
   * interrupt that lands while DuckDB is still preparing the query, before it runs, is
   * otherwise lost and the query runs to its end.
   */
  interrupt(reason: InterruptReason): void {
    if (this.reason === null) this.reason = reason;
    this.aborter.abort();
    this.conn?.interrupt();
    this.repeat ??= setInterval(() => this.conn?.interrupt(), 50);
  }

  /**
   * Waits for the plan's rate quota, then for one of the tenant's query slots and one of the
   * process's (abandoned on interrupt); held until finish().
   */
  async takeSlot(slots: QuerySlots, tenantId: string, opts: { rate?: boolean } = {}): Promise<void> {
    if (this.releaseSlot) return;
    this.tenantId ??= tenantId;
    this.throwIfInterrupted();
    try {
      const plan = this.plan;
      let waitMs = slots.waitMs;
      // A query counts against the rate once, when it starts: reading on from an open
      // result (a portal's next Execute, a cursor's next FETCH) takes a slot, not a token.
      if (opts.rate !== false && plan?.queriesPerMinute != null && slots.rate && !this.token) {
        const waited = await this.takeToken(slots.rate, tenantId, plan, waitMs);
        waitMs = Math.max(0, waitMs - waited);
      }
      this.releaseSlot = await slots.acquire(
        tenantId,
        this.signal,
        plan
          ? {
              limit: plan.maxConcurrentQueries,
              waitMs,
              busy: () => {
                countLimitHit(tenantId, 'concurrency');
                return new PgError(
                  SqlState.ConfigurationLimitExceeded,
                  `too many concurrent queries: plan ${plan.name} allows ${plan.maxConcurrentQueries} at once per tenant`,
                  { hint: 'Wait for a running query to finish, or cancel one, and try again.' },
                );
              },
              serverBusy: () => {
                countLimitHit(tenantId, 'server_busy');
                return new PgError(SqlState.ConfigurationLimitExceeded, 'the server is busy: too many queries are running at once', {
                  hint: 'Try again in a moment.',
                });
              },
            }
          : { waitMs },
      );
    } catch (e) {
      this.throwIfInterrupted();
      throw e;
    }
    this.throwIfInterrupted();
  }

  /**
   * Takes a token of the tenant's rate quota, waiting for it if it comes within maxWaitMs;
   * refuses the step with 53400 otherwise. Returns how long it waited.
   */
  private async takeToken(rate: RateQuota, tenantId: string, plan: Plan, maxWaitMs: number): Promise<number> {
    const perMinute = plan.queriesPerMinute!;
    const t = rate.take(tenantId, perMinute, maxWaitMs);
    if (!t.ok) {
      countLimitHit(tenantId, 'rate');
      throw new PgError(
        SqlState.ConfigurationLimitExceeded,
        `rate limit exceeded: plan ${plan.name} allows ${queries(perMinute)} per minute`,
        {
          hint: `The limit counts the queries of all the tenant's sessions; the next can run in about ${Math.ceil(t.retryInMs / 1000)} s.`,
        },
      );
    }
    this.token = { rate, tenantId, perMinute };
    if (t.waitMs > 0) await sleep(t.waitMs, this.signal);
    return t.waitMs;
  }

  /** Counts the query among those running in DuckDB (the gateway's live counter) until finish(). */
  countAsRunning(stats: { running: number }): void {
    // A query starts: the rate quota's token is spent.
    this.token = null;
    if (this.running) return;
    this.running = stats;
    stats.running++;
  }

  /** Runs `fn` at finish(), last deferred first: what the step holds goes back however it ends. */
  defer(fn: () => void): void {
    this.cleanups.push(fn);
  }

  /**
   * The query is over (finished, failed, stopped or suspended): no more interrupts, the
   * slot goes back, the deferred clean-ups run. Safe to call more than once.
   */
  finish(): void {
    this.conn = null;
    if (this.repeat) clearInterval(this.repeat);
    this.repeat = null;
    if (this.timer) clearTimeout(this.timer);
    for (let fn = this.cleanups.pop(); fn; fn = this.cleanups.pop()) fn();
    this.releaseSlot?.();
    this.releaseSlot = null;
    if (this.token) this.token.rate.giveBack(this.token.tenantId, this.token.perMinute);
    this.token = null;
    if (this.running) this.running.running--;
    this.running = null;
  }

  /** Throws the error PostgreSQL gives for an interrupted statement, if it was interrupted. */
  throwIfInterrupted(): void {
    if (this.reason === 'shutdown') {
      throw new PgError(SqlState.AdminShutdown, 'terminating connection due to administrator command', { severity: 'FATAL' });
    }
    if (this.reason === 'timeout') {
      const plan = this.plan;
      if (plan && this.timeoutByPlan && this.tenantId !== null && !this.timeoutCounted) {
        this.timeoutCounted = true;
        countLimitHit(this.tenantId, 'statement_timeout');
      }
      throw new PgError(
        SqlState.QueryCanceled,
        'canceling statement due to statement timeout',
        plan && this.timeoutByPlan
          ? { detail: `The statement timeout of plan ${plan.name} is ${formatTimeout(plan.statementTimeoutMs)}.` }
          : {},
      );
    }
    if (this.reason !== null) throw new PgError(SqlState.QueryCanceled, 'canceling statement due to user request');
  }
}
