/**
 * The tenants' DuckDB instances. An instance holds exactly one tenant's published
 * snapshot, attached READ_ONLY under the tenant's id, and is locked down before any
 * tenant SQL runs: external access off, extension autoinstall/autoload off,
 * configuration locked, temp files in its own folder under the data directory.
 *
 * One instance per (snapshot, limits): concurrent opens of one file share one open,
 * never two instances of one file. A query holds a lease; an instance whose snapshot
 * was superseded closes when its last lease is released, and an idle one closes
 * after `idleMs`. Connections are always closed before their instance.
 *
 * At most `maxOpen` instances are open: opening one more first closes the least recently
 * used instances that nobody holds a lease on. An instance in use is never closed under
 * its user: when all are leased, the open goes ahead over the cap, and the surplus is
 * closed as leases are released.
 *
 * Each instance attaches a tenant catalog file, one per distinct content, counted by the
 * instances that attached it. A file no open instance attaches is kept for reuse, up to
 * KEEP_UNUSED_CATALOGS (least recently used deleted first); only such files are deleted.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, DuckDBTypeId, type DuckDBConnection, type DuckDBPreparedStatement, type DuckDBType } from '@duckdb/node-api';
import { ConnectionPool, poolLease } from './connections.js';
import type { Logger } from 'pino';
import { CatalogWriter, STATIC_DB, TENANT_DB, staticCatalogSql, tenantCatalogSql, type TenantCatalogInput } from '../catalog/build.js';
import { quoteIdent, quoteLiteral } from '../sql/quote.js';
import { instanceEvictions, instanceHits, instanceMisses, instanceOpenSeconds } from '../observability/metrics.js';

export interface InstanceLimits {
  memoryLimit: string;
  threads: number;
}

export interface InstanceSpec {
  /**
   * Whose data the instance holds, and the DuckDB catalog name it gets: a tenant id
   * (database isolation) or SHARED_CATALOG (the shared tables of all shared tenants).
   */
  owner: string;
  /** Absolute path of the owner's current snapshot; null: no data yet. */
  snapshotPath: string | null;
  limits: InstanceLimits;
}

/** The catalog name of the shared database; no tenant can have this id. */
export const SHARED_CATALOG = 'shared';

/**
 * Who an instance serves, for its PostgreSQL catalog: called while the instance opens,
 * before it is locked, with its tables. `meta` is kept on the instance for the caller.
 */
export type DescribeTenants = (
  spec: InstanceSpec,
  conn: DuckDBConnection,
  tables: ReadonlyMap<string, TableInfo>,
) => Promise<{ tenants: TenantCatalogInput[]; meta?: unknown }>;

export interface Lease {
  readonly owner: string;
  /** Identifies the instance's data: differs for every snapshot and limits. */
  readonly key: string;
  /** The tables of the instance's data (schema main), by lower-cased name. */
  readonly tables: ReadonlyMap<string, TableInfo>;
  /** What DescribeTenants returned as meta when the instance opened. */
  readonly meta: unknown;
  /**
   * A connection for one query: one kept from an earlier query (connections.ts), preferably
   * one that has `sql` (the statement the query will prepare) prepared already, or a new one.
   */
  connect(sql?: string): Promise<DuckDBConnection>;
  /** The connection's prepared statement for `sql`, made once per connection and kept: never destroy it. */
  prepare(conn: DuckDBConnection, sql: string): Promise<DuckDBPreparedStatement>;
  /** The query on `conn` is over: kept for the next one if `reusable` (it ended cleanly), else closed. */
  done(conn: DuckDBConnection, reusable: boolean): void;
  /** The lease is over; a connection not given back with done() is closed. */
  release(): void;
}

export interface TableInfo {
  name: string;
  columns: string[];
  types: DuckDBType[];
  /** The types' ids by name (INTEGER, BIGINT, ...), as the gate reads them. */
  columnTypes: string[];
  nullable: boolean[];
}

/**
 * Most tenant catalog files kept on disk that no open instance attaches, for instances
 * reopened on the same data (never more than maxOpen of them either).
 */
export const KEEP_UNUSED_CATALOGS = 64;

/** A tenant catalog file, shared by every instance whose tenants have that content. */
interface CatalogFile {
  key: string;
  path: string;
  /** Settles when the file is written (or not). */
  ready: Promise<string>;
  /** Instances (open or opening) that attached it or are about to. */
  refs: number;
}

interface Opened {
  instance: DuckDBInstance;
  tables: ReadonlyMap<string, TableInfo>;
  meta: unknown;
  catalog: CatalogFile;
}

interface Entry {
  key: string;
  owner: string;
  tempDir: string;
  opening: Promise<Opened>;
  instance?: DuckDBInstance;
  catalog?: CatalogFile;
  refs: number;
  lastUsed: number;
  /** Order of last use (acquire or release), for LRU eviction; Date.now() can tie. */
  used: number;
  superseded: boolean;
  /** Closed before its open finished (shutdown): the open's result is closed at once. */
  closed: boolean;
  /** The instance's connections, once it is open. */
  pool?: ConnectionPool;
}

/**
 * Identifies a tenant catalog's content by what it is built from, without building it:
 * types by their SQL names, which carry widths, scales, fields and enum values.
 */
export function catalogKey(tenants: readonly TenantCatalogInput[]): string {
  const json = JSON.stringify(tenants, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && 'typeId' in v && typeof v.toString === 'function' ? v.toString() : v,
  );
  return crypto.createHash('sha256').update(json).digest('hex').slice(0, 32);
}

export class InstanceCache {
  private readonly entries = new Map<string, Entry>();
  /** tenant id → key of its current entry */
  private readonly current = new Map<string, string>();
  private readonly sweeper: NodeJS.Timeout;
  /** The static PostgreSQL catalog, written once and attached to every instance. */
  private staticCatalog: Promise<string> | null = null;
  private readonly catalogWriter = new CatalogWriter();
  /** Tenant catalog files by content: an instance reopened on the same data reuses its file. */
  private readonly catalogFiles = new Map<string, CatalogFile>();
  /** The catalog files no instance attaches, least recently used first. */
  private readonly unusedCatalogs = new Set<CatalogFile>();
  private clock = 0;

  constructor(
    private readonly opts: {
      tempRoot: string;
      idleMs: number;
      logger: Logger;
      describe: DescribeTenants;
      /** Most instances open at once (config maxOpenInstances). */
      maxOpen?: number;
    },
  ) {
    fs.mkdirSync(opts.tempRoot, { recursive: true, mode: 0o700 });
    this.sweeper = setInterval(() => this.sweep(), Math.max(1000, Math.min(opts.idleMs, 30_000)));
    this.sweeper.unref();
  }

  /** Instances open or opening. */
  get size(): number {
    return this.entries.size;
  }

  /** Tenant catalog files on disk (or being written), attached or kept for reuse. */
  get catalogFileCount(): number {
    return this.catalogFiles.size;
  }

  private get maxOpen(): number {
    return this.opts.maxOpen ?? Infinity;
  }

  async acquire(spec: InstanceSpec): Promise<Lease> {
    const key = [spec.owner, spec.snapshotPath ?? ':memory:', spec.limits.memoryLimit, spec.limits.threads].join('\0');
    const prevKey = this.current.get(spec.owner);
    if (prevKey !== undefined && prevKey !== key) {
      const prev = this.entries.get(prevKey);
      if (prev) {
        prev.superseded = true;
        if (prev.refs === 0) this.closeEntry(prev, 'superseded');
      }
    }
    this.current.set(spec.owner, key);
    let entry = this.entries.get(key);
    (entry ? instanceHits : instanceMisses).inc();
    if (!entry) {
      this.evictLru(1);
      const tempDir = path.join(this.opts.tempRoot, `${spec.owner}-${crypto.randomBytes(4).toString('hex')}`);
      entry = {
        key,
        owner: spec.owner,
        tempDir,
        opening: this.open(spec, tempDir),
        refs: 0,
        lastUsed: Date.now(),
        used: 0,
        superseded: false,
        closed: false,
      };
      this.entries.set(key, entry);
      const e = entry;
      e.opening.then(
        (opened) => {
          e.instance = opened.instance;
          e.catalog = opened.catalog;
          if (e.closed) {
            opened.instance.closeSync();
            this.dropCatalog(opened.catalog);
          }
        },
        () => {
          if (this.entries.get(key) !== e) return;
          this.entries.delete(key);
          if (this.current.get(spec.owner) === key) this.current.delete(spec.owner);
          fs.rmSync(tempDir, { recursive: true, force: true });
        },
      );
    }
    entry.refs++;
    entry.used = ++this.clock;
    let opened: Opened;
    try {
      opened = await entry.opening;
    } catch (e) {
      entry.refs--;
      throw e;
    }
    return this.lease(entry, opened);
  }

  private lease(entry: Entry, { instance, tables, meta }: Opened): Lease {
    entry.pool ??= new ConnectionPool(instance);
    return poolLease({ owner: entry.owner, key: entry.key, tables, meta }, entry.pool, () => {
      entry.refs--;
      entry.lastUsed = Date.now();
      entry.used = ++this.clock;
      if (entry.refs === 0 && entry.superseded) this.closeEntry(entry, 'superseded');
      else if (entry.refs === 0) this.evictLru(0);
    });
  }

  /** Writes the static catalog now (~1 s), so that the first query does not wait for it. */
  async prepare(): Promise<void> {
    await this.staticCatalogFile();
  }

  private staticCatalogFile(): Promise<string> {
    if (!this.staticCatalog) {
      const file = path.join(this.opts.tempRoot, `catalog-${crypto.randomBytes(4).toString('hex')}.duckdb`);
      this.staticCatalog = this.catalogWriter.write(file, STATIC_DB, staticCatalogSql()).then(() => file);
      this.staticCatalog.catch(() => (this.staticCatalog = null));
    }
    return this.staticCatalog;
  }

  /**
   * A reference to the tenant catalog file for these tenants, written once per distinct
   * content (its SQL is built only then). Give it back with dropCatalog.
   */
  private takeCatalog(tenants: TenantCatalogInput[]): CatalogFile {
    const key = catalogKey(tenants);
    let cat = this.catalogFiles.get(key);
    if (!cat) {
      const target = path.join(this.opts.tempRoot, `catalog-${key}.duckdb`);
      const ready = this.staticCatalogFile()
        .then((staticFile) => this.catalogWriter.write(target, TENANT_DB, tenantCatalogSql(tenants), staticFile))
        .then(() => target);
      const c: CatalogFile = { key, path: target, ready, refs: 0 };
      ready.catch(() => {
        if (this.catalogFiles.get(key) === c) this.catalogFiles.delete(key);
        this.unusedCatalogs.delete(c);
      });
      this.catalogFiles.set(key, c);
      cat = c;
    }
    cat.refs++;
    this.unusedCatalogs.delete(cat);
    return cat;
  }

  /**
   * Gives back a reference taken by takeCatalog, once the instance that took it is closed.
   * A file no instance attaches any more joins the unused ones; the least recently used
   * beyond the number kept are deleted. Every holder awaits `ready` before it can let go,
   * so no file being written is deleted here.
   */
  private dropCatalog(cat: CatalogFile): void {
    if (--cat.refs > 0 || this.catalogFiles.get(cat.key) !== cat) return;
    this.unusedCatalogs.add(cat);
    const keep = Math.min(KEEP_UNUSED_CATALOGS, this.maxOpen);
    for (const old of this.unusedCatalogs) {
      if (this.unusedCatalogs.size <= keep) break;
      this.unusedCatalogs.delete(old);
      this.catalogFiles.delete(old.key);
      fs.rmSync(old.path, { force: true });
    }
  }

  /**
   * Opens the tenant's snapshot READ_ONLY through a hard link named `<tenant>.duckdb` in the
   * instance's own folder: DuckDB names the catalog after the file, so the tenant's
   * database is called after the tenant, and there is no other (writable) catalog. The link
   * also keeps a superseded snapshot's data alive exactly as long as this instance needs
   * it: the space is freed when the instance closes and its folder is removed.
   */
  private async open(spec: InstanceSpec, tempDir: string): Promise<Opened> {
    fs.mkdirSync(path.join(tempDir, 'spill'), { recursive: true, mode: 0o700 });
    const started = performance.now();
    const dbFile = path.join(tempDir, `${spec.owner}.duckdb`);
    if (spec.snapshotPath) {
      fs.linkSync(spec.snapshotPath, dbFile);
    } else {
      // No data yet: an empty database, so that queries such as SELECT 1 still run.
      (await DuckDBInstance.create(dbFile)).closeSync();
    }
    const instance = await DuckDBInstance.create(dbFile, {
      access_mode: 'READ_ONLY',
      threads: String(spec.limits.threads),
      memory_limit: spec.limits.memoryLimit,
      temp_directory: path.join(tempDir, 'spill'),
      // PostgreSQL's `/` on integers is integer division (100 / 3 = 33); DuckDB's default is not.
      integer_division: 'true',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      allow_community_extensions: 'false',
      allow_unsigned_extensions: 'false',
    });
    let tables: Map<string, TableInfo>;
    let meta: unknown;
    let catalog: CatalogFile | undefined;
    const conn = await instance.connect();
    try {
      tables = await readTables(conn);
      // The PostgreSQL catalog of the tenants this instance serves, attached read-only;
      // then file access is switched off and the configuration locked, before any tenant SQL.
      const described = await this.opts.describe(spec, conn, tables);
      meta = described.meta;
      catalog = this.takeCatalog(described.tenants);
      const tenantFile = await catalog.ready;
      const staticFile = await this.staticCatalogFile();
      await conn.run(`ATTACH ${quoteLiteral(staticFile)} AS ${quoteIdent(STATIC_DB)} (READ_ONLY)`);
      await conn.run(`ATTACH ${quoteLiteral(tenantFile)} AS ${quoteIdent(TENANT_DB)} (READ_ONLY)`);
      await conn.run('SET enable_external_access = false');
      await conn.run('SET lock_configuration = true');
    } catch (e) {
      conn.closeSync();
      instance.closeSync();
      if (catalog) this.dropCatalog(catalog);
      throw e;
    }
    conn.closeSync();
    instanceOpenSeconds.observe((performance.now() - started) / 1000);
    this.opts.logger.debug({ owner: spec.owner, ms: Math.round(performance.now() - started) }, 'instance opened');
    return { instance, tables, meta, catalog };
  }

  /**
   * Closes least recently used instances that nobody holds a lease on until `room` more
   * fit under maxOpen, or none is left to close (then the cap is exceeded for now).
   */
  private evictLru(room: number): void {
    while (this.entries.size + room > this.maxOpen) {
      let victim: Entry | undefined;
      for (const e of this.entries.values()) {
        if (e.refs === 0 && e.instance && (!victim || e.used < victim.used)) victim = e;
      }
      if (!victim) return;
      this.closeEntry(victim, 'lru');
    }
  }

  private closeEntry(entry: Entry, reason: 'idle' | 'superseded' | 'lru' | 'shutdown'): void {
    if (this.entries.get(entry.key) !== entry) return;
    entry.closed = true;
    instanceEvictions.inc({ reason });
    this.entries.delete(entry.key);
    if (this.current.get(entry.owner) === entry.key) this.current.delete(entry.owner);
    const inst = entry.instance;
    entry.pool?.close();
    if (inst) inst.closeSync();
    fs.rmSync(entry.tempDir, { recursive: true, force: true });
    // Only now that the instance is closed may its catalog file be deleted.
    if (entry.catalog) this.dropCatalog(entry.catalog);
    this.opts.logger.debug({ owner: entry.owner, reason }, 'instance closed');
  }

  /** Closes instances idle for longer than idleMs. */
  sweep(now = Date.now()): void {
    for (const e of [...this.entries.values()]) {
      if (e.refs === 0 && e.instance && now - e.lastUsed >= this.opts.idleMs) this.closeEntry(e, 'idle');
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const e of [...this.entries.values()]) this.closeEntry(e, 'shutdown');
    this.catalogWriter.close();
  }
}

/** The tables of the connection's own catalog (schema main) with their columns in order. */
export async function readTables(conn: DuckDBConnection): Promise<Map<string, TableInfo>> {
  const reader = await conn.runAndReadAll(
    `SELECT table_name, list(is_nullable ORDER BY column_index) AS nullable
       FROM duckdb_columns()
      WHERE database_name = current_database() AND schema_name = 'main'
      GROUP BY table_name`,
  );
  const tables = new Map<string, TableInfo>();
  for (const [name, nullable] of reader.getRowsJS()) {
    // Column names and types as a query sees them (prepared, not run).
    const p = await conn.prepare(`SELECT * FROM main.${quoteIdent(String(name))}`);
    const columns: string[] = [];
    const types: DuckDBType[] = [];
    for (let i = 0; i < p.columnCount; i++) {
      columns.push(p.columnName(i));
      types.push(p.columnType(i));
    }
    p.destroySync();
    const columnTypes = types.map((t) => DuckDBTypeId[t.typeId]);
    const info = { name: String(name), columns, types, columnTypes, nullable: (nullable as unknown[]).map(Boolean) };
    tables.set(info.name.toLowerCase(), info);
  }
  return tables;
}
