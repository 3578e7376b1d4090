// The physical limit: the same statements on the same snapshot files through
// @duckdb/node-api in one process, no network, no protocol, no gate. One READ_ONLY instance
// per tenant file with the plan's threads and memory (as the gateway opens them), or one
// instance of the shared database with the tenant filter written into the statement.
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import type { BenchTenant } from './data.js';
import { EXPORT_SQL, type BenchQuery } from './queries.js';
import type { Driver, Session } from './workloads.js';

export interface DuckTargetSpec {
  /** Database isolation: the snapshot file of each tenant id. */
  files?: Record<string, string>;
  /** Shared isolation: the shared database's snapshot file. */
  sharedFile?: string;
  threads: number;
  memoryLimit: string;
  /**
   * Statements running at once over all instances (the gateway's maxRunningQueries);
   * further ones wait their turn. Without it, a hundred clients on one instance run a
   * hundred statements at once, which DuckDB serves worse than a dozen.
   */
  maxRunning?: number;
}

/** A counting semaphore: at most `n` holders, the others wait in order. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(n: number) {
    this.free = n;
  }

  async take(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }
}

function bindable(v: string | number): DuckDBValue {
  return typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : v;
}

class DuckSession implements Session {
  private timeoutMs = 0;

  constructor(
    private readonly conn: DuckDBConnection,
    private readonly from: string,
    private readonly slots: Slots | null,
  ) {}

  private async guarded<T>(fn: () => Promise<T>): Promise<T> {
    await this.slots?.take();
    const timer = this.timeoutMs > 0 ? setTimeout(() => this.conn.interrupt(), this.timeoutMs) : null;
    try {
      return await fn();
    } finally {
      if (timer) clearTimeout(timer);
      this.slots?.give();
    }
  }

  run(q: BenchQuery, k: number, rows: number, rnd: () => number): Promise<number> {
    const params = q.params?.(k, rows, rnd)?.map(bindable);
    return this.guarded(async () => {
      const reader = await this.conn.runAndReadAll(q.sql(this.from), params);
      // Values as a client gets them: converted from DuckDB's vectors into JS values.
      return reader.getRows().length;
    });
  }

  exportAll(): Promise<number> {
    return this.guarded(async () => {
      const result = await this.conn.stream(EXPORT_SQL(this.from));
      let n = 0;
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        n += chunk.getRows().length;
      }
      return n;
    });
  }

  async setStatementTimeout(ms: number): Promise<void> {
    this.timeoutMs = ms;
  }

  async cancel(): Promise<void> {
    this.conn.interrupt();
  }

  async close(): Promise<void> {
    this.conn.closeSync();
  }
}

export class DuckDriver implements Driver {
  private readonly instances = new Map<string, Promise<DuckDBInstance>>();
  private readonly slots: Slots | null;

  constructor(private readonly spec: DuckTargetSpec) {
    this.slots = spec.maxRunning ? new Slots(spec.maxRunning) : null;
  }

  private instance(file: string): Promise<DuckDBInstance> {
    let p = this.instances.get(file);
    if (!p) {
      p = DuckDBInstance.create(file, {
        access_mode: 'READ_ONLY',
        threads: String(this.spec.threads),
        memory_limit: this.spec.memoryLimit,
      });
      this.instances.set(file, p);
    }
    return p;
  }

  async connect(t: BenchTenant): Promise<Session> {
    if (this.spec.sharedFile) {
      const conn = await (await this.instance(this.spec.sharedFile)).connect();
      return new DuckSession(conn, `(SELECT * EXCLUDE (tenant_id) FROM orders WHERE tenant_id = '${t.id}')`, this.slots);
    }
    const file = this.spec.files?.[t.id];
    if (!file) throw new Error(`no snapshot file for tenant ${t.id}`);
    return new DuckSession(await (await this.instance(file)).connect(), 'orders', this.slots);
  }

  async close(): Promise<void> {
    for (const p of this.instances.values()) (await p.catch(() => null))?.closeSync();
    this.instances.clear();
  }
}
