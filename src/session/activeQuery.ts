/**
 * What a session is doing in DuckDB right now (a simple-protocol statement, or one Parse,
 * Bind, Describe or Execute message), for CancelRequest, statement_timeout and a client
 * that hangs up to interrupt. While it runs on the tenant's instance it holds one of the
 * tenant's query slots (QuerySlots); finish() gives everything back.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { QuerySlots } from '../engine/querySlots.js';
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import { formatTimeout, type Plan } from '../tenants/plans.js';

export type InterruptReason = 'cancel' | 'timeout' | 'disconnect' | 'shutdown';

export class ActiveQuery {
  /** The connection to interrupt, while DuckDB works on it. */
  conn: DuckDBConnection | null = null;
  /** Why it was interrupted; null while it runs undisturbed. */
  reason: InterruptReason | null = null;

  private repeat: NodeJS.Timeout | null = null;
  private readonly timer: NodeJS.Timeout | null;
  private releaseSlot: (() => void) | null = null;
  private running: { running: number } | null = null;
  private readonly cleanups: (() => void)[] = [];
  private readonly aborter = new AbortController();
  /** The plan's statement timeout is the one in force (shorter than the session's, or the only one). */
  private readonly timeoutByPlan: boolean;

  /**
   * timeoutMs: the session's statement_timeout (0: none). plan: the tenant's plan as the
   * registry says now; its statement timeout caps the session's (a client may lower its
   * own with SET, never raise it above the plan's), and its result and concurrency limits
   * apply to this step.
   */
  constructor(
    timeoutMs = 0,
    readonly plan: Plan | null = null,
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

  /** Waits for one of the tenant's query slots (abandoned on interrupt); held until finish(). */
  async takeSlot(slots: QuerySlots, tenantId: string): Promise<void> {
    if (this.releaseSlot) return;
    this.throwIfInterrupted();
    try {
      const plan = this.plan;
      this.releaseSlot = await slots.acquire(
        tenantId,
        this.signal,
        plan
          ? {
              limit: plan.maxConcurrentQueries,
              busy: () =>
                new PgError(
                  SqlState.ConfigurationLimitExceeded,
                  `too many concurrent queries: plan ${plan.name} allows ${plan.maxConcurrentQueries} at once per tenant`,
                  { hint: 'Wait for a running query to finish, or cancel one, and try again.' },
                ),
            }
          : {},
      );
    } catch (e) {
      this.throwIfInterrupted();
      throw e;
    }
    this.throwIfInterrupted();
  }

  /** Counts the query among those running in DuckDB (the gateway's live counter) until finish(). */
  countAsRunning(stats: { running: number }): void {
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
