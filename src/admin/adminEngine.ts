/**
 * The admin database: what the operator's admin credential reads, through the same
 * PostgreSQL protocol, sessions and limits as a tenant. One DuckDB instance that holds
 *
 *   - every tenant's current snapshot, attached READ_ONLY under the tenant's id
 *     (`SELECT * FROM acme.orders`), and the shared database unfiltered as `shared`;
 *   - schema `all_tenants`: for every table name, a view of all tenants' rows of it with
 *     a tenant_id column (`SELECT tenant_id, sum(amount) FROM all_tenants.orders GROUP BY 1`);
 *   - the registry as tables (`tenants`, `users`, `plans`, `time_columns`; never a
 *     verifier) and the query log as table `queries`.
 *
 * It is written into a file of its own, then opened READ_ONLY, the snapshots attached
 * READ_ONLY through hard links in its folder (a snapshot superseded meanwhile stays
 * readable), file access switched off and the configuration locked: nothing the admin
 * runs can change any data. The gate lets only single SELECT-type statements through
 * (Gate.checkReadOnly). No tenant can log in to it: the database name is a reserved
 * tenant id and only admin credentials open it.
 *
 * The instance is rebuilt when the registry changes, and at most every REFRESH_MS for
 * the query log; a transaction block keeps reading the one it started with.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { Logger } from 'pino';
import { ConnectionPool, poolLease } from '../engine/connections.js';
import type { Lease } from '../engine/instances.js';
import type { TenantLease } from '../engine/tenantEngine.js';
import { QUERY_LOG_FILE } from '../observability/queryLog.js';
import { quoteIdent, quoteLiteral } from '../sql/quote.js';
import type { LiveRegistry } from '../tenants/liveRegistry.js';
import { ADMIN_DATABASE } from '../tenants/ids.js';
import { allPlans, DEFAULT_PLANS, type Plan } from '../tenants/plans.js';
import type { RegistryData } from '../tenants/registry.js';

export { ADMIN_DATABASE };

/** The admin's limits: the enterprise plan's, named so that errors say whose they are. */
export const ADMIN_PLAN: Plan = Object.freeze({ ...DEFAULT_PLANS.enterprise!, name: 'admin' });

/** How stale the admin's copy of the query log may get while the registry does not change. */
export const REFRESH_MS = 10_000;

/** The schema of per-table views over every tenant's rows. */
export const ALL_TENANTS_SCHEMA = 'all_tenants';

const QUERY_COLUMNS =
  "{time: 'TIMESTAMPTZ', tenant: 'VARCHAR', user: 'VARCHAR', app: 'VARCHAR', client: 'VARCHAR', " +
  "fingerprint: 'VARCHAR', text: 'VARCHAR', truncated: 'BOOLEAN', protocol: 'VARCHAR', ms: 'DOUBLE', " +
  "rows: 'BIGINT', bytes: 'BIGINT', outcome: 'VARCHAR', sqlstate: 'VARCHAR'}";

interface Source {
  /** Catalog name: a tenant id, or `shared`. */
  alias: string;
  snapshot: string;
}

interface Built {
  key: string;
  builtAt: number;
  dir: string;
  instance: DuckDBInstance;
  refs: number;
  superseded: boolean;
  pool: ConnectionPool;
}

export class AdminEngine {
  private current: { key: string; built: Promise<Built> } | null = null;
  private readonly all = new Set<Built>();
  private closed = false;

  constructor(
    private readonly opts: {
      live: LiveRegistry;
      /** Where the admin database's folders go (the gateway's temp root). */
      tempRoot: string;
      /** The query log's folder; null when there is no query log. */
      queryLogDir: string | null;
      logger: Logger;
      refreshMs?: number;
    },
  ) {}

  /** The admin has no registered tenant: its plan is ADMIN_PLAN, always. */
  async plan(_tenantId?: string): Promise<Plan> {
    return ADMIN_PLAN;
  }

  async memoryScope(_tenantId?: string): Promise<string> {
    return `the ${ADMIN_PLAN.memoryLimit} memory limit of the admin database`;
  }

  /** Admin sessions are not counted against any plan's connections. */
  async admitSession(_tenantId?: string): Promise<() => void> {
    return () => {};
  }

  async lease(_tenantId?: string): Promise<TenantLease> {
    if (this.closed) throw new Error('the admin database is closed');
    const data = await this.opts.live.current();
    const key = registryKey(data);
    const refreshMs = this.opts.refreshMs ?? REFRESH_MS;
    let cur = this.current;
    if (cur) {
      const stale = cur.key !== key;
      const old = await cur.built.catch(() => null);
      if (stale || !old || Date.now() - old.builtAt > refreshMs) {
        if (old) this.supersede(old);
        if (this.current === cur) this.current = null;
      }
    }
    cur = this.current ??= { key, built: this.buildWithRetry() };
    const built = await cur.built.catch((e: unknown) => {
      if (this.current === cur) this.current = null;
      throw e;
    });
    built.refs++;
    return { lease: this.leaseOf(built), context: { tenantId: ADMIN_DATABASE, isolation: 'database', catalogName: ADMIN_DATABASE, tables: new Map(), version: built.key } };
  }

  private leaseOf(built: Built): Lease {
    return poolLease({ owner: ADMIN_DATABASE, key: built.key, tables: new Map(), meta: undefined }, built.pool, () => {
      if (--built.refs === 0 && built.superseded) this.closeBuilt(built);
    });
  }

  private supersede(built: Built): void {
    built.superseded = true;
    if (built.refs === 0) this.closeBuilt(built);
  }

  private closeBuilt(built: Built): void {
    if (!this.all.delete(built)) return;
    built.pool.close();
    built.instance.closeSync();
    fs.rmSync(built.dir, { recursive: true, force: true });
  }

  /** A snapshot named by the registry can be replaced and removed while we read it: read again. */
  private async buildWithRetry(): Promise<Built> {
    for (let attempt = 0; ; attempt++) {
      const data = await this.opts.live.current();
      try {
        return await this.build(data);
      } catch (e) {
        if (attempt < 3 && (e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
    }
  }

  private async build(data: RegistryData): Promise<Built> {
    const started = performance.now();
    const dir = path.join(this.opts.tempRoot, `admin-${crypto.randomBytes(4).toString('hex')}`);
    fs.mkdirSync(path.join(dir, 'spill'), { recursive: true, mode: 0o700 });
    try {
      const sources = this.link(data, dir);
      const file = path.join(dir, `${ADMIN_DATABASE}.duckdb`);
      await this.write(file, data, sources);
      const instance = await DuckDBInstance.create(file, {
        access_mode: 'READ_ONLY',
        threads: String(ADMIN_PLAN.threads),
        memory_limit: ADMIN_PLAN.memoryLimit,
        temp_directory: path.join(dir, 'spill'),
        integer_division: 'true',
        autoinstall_known_extensions: 'false',
        autoload_known_extensions: 'false',
        allow_community_extensions: 'false',
        allow_unsigned_extensions: 'false',
      });
      const conn = await instance.connect();
      try {
        await attach(conn, sources);
        await conn.run('SET enable_external_access = false');
        await conn.run('SET lock_configuration = true');
      } catch (e) {
        conn.closeSync();
        instance.closeSync();
        throw e;
      }
      conn.closeSync();
      const built: Built = { key: registryKey(data), builtAt: Date.now(), dir, instance, refs: 0, superseded: false, pool: new ConnectionPool(instance) };
      if (this.closed) {
        instance.closeSync();
        throw new Error('the admin database is closed');
      }
      this.all.add(built);
      this.opts.logger.debug({ tenants: sources.length, ms: Math.round(performance.now() - started) }, 'admin database opened');
      return built;
    } catch (e) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** Hard links to every current snapshot, named after its catalog: they stay readable as long as this folder. */
  private link(data: RegistryData, dir: string): Source[] {
    const sources: Source[] = [];
    const add = (alias: string, snapshot: string | null) => {
      if (snapshot === null) return;
      const target = path.join(dir, `${alias}.data.duckdb`);
      fs.linkSync(snapshot, target);
      sources.push({ alias, snapshot: target });
    };
    for (const t of Object.values(data.tenants).sort((a, b) => a.id.localeCompare(b.id))) {
      if (t.isolation === 'database') add(t.id, this.opts.live.registry.snapshotPath(t));
    }
    add('shared', this.opts.live.registry.sharedSnapshotPath(data));
    return sources;
  }

  /** The admin database's own content: registry tables, the query log, the all_tenants views. */
  private async write(file: string, data: RegistryData, sources: Source[]): Promise<void> {
    const instance = await DuckDBInstance.create(file, { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
    const conn = await instance.connect();
    try {
      await registryTables(conn, data);
      await this.queryLogTable(conn);
      await attach(conn, sources);
      await allTenantsViews(conn, data, sources, this.opts.logger);
      for (const s of sources) await conn.run(`DETACH ${quoteIdent(s.alias)}`);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  }

  private async queryLogTable(conn: DuckDBConnection): Promise<void> {
    const dir = this.opts.queryLogDir;
    let files: string[] = [];
    if (dir) {
      try {
        files = fs
          .readdirSync(dir)
          .filter((f) => f === QUERY_LOG_FILE || /^queries-.+\.jsonl$/.test(f))
          .map((f) => path.join(dir, f))
          .filter((f) => fs.statSync(f).size > 0);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    const empty = `SELECT * FROM (SELECT NULL::TIMESTAMPTZ AS time, NULL AS tenant, NULL AS "user", NULL AS app, NULL AS client,
      NULL AS fingerprint, NULL AS text, NULL::BOOLEAN AS truncated, NULL AS protocol, NULL::DOUBLE AS ms,
      NULL::BIGINT AS rows, NULL::BIGINT AS bytes, NULL AS outcome, NULL AS sqlstate) WHERE false`;
    // A line being written (or a marker of dropped records) is skipped, not an error.
    const read =
      files.length === 0
        ? empty
        : `SELECT * FROM read_json([${files.map(quoteLiteral).join(', ')}], format = 'newline_delimited',
             columns = ${QUERY_COLUMNS}, ignore_errors = true) WHERE tenant IS NOT NULL`;
    await conn.run(`CREATE TABLE queries AS ${read} ORDER BY time`);
  }

  close(): void {
    this.closed = true;
    this.current = null;
    for (const b of [...this.all]) this.closeBuilt(b);
  }
}

async function attach(conn: DuckDBConnection, sources: Source[]): Promise<void> {
  for (const s of sources) await conn.run(`ATTACH ${quoteLiteral(s.snapshot)} AS ${quoteIdent(s.alias)} (READ_ONLY)`);
}

/** What the admin database is made of, apart from the query log: it is rebuilt when this changes. */
function registryKey(data: RegistryData): string {
  const tenants = Object.values(data.tenants).map((t) => [t.id, t.name, t.plan, t.isolation, t.status, t.snapshot, t.users.map((u) => u.name)]);
  return crypto
    .createHash('sha256')
    .update(JSON.stringify([tenants, data.shared.snapshot, data.plans ?? {}, data.timeColumns ?? {}]))
    .digest('hex')
    .slice(0, 32);
}

/** The registry as tables, without a single verifier. */
async function registryTables(conn: DuckDBConnection, data: RegistryData): Promise<void> {
  await conn.run(`CREATE TABLE tenants (id VARCHAR PRIMARY KEY, name VARCHAR, plan VARCHAR, isolation VARCHAR, status VARCHAR,
    users INTEGER, has_data BOOLEAN, created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ)`);
  await conn.run('CREATE TABLE users (tenant_id VARCHAR, name VARCHAR, created_at TIMESTAMPTZ)');
  await conn.run(`CREATE TABLE plans (name VARCHAR PRIMARY KEY, memory_limit VARCHAR, threads INTEGER, max_users INTEGER,
    statement_timeout_ms BIGINT, max_result_rows BIGINT, max_result_bytes BIGINT, max_concurrent_queries INTEGER,
    max_connections INTEGER, queries_per_minute INTEGER, history_days INTEGER, max_query_bytes BIGINT, source VARCHAR)`);
  await conn.run('CREATE TABLE time_columns (table_name VARCHAR, column_name VARCHAR)');
  const insert = async (table: string, rows: unknown[][]): Promise<void> => {
    if (rows.length === 0) return;
    const p = await conn.prepare(`INSERT INTO ${table} VALUES (${rows[0]!.map((_, i) => `$${i + 1}`).join(', ')})`);
    try {
      for (const row of rows) {
        p.bind(row as never);
        await p.run();
      }
    } finally {
      p.destroySync();
    }
  };
  const tenants = Object.values(data.tenants);
  await insert(
    'tenants',
    tenants.map((t) => [t.id, t.name, t.plan, t.isolation, t.status, t.users.length, t.isolation === 'shared' || t.snapshot !== null, t.createdAt, t.updatedAt]),
  );
  await insert('users', tenants.flatMap((t) => t.users.map((u) => [t.id, u.name, u.createdAt])));
  await insert(
    'plans',
    Object.values(allPlans(data)).map((p) => [
      p.name, p.memoryLimit, p.threads, p.maxUsers, p.statementTimeoutMs, p.maxResultRows, p.maxResultBytes,
      p.maxConcurrentQueries, p.maxConnections, p.queriesPerMinute, p.historyDays, p.maxQueryBytes,
      data.plans && Object.hasOwn(data.plans, p.name) ? 'registry' : 'built-in',
    ]),
  );
  await insert('time_columns', Object.entries(data.timeColumns ?? {}));
}

/**
 * all_tenants.<table>: every tenant's rows of the table, with tenant_id first: each
 * database tenant's (tenant_id added), and the shared table's (a row of a tenant_ids
 * table once per tenant in its list). Columns are matched by name; a table whose
 * tenants' columns cannot be combined gets no view (logged).
 */
async function allTenantsViews(conn: DuckDBConnection, data: RegistryData, sources: Source[], logger: Logger): Promise<void> {
  await conn.run(`CREATE SCHEMA ${ALL_TENANTS_SCHEMA}`);
  if (sources.length === 0) return;
  const reader = await conn.runAndReadAll(
    `SELECT database_name, table_name, list(lower(column_name)) FROM duckdb_columns()
      WHERE schema_name = 'main' AND database_name IN (${sources.map((s) => quoteLiteral(s.alias)).join(', ')})
      GROUP BY ALL ORDER BY ALL`,
  );
  const parts = new Map<string, string[]>();
  for (const [db, table, cols] of reader.getRowsJS()) {
    const alias = String(db);
    const name = String(table);
    const columns = (cols as string[]).map(String);
    const source = `${quoteIdent(alias)}.main.${quoteIdent(name)}`;
    let sql: string;
    if (alias === 'shared') {
      if (columns[0] === 'tenant_id') sql = `SELECT * FROM ${source}`;
      else if (columns[0] === 'tenant_ids') sql = `SELECT unnest(tenant_ids) AS tenant_id, * EXCLUDE (tenant_ids) FROM ${source}`;
      else continue; // not a shared table: no tenant reads it
      const shared = new Set(Object.values(data.tenants).filter((t) => t.isolation === 'shared').map((t) => t.id));
      if (shared.size === 0) continue;
      sql = `SELECT * FROM (${sql}) WHERE tenant_id IN (${[...shared].map(quoteLiteral).join(', ')})`;
    } else {
      sql = columns.includes('tenant_id')
        ? `SELECT * REPLACE (${quoteLiteral(alias)} AS tenant_id) FROM ${source}`
        : `SELECT ${quoteLiteral(alias)} AS tenant_id, * FROM ${source}`;
    }
    const key = name.toLowerCase();
    parts.set(key, [...(parts.get(key) ?? []), sql]);
  }
  for (const [name, selects] of parts) {
    try {
      await conn.run(`CREATE VIEW ${ALL_TENANTS_SCHEMA}.${quoteIdent(name)} AS ${selects.join(' UNION ALL BY NAME ')}`);
    } catch (e) {
      logger.warn({ table: name, err: (e as Error).message.split('\n')[0] }, 'admin database: no all_tenants view for this table');
    }
  }
}
