/**
 * How many queries one tenant may run in DuckDB at once. Each running query holds a
 * thread of libuv's pool for as long as it runs, so without a cap one tenant's endless
 * queries could hold every thread and stall every other tenant. Queries over the cap
 * wait, in order, for one of the tenant's own to finish.
 */
export const QUERIES_PER_TENANT = 3;

export class QuerySlots {
  private readonly running = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(private readonly perTenant = QUERIES_PER_TENANT) {}

  /**
   * Resolves when the tenant may start a query; call the returned function when it ends.
   * An abort while waiting (cancel, timeout, hang-up) gives up the place and rejects.
   */
  async acquire(tenantId: string, signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    const n = this.running.get(tenantId) ?? 0;
    if (n < this.perTenant) {
      this.running.set(tenantId, n + 1);
    } else {
      // The slot is handed over by release(), so the count stays as it is.
      await new Promise<void>((resolve, reject) => {
        const q = this.waiting.get(tenantId) ?? [];
        const onAbort = () => {
          const i = q.indexOf(waiter);
          if (i >= 0) q.splice(i, 1);
          if (q.length === 0 && this.waiting.get(tenantId) === q) this.waiting.delete(tenantId);
          reject(signal!.reason);
        };
        const waiter = () => {
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
