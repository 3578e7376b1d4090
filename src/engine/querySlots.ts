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

  /** Resolves when the tenant may start a query; call the returned function when it ends. */
  async acquire(tenantId: string): Promise<() => void> {
    const n = this.running.get(tenantId) ?? 0;
    if (n < this.perTenant) {
      this.running.set(tenantId, n + 1);
    } else {
      // The slot is handed over by release(), so the count stays as it is.
      await new Promise<void>((resolve) => {
        const q = this.waiting.get(tenantId) ?? [];
        q.push(resolve);
        this.waiting.set(tenantId, q);
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
