/**
 * Connections of one DuckDB instance, kept between queries with their prepared
 * statements. Preparing is most of what a small query costs (measured here: a SELECT
 * through a new connection and DuckDB's parser and planner ~1 ms; the same statement
 * prepared once and run again ~0.4 ms), so a connection that ended its query cleanly
 * goes back to its instance's pool, and each keeps the statements it prepared, by SQL.
 *
 * Nothing a tenant runs can leave state on a connection: its instance is read-only with
 * the configuration locked, and the gate lets only SELECT-type statements through. A
 * connection whose query failed or was interrupted is closed, never reused.
 */
import type { DuckDBConnection, DuckDBInstance, DuckDBPreparedStatement } from '@duckdb/node-api';
import type { Lease } from './instances.js';

/** Idle connections kept per instance. */
export const MAX_IDLE_CONNECTIONS = 8;

/**
 * Prepared statements kept per connection, least recently used dropped first. The shared
 * instance sees each statement once per tenant (the tenant's id is in its text), so this
 * is sized for many tenants' dashboards rather than one's.
 */
export const MAX_STATEMENTS_PER_CONNECTION = 128;

const statements = new WeakMap<DuckDBConnection, Map<string, DuckDBPreparedStatement>>();

/**
 * `conn`'s prepared statement for `sql`, made once and kept with the connection (closing
 * the connection destroys it). The caller binds and runs it; it must not destroy it.
 */
export async function preparedFor(conn: DuckDBConnection, sql: string): Promise<DuckDBPreparedStatement> {
  let cache = statements.get(conn);
  if (!cache) {
    cache = new Map();
    statements.set(conn, cache);
  }
  const kept = cache.get(sql);
  if (kept) {
    cache.delete(sql);
    cache.set(sql, kept);
    return kept;
  }
  const p = await conn.prepare(sql);
  cache.set(sql, p);
  if (cache.size > MAX_STATEMENTS_PER_CONNECTION) {
    const [oldest, stmt] = cache.entries().next().value!;
    cache.delete(oldest);
    stmt.destroySync();
  }
  return p;
}

export class ConnectionPool {
  private readonly idle: DuckDBConnection[] = [];
  /** Every connection of the instance, in use or idle. */
  private readonly all = new Set<DuckDBConnection>();
  private closed = false;

  constructor(private readonly instance: DuckDBInstance) {}

  /**
   * A connection for a query: an idle one that has `sql` prepared already if there is one
   * (statements stay on the connections that ran them), else the last one given back,
   * else a new one.
   */
  async take(sql?: string): Promise<DuckDBConnection> {
    if (this.closed) throw new Error('the instance is closed');
    let at = this.idle.length - 1;
    if (sql !== undefined) {
      for (let i = at; i >= 0; i--) {
        if (statements.get(this.idle[i]!)?.has(sql)) {
          at = i;
          break;
        }
      }
    }
    const conn = at >= 0 ? this.idle.splice(at, 1)[0]! : await this.instance.connect();
    this.all.add(conn);
    return conn;
  }

  /** A connection's query is over: kept if `reusable` and there is room, else closed. */
  give(conn: DuckDBConnection, reusable: boolean): void {
    if (!this.all.has(conn)) return;
    if (reusable && !this.closed && this.idle.length < MAX_IDLE_CONNECTIONS) {
      this.idle.push(conn);
      return;
    }
    this.all.delete(conn);
    conn.closeSync();
  }

  /** Closes every connection (in use or not): before the instance closes. */
  close(): void {
    this.closed = true;
    for (const c of this.all) c.closeSync();
    this.all.clear();
    this.idle.length = 0;
  }
}

/**
 * A lease on an instance whose connections come from `pool`: connections taken for this
 * lease's queries are given back with done(); release() closes any still out, then tells
 * the instance's owner (once).
 */
export function poolLease(fields: Pick<Lease, 'owner' | 'key' | 'tables' | 'meta'>, pool: ConnectionPool, onRelease: () => void): Lease {
  let released = false;
  const mine = new Set<DuckDBConnection>();
  return {
    ...fields,
    connect: async (sql) => {
      if (released) throw new Error('lease already released');
      const conn = await pool.take(sql);
      mine.add(conn);
      return conn;
    },
    prepare: preparedFor,
    done: (conn, reusable) => {
      if (mine.delete(conn)) pool.give(conn, reusable);
    },
    release: () => {
      if (released) return;
      released = true;
      for (const c of mine) pool.give(c, false);
      mine.clear();
      onRelease();
    },
  };
}
