/**
 * Which queries may run in DuckDB now. Each running query holds a thread of libuv's pool
 * for as long as it runs, so two caps apply:
 *
 * - per tenant, its plan's maxConcurrentQueries: without it one tenant's endless queries
 *   could hold every thread and stall every other tenant;
 * - over all tenants, the process's budget (config maxRunningQueries), kept below the
 *   size of libuv's pool so that file system, crypto (SCRAM) and DNS work always finds a
 *   thread (src/server/threadPool.ts).
 *
 * A query needs one of its tenant's slots, then one of the process's. It waits for the
 * first in its tenant's queue, in order. Holding it, it waits for the second in its
 * tenant's queue for the process's slots; a process slot that comes free goes to the
 * tenants waiting in turn (round robin), each tenant's queue in order, so a tenant with
 * many waiting queries cannot starve one with a single query: the tenant served goes to
 * the back of the turn. Both waits together last at most QUEUE_WAIT_MS; then the query
 * fails (the caller's errors: 53400).
 *
 * The rate quota (RateQuota, plan.queriesPerMinute) is kept here too, for the caller to
 * apply before it asks for a slot (ActiveQuery.takeSlot).
 */
import type { RateQuota } from './rateQuota.js';

/** The default cap of one tenant, when a request gives none (the plans give theirs). */
export const QUERIES_PER_TENANT = 3;

/** How long a query waits for slots (and for its rate quota) before it is refused. */
export const QUEUE_WAIT_MS = 2000;

export interface SlotRequest {
  /** The tenant's cap now (its plan's); default: the QuerySlots' own. */
  limit?: number;
  /** The error to fail with when none of the tenant's slots came free in time. */
  busy?: () => Error;
  /** The error to fail with when none of the process's slots came free in time. */
  serverBusy?: () => Error;
  /** How long to wait at most; default: the QuerySlots' own. */
  waitMs?: number;
}

export interface QuerySlotsOptions {
  /** The cap of a tenant whose request gives none. */
  perTenant?: number;
  /** Queries running at once over all tenants; default: no cap. */
  global?: number;
  /** The longest wait for slots. */
  waitMs?: number;
  /** The tenants' rate quotas, if they are enforced. */
  rate?: RateQuota | null;
}

/** A query waiting: for a tenant slot, then for a process slot. */
interface Waiter {
  /** The slot it waited for is its now (handed over by a release: the count stays). */
  grant(): void;
}

export class QuerySlots {
  readonly perTenant: number;
  readonly global: number;
  readonly waitMs: number;
  readonly rate: RateQuota | null;
  /** Tenant slots held, per tenant (by queries running and by queries waiting for a process slot). */
  private readonly running = new Map<string, number>();
  /** Queries waiting for one of their tenant's slots, per tenant, in order. */
  private readonly waiting = new Map<string, Waiter[]>();
  /** Process slots held. */
  private globalRunning = 0;
  /** Queries holding a tenant slot and waiting for a process slot: per tenant in order, tenants in turn order. */
  private readonly globalWaiting = new Map<string, Waiter[]>();

  constructor(opts: QuerySlotsOptions = {}) {
    this.perTenant = opts.perTenant ?? QUERIES_PER_TENANT;
    this.global = opts.global ?? Infinity;
    this.waitMs = opts.waitMs ?? QUEUE_WAIT_MS;
    this.rate = opts.rate ?? null;
  }

  /** Queries running now (holding a process slot). */
  get runningQueries(): number {
    return this.globalRunning;
  }

  /**
   * Resolves when the tenant may start a query; call the returned function when it ends.
   * An abort while waiting (cancel, timeout, hang-up) gives up the place and rejects.
   */
  async acquire(tenantId: string, signal?: AbortSignal, req: SlotRequest = {}): Promise<() => void> {
    signal?.throwIfAborted();
    return new Promise<() => void>((resolve, reject) => {
      let stage: 'tenant' | 'global' | 'done' = 'tenant';
      let timer: NodeJS.Timeout | null = null;
      const settle = () => {
        stage = 'done';
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const waitFor = (queues: Map<string, Waiter[]>) => {
        const q = queues.get(tenantId) ?? [];
        q.push(waiter);
        queues.set(tenantId, q);
        timer ??= setTimeout(() => giveUp(this.timeoutError(stage, tenantId, req)), req.waitMs ?? this.waitMs);
      };
      const enterGlobal = () => {
        stage = 'global';
        // A free process slot means no one waits for one (release hands them over).
        if (this.globalRunning < this.global) {
          this.globalRunning++;
          settle();
          resolve(this.releaser(tenantId));
        } else {
          waitFor(this.globalWaiting);
        }
      };
      const giveUp = (reason: unknown) => {
        if (stage === 'tenant') {
          remove(this.waiting, tenantId, waiter);
        } else if (stage === 'global') {
          remove(this.globalWaiting, tenantId, waiter);
          this.releaseTenant(tenantId);
        }
        settle();
        reject(reason);
      };
      const onAbort = () => giveUp(signal!.reason);
      const waiter: Waiter = {
        grant: () => {
          if (stage === 'tenant') {
            enterGlobal();
          } else if (stage === 'global') {
            settle();
            resolve(this.releaser(tenantId));
          }
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const n = this.running.get(tenantId) ?? 0;
      if (n < (req.limit ?? this.perTenant)) {
        this.running.set(tenantId, n + 1);
        enterGlobal();
      } else {
        waitFor(this.waiting);
      }
    });
  }

  private timeoutError(stage: 'tenant' | 'global' | 'done', tenantId: string, req: SlotRequest): Error {
    if (stage === 'global') return req.serverBusy ? req.serverBusy() : new Error('the server has no free query slot');
    return req.busy ? req.busy() : new Error(`tenant ${tenantId} has no free query slot`);
  }

  private releaser(tenantId: string): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.releaseGlobal();
      this.releaseTenant(tenantId);
    };
  }

  /** A process slot comes free: the first tenant in turn gets it for its oldest query and goes to the back. */
  private releaseGlobal(): void {
    for (const [tenantId, q] of this.globalWaiting) {
      const next = q.shift()!;
      this.globalWaiting.delete(tenantId);
      if (q.length > 0) this.globalWaiting.set(tenantId, q);
      next.grant();
      return;
    }
    this.globalRunning--;
  }

  /** One of the tenant's slots comes free: its oldest waiting query gets it. */
  private releaseTenant(tenantId: string): void {
    const q = this.waiting.get(tenantId);
    const next = q?.shift();
    if (q && q.length === 0) this.waiting.delete(tenantId);
    if (next) {
      next.grant();
      return;
    }
    const n = (this.running.get(tenantId) ?? 1) - 1;
    if (n <= 0) this.running.delete(tenantId);
    else this.running.set(tenantId, n);
  }
}

function remove(queues: Map<string, Waiter[]>, tenantId: string, waiter: Waiter): void {
  const q = queues.get(tenantId);
  if (!q) return;
  const i = q.indexOf(waiter);
  if (i >= 0) q.splice(i, 1);
  if (q.length === 0) queues.delete(tenantId);
}
