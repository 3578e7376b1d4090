/**
 * How many queries one tenant may run in DuckDB at once (its plan's maxConcurrentQueries).
 * Each running query holds a thread of libuv's pool for as long as it runs, so without a
 * cap one tenant's endless queries could hold every thread and stall every other tenant.
 * Queries over the cap wait, in order, for one of the tenant's own to finish, for at most
 * QUEUE_WAIT_MS; then they fail (the caller's error: 53400).
 */
export const QUERIES_PER_TENANT = 3;

/** How long a query waits for one of its tenant's slots before it is refused. */
export const QUEUE_WAIT_MS = 2000;

export interface SlotRequest {
  /** The tenant's cap now (its plan's); default: the QuerySlots' own. */
  limit?: number;
  /** The error to fail with when no slot came free in time. */
  busy?: () => Error;
}

export class QuerySlots {
  private readonly running = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(
    private readonly perTenant = QUERIES_PER_TENANT,
    private readonly waitMs = QUEUE_WAIT_MS,
  ) {}

  /**
   * Resolves when the tenant may start a query; call the returned function when it ends.
   * An abort while waiting (cancel, timeout, hang-up) gives up the place and rejects.
   */
  async acquire(tenantId: string, signal?: AbortSignal, req: SlotRequest = {}): Promise<() => void> {
    signal?.throwIfAborted();
    const n = this.running.get(tenantId) ?? 0;
    if (n < (req.limit ?? this.perTenant)) {
      this.running.set(tenantId, n + 1);
    } else {
      // The slot is handed over by release(), so the count stays as it is.
      await new Promise<void>((resolve, reject) => {
        const q = this.waiting.get(tenantId) ?? [];
        const giveUp = (reason: unknown) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          const i = q.indexOf(waiter);
          if (i >= 0) q.splice(i, 1);
          if (q.length === 0 && this.waiting.get(tenantId) === q) this.waiting.delete(tenantId);
          reject(reason);
        };
        const onAbort = () => giveUp(signal!.reason);
        const timer = setTimeout(
          () => giveUp(req.busy ? req.busy() : new Error(`tenant ${tenantId} has no free query slot`)),
          this.waitMs,
        );
        const waiter = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        q.push(waiter);
        this.waiting.set(tenantId, q);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.release(tenantId);
    };
  }

  private release(tenantId: string): void {
    const q = this.waiting.get(tenantId);
    const next = q?.shift();
    if (q && q.length === 0) this.waiting.delete(tenantId);
    if (next) {
      next();
      return;
    }
    const n = (this.running.get(tenantId) ?? 1) - 1;
    if (n <= 0) this.running.delete(tenantId);
    else this.running.set(tenantId, n);
  }
}
