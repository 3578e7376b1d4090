// The shared database: one DuckDB file, <data>/shared/<seq>-<hex>.duckdb, holding the rows
// of every tenant with shared isolation. It is built and published like a tenant snapshot
// (publishSnapshot in snapshots.ts), serialised by the shared lock.
//
// Every table is in schema main and has, as its first column, either
//   tenant_id  VARCHAR NOT NULL     a row belongs to one tenant, or
//   tenant_ids VARCHAR[] NOT NULL   a row is visible to each tenant on its list,
// and no other column of those names. Nothing else (views, other schemas) is allowed: the
// gateway shows a shared tenant each table through a subquery holding only its rows.
//
// Invariants kept by every build: each tenant_id / tenant_ids value names a registered
// tenant with shared isolation. Rows of anyone else (left behind when a later step of
// `tenant move` failed) are invisible to every tenant and are purged by the next build.
//
// Locks: whoever needs a tenant's lock as well as the shared lock takes the tenant's first.
import { TENANT_COLUMN, TENANT_LIST_COLUMN } from '../sql/catalog.js';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError, TenantError, quoteIdent, quoteLiteral, validateTableName, validateTenantId } from './ids.js';
import {
  findTenant,
  parseIsolation,
  type HeldLock,
  type Isolation,
  type Registry,
  type RegistryData,
  type TenantRecord,
} from './registry.js';
import {
  SHARED_TARGET,
  buildSnapshot,
  closeQuietly,
  exists,
  publishSnapshot,
  publishStaged,
  removeSuperseded,
  stageSnapshot,
  tenantTarget,
  type LoadMode,
  type PublishOptions,
  type StagedSnapshot,
} from './snapshots.js';
import {
  checkColumnsFit,
  checkInputFile,
  fileKind,
  firstCount,
  sourceColumns,
  sourceSql,
  summarizeDuckDBError,
  tableColumns,
  type FileKind,
} from './sources.js';

// The shapes of shared tables are the gate's contract: one definition, in sql/catalog.ts.
export { TENANT_COLUMN, TENANT_LIST_COLUMN };

export type TenantColumn = typeof TENANT_COLUMN | typeof TENANT_LIST_COLUMN;

export interface ColumnInfo {
  name: string;
  /** DuckDB's type name, e.g. `BIGINT`, `VARCHAR[]`, `DECIMAL(10,2)`. */
  type: string;
}

/** A table of the shared database. */
export interface SharedTable {
  name: string;
  /** Its first column: which tenants a row belongs to. */
  tenantColumn: TenantColumn;
  /** The other columns, in order. */
  columns: ColumnInfo[];
}

interface CatalogTable {
  schema: string;
  name: string;
  columns: (ColumnInfo & { nullable: boolean })[];
}

const lit = quoteLiteral;
const q = quoteIdent;

function now(): string {
  return new Date().toISOString();
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Ids of the registered tenants with shared isolation, sorted. */
export function sharedTenantIds(data: RegistryData): string[] {
  return Object.values(data.tenants)
    .filter((t) => t.isolation === 'shared')
    .map((t) => t.id)
    .sort();
}

/** `expr IN ('a', 'b')`, or `false` for no ids. The ids are validated tenant ids. */
function inIds(expr: string, ids: readonly string[]): string {
  return ids.length === 0 ? 'false' : `${expr} IN (${ids.map(lit).join(', ')})`;
}

async function rowsOf(conn: DuckDBConnection, sql: string): Promise<unknown[][]> {
  return (await conn.runAndReadAll(sql)).getRows();
}

async function count(conn: DuckDBConnection, sql: string): Promise<number> {
  return firstCount(await rowsOf(conn, sql));
}

/** The tables of a catalog (default: the current database) with their columns, in order. */
async function catalogTables(conn: DuckDBConnection, catalog?: string): Promise<CatalogTable[]> {
  const rows = await rowsOf(
    conn,
    `SELECT c.schema_name, c.table_name, c.column_name, c.data_type, c.is_nullable
       FROM duckdb_columns() c JOIN duckdb_tables() t ON t.database_name = c.database_name AND t.table_oid = c.table_oid
      WHERE c.database_name = ${catalog === undefined ? 'current_database()' : lit(catalog)}
      ORDER BY c.schema_name, c.table_name, c.column_index`,
  );
  const tables = new Map<string, CatalogTable>();
  for (const [schema, name, column, type, nullable] of rows) {
    const key = `${String(schema)}.${String(name)}`;
    let t = tables.get(key);
    if (!t) tables.set(key, (t = { schema: String(schema), name: String(name), columns: [] }));
    t.columns.push({ name: String(column), type: String(type), nullable: nullable === true });
  }
  return [...tables.values()];
}

async function catalogViews(conn: DuckDBConnection, catalog?: string): Promise<string[]> {
  const rows = await rowsOf(
    conn,
    `SELECT schema_name || '.' || view_name FROM duckdb_views()
      WHERE NOT internal AND database_name = ${catalog === undefined ? 'current_database()' : lit(catalog)}
      ORDER BY 1`,
  );
  return rows.map((r) => String(r[0]));
}

function isTenantColumnName(name: string): boolean {
  const n = name.toLowerCase();
  return n === TENANT_COLUMN || n === TENANT_LIST_COLUMN;
}

/** The table's shape in the shared database, or a description of what is wrong with it. */
function sharedShape(t: CatalogTable): SharedTable | string {
  if (t.schema !== 'main') return `table ${t.schema}.${t.name} is not in schema main`;
  const [first, ...rest] = t.columns;
  let tenantColumn: TenantColumn | null = null;
  if (first && first.name === TENANT_COLUMN && first.type === 'VARCHAR' && !first.nullable) tenantColumn = TENANT_COLUMN;
  if (first && first.name === TENANT_LIST_COLUMN && first.type === 'VARCHAR[]' && !first.nullable) tenantColumn = TENANT_LIST_COLUMN;
  if (tenantColumn === null) {
    return `table ${t.name} does not start with ${TENANT_COLUMN} VARCHAR NOT NULL or ${TENANT_LIST_COLUMN} VARCHAR[] NOT NULL`;
  }
  if (rest.length === 0) return `table ${t.name} has no columns besides ${tenantColumn}`;
  const clash = rest.find((c) => isTenantColumnName(c.name));
  if (clash) return `table ${t.name} has a second tenant column ${clash.name}`;
  return { name: t.name, tenantColumn, columns: rest.map((c) => ({ name: c.name, type: c.type })) };
}

/**
 * The tables of a shared database (catalog `catalog`, default: the connection's current
 * database), sorted by name. A table of any other shape is a TenantError.
 */
export async function readSharedTables(conn: DuckDBConnection, catalog?: string): Promise<SharedTable[]> {
  const out: SharedTable[] = [];
  for (const t of await catalogTables(conn, catalog)) {
    const shape = sharedShape(t);
    if (typeof shape === 'string') throw new TenantError(`the shared database is malformed: ${shape}`);
    out.push(shape);
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Refuses anything but tables of the allowed shapes (checked on every shared build). */
async function checkSharedShape(conn: DuckDBConnection): Promise<void> {
  const views = await catalogViews(conn);
  if (views.length > 0) throw new TenantError(`the shared database may hold only tables, not views (${views.join(', ')})`);
  for (const t of await catalogTables(conn)) {
    const shape = sharedShape(t);
    if (typeof shape === 'string') throw new TenantError(`refusing to publish a malformed shared database: ${shape}`);
  }
}

/** Makes a freshly created table's tenant column NOT NULL (CREATE TABLE AS cannot say so). */
async function setTenantColumnNotNull(conn: DuckDBConnection, table: string, column: TenantColumn): Promise<void> {
  await conn.run(`ALTER TABLE main.${q(table)} ALTER COLUMN ${q(column)} SET NOT NULL`);
}

/**
 * Deletes the rows of tenants that are not (any more) registered with shared isolation, and
 * removes such ids from tenant_ids lists (rows left with an empty list go). Returns how many
 * rows were deleted or changed.
 */
async function purgeOrphans(conn: DuckDBConnection, data: RegistryData): Promise<number> {
  const ids = sharedTenantIds(data);
  let purged = 0;
  for (const t of await readSharedTables(conn)) {
    const table = `main.${q(t.name)}`;
    if (t.tenantColumn === TENANT_COLUMN) {
      purged += await count(conn, `DELETE FROM ${table} WHERE NOT (${inIds(TENANT_COLUMN, ids)})`);
    } else {
      const kept = `list_filter(${TENANT_LIST_COLUMN}, lambda x: ${inIds('x', ids)})`;
      purged += await count(conn, `UPDATE ${table} SET ${TENANT_LIST_COLUMN} = ${kept} WHERE len(${kept}) <> len(${TENANT_LIST_COLUMN})`);
      await conn.run(`DELETE FROM ${table} WHERE len(${TENANT_LIST_COLUMN}) = 0`);
    }
  }
  return purged;
}

/** Deletes one tenant's rows and its id from every list. Returns how many rows were deleted or changed. */
async function deleteTenantRows(conn: DuckDBConnection, tenantId: string): Promise<number> {
  let changed = 0;
  for (const t of await readSharedTables(conn)) {
    const table = `main.${q(t.name)}`;
    if (t.tenantColumn === TENANT_COLUMN) {
      changed += await count(conn, `DELETE FROM ${table} WHERE ${TENANT_COLUMN} = ${lit(tenantId)}`);
    } else {
      changed += await count(
        conn,
        `UPDATE ${table} SET ${TENANT_LIST_COLUMN} = list_filter(${TENANT_LIST_COLUMN}, lambda x: x <> ${lit(tenantId)})
          WHERE list_contains(${TENANT_LIST_COLUMN}, ${lit(tenantId)})`,
      );
      await conn.run(`DELETE FROM ${table} WHERE len(${TENANT_LIST_COLUMN}) = 0`);
    }
  }
  return changed;
}

/**
 * Removes snapshot files left in the own directories of tenants that now use shared
 * isolation (a `tenant move` whose last step failed). Run under the shared lock.
 */
async function removeMovedLeftovers(registry: Registry, data: RegistryData): Promise<void> {
  let names: string[];
  try {
    names = await readdir(path.join(registry.dataDir, 'tenants'));
  } catch {
    return;
  }
  const shared = new Set(sharedTenantIds(data));
  for (const name of names) {
    if (shared.has(name)) await rm(registry.tenantDir(name), { recursive: true, force: true });
  }
}

/** As for publishSnapshot; `lock` is the shared lock. */
export type SharedBuildOptions = PublishOptions;

/**
 * The shared twin of buildSnapshot: copies the current shared database (or starts empty),
 * purges rows of tenants that are not shared any more, runs `build` (with the registry as
 * read under the shared lock) in the same transaction, checks that every table has an
 * allowed shape, and publishes the result with one registry update of `shared.snapshot`.
 * Serialised across processes by the shared lock. On failure nothing changes.
 */
export async function buildSharedSnapshot(
  registry: Registry,
  build: (conn: DuckDBConnection, data: RegistryData) => Promise<void>,
  opts: SharedBuildOptions = {},
): Promise<{ snapshot: string; purged: number }> {
  const lock = opts.lock ?? (await registry.lockShared());
  try {
    let purged = 0;
    const { snapshot } = await publishSnapshot(
      registry,
      SHARED_TARGET,
      async (conn, data) => {
        purged = await purgeOrphans(conn, data);
        await build(conn, data);
        await checkSharedShape(conn);
      },
      { lock, check: opts.check, apply: opts.apply },
    );
    const data = await registry.read().catch(() => null);
    if (data) await removeMovedLeftovers(registry, data).catch(() => undefined);
    return { snapshot, purged };
  } finally {
    if (!opts.lock) await lock.release();
  }
}

function requireShared(data: RegistryData, tenantId: string): TenantRecord {
  const t = findTenant(data, tenantId);
  if (t.isolation !== 'shared') {
    throw new TenantError(`tenant ${tenantId} uses ${t.isolation} isolation, not shared`);
  }
  return t;
}

function wrapLoadError(e: unknown, file: string, table: string): TenantError {
  if (e instanceof TenantError) return e;
  return new TenantError(`cannot load ${file} into ${table}: ${summarizeDuckDBError(e)}`);
}

// ---------------------------------------------------------------------------------------
// Loading

/**
 * Loads a file into the shared table `table` for one tenant with shared isolation; its rows
 * are tagged with the tenant's id. A new table is created as tenant_id + the file's columns;
 * an existing one must have exactly the file's columns besides tenant_id (by name, any
 * order). create: refused if the table has rows of the tenant; replace: deletes the
 * tenant's rows first; append: adds rows. Other tenants' rows are never touched.
 */
export async function loadSharedTenantTable(
  registry: Registry,
  tenantId: string,
  table: string,
  file: string,
  mode: LoadMode,
): Promise<{ snapshot: string; rows: number }> {
  validateTenantId(tenantId);
  validateTableName(table);
  if (mode !== 'create' && mode !== 'replace' && mode !== 'append') {
    throw new InvalidArgumentError(`unknown load mode ${JSON.stringify(mode)}`);
  }
  const kind = fileKind(file);
  const abs = path.resolve(file);
  await checkInputFile(abs);
  requireShared(await registry.read(), tenantId);

  const target = `main.${q(table)}`;
  const tag = `CAST(${lit(tenantId)} AS VARCHAR) AS ${TENANT_COLUMN}`;
  let rows = 0;
  const { snapshot } = await buildSharedSnapshot(
    registry,
    async (conn) => {
      const existing = (await readSharedTables(conn)).find((t) => t.name === table);
      if (existing && existing.tenantColumn !== TENANT_COLUMN) {
        throw new TenantError(
          `table ${table} holds rows shared by several tenants (${TENANT_LIST_COLUMN}); load it with: tenantgate shared load ${table} <file>`,
        );
      }
      if (mode === 'append' && !existing) {
        throw new TenantError(`table ${table} does not exist; load it without --append first`);
      }
      try {
        const cols = await sourceColumns(conn, sourceSql(kind, abs));
        const clash = cols.find(isTenantColumnName);
        if (clash) {
          throw new TenantError(
            `${file} has a column ${clash}: the load adds ${TENANT_COLUMN} itself (tagging every row with ${tenantId}); remove that column`,
          );
        }
        if (!existing) {
          const r = await conn.runAndReadAll(`CREATE TABLE ${target} AS SELECT ${tag}, * FROM ${sourceSql(kind, abs)}`);
          await setTenantColumnNotNull(conn, table, TENANT_COLUMN);
          rows = firstCount(r.getRows());
          return;
        }
        const fileCols = checkColumnsFit(cols, existing.columns.map((c) => c.name), file, table);
        const mine = `${TENANT_COLUMN} = ${lit(tenantId)}`;
        if (mode === 'create') {
          const n = await count(conn, `SELECT count(*) FROM ${target} WHERE ${mine}`);
          if (n > 0) {
            throw new TenantError(`table ${table} already has ${plural(n, 'row')} of tenant ${tenantId}; use --replace or --append`);
          }
        } else if (mode === 'replace') {
          await conn.run(`DELETE FROM ${target} WHERE ${mine}`);
        }
        // Read CSV values straight as the table's types: a value that does not fit is an error.
        const types = new Map<string, string>();
        if (kind !== 'parquet') {
          for (const c of existing.columns) types.set(fileCols.get(c.name.toLowerCase()) ?? c.name, c.type);
        }
        const r = await conn.runAndReadAll(`INSERT INTO ${target} BY NAME SELECT ${tag}, * FROM ${sourceSql(kind, abs, types)}`);
        rows = firstCount(r.getRows());
      } catch (e) {
        throw wrapLoadError(e, file, table);
      }
    },
    { check: (data) => void requireShared(data, tenantId) },
  );
  return { snapshot, rows };
}

/** At most `max` ids, quoted, then "and N more". */
function listIds(ids: string[], total: number, max = 10): string {
  const shown = ids.slice(0, max).map((id) => JSON.stringify(id.length > 63 ? `${id.slice(0, 63)}...` : id));
  return total > shown.length ? `${shown.join(', ')} and ${total - shown.length} more` : shown.join(', ');
}

/**
 * Loads a table of rows shared by several tenants: the file has a tenant_ids column (Parquet:
 * a list of strings; CSV/TSV: a list literal such as `[acme, globex]`), which becomes the
 * table's first column. Every id must name a registered tenant with shared isolation, else
 * nothing is loaded and the error names the unknown ids. create: the table must not exist;
 * replace: replaces the whole table; append: adds rows (the file must have exactly its columns).
 */
export async function loadMultiTenantTable(
  registry: Registry,
  table: string,
  file: string,
  mode: LoadMode,
): Promise<{ snapshot: string; rows: number; tenants: number }> {
  validateTableName(table);
  if (mode !== 'create' && mode !== 'replace' && mode !== 'append') {
    throw new InvalidArgumentError(`unknown load mode ${JSON.stringify(mode)}`);
  }
  const kind = fileKind(file);
  const abs = path.resolve(file);
  await checkInputFile(abs);

  const target = `main.${q(table)}`;
  let rows = 0;
  let tenants = 0;
  const { snapshot } = await buildSharedSnapshot(registry, async (conn, data) => {
    const existing = (await readSharedTables(conn)).find((t) => t.name === table);
    if (existing && existing.tenantColumn !== TENANT_LIST_COLUMN) {
      throw new TenantError(
        `table ${table} holds rows of single tenants (${TENANT_COLUMN}); load it per tenant with: tenantgate load <tenant> ${table} <file>`,
      );
    }
    if (mode === 'create' && existing) throw new TenantError(`table ${table} already exists; use --replace or --append`);
    if (mode === 'append' && !existing) throw new TenantError(`table ${table} does not exist; load it without --append first`);
    try {
      const cols = await sourceColumns(conn, sourceSql(kind, abs));
      const listCol = cols.find((c) => c.toLowerCase() === TENANT_LIST_COLUMN);
      if (!listCol) {
        throw new TenantError(`${file} has no ${TENANT_LIST_COLUMN} column (the tenants each row is visible to)`);
      }
      const single = cols.find((c) => c.toLowerCase() === TENANT_COLUMN);
      if (single) throw new TenantError(`${file} has both ${TENANT_LIST_COLUMN} and ${single}; keep only ${TENANT_LIST_COLUMN}`);
      if (cols.length < 2) throw new TenantError(`${file} has no columns besides ${TENANT_LIST_COLUMN}`);
      const types = new Map<string, string>();
      if (existing) {
        const fileCols = checkColumnsFit(cols, [TENANT_LIST_COLUMN, ...existing.columns.map((c) => c.name)], file, table);
        if (kind !== 'parquet') {
          types.set(listCol, 'VARCHAR[]');
          for (const c of existing.columns) types.set(fileCols.get(c.name.toLowerCase()) ?? c.name, c.type);
        }
      } else if (kind !== 'parquet') {
        types.set(listCol, 'VARCHAR[]');
      }
      const source = sourceSql(kind, abs, types);
      if (mode === 'append') {
        const r = await conn.runAndReadAll(
          `INSERT INTO ${target} BY NAME SELECT CAST(${q(listCol)} AS VARCHAR[]) AS ${TENANT_LIST_COLUMN}, * EXCLUDE (${q(listCol)}) FROM ${source}`,
        );
        rows = firstCount(r.getRows());
      } else {
        const verb = mode === 'replace' ? 'CREATE OR REPLACE TABLE' : 'CREATE TABLE';
        const r = await conn.runAndReadAll(
          `${verb} ${target} AS SELECT CAST(${q(listCol)} AS VARCHAR[]) AS ${TENANT_LIST_COLUMN}, * EXCLUDE (${q(listCol)}) FROM ${source}`,
        );
        rows = firstCount(r.getRows());
        await setTenantColumnNotNull(conn, table, TENANT_LIST_COLUMN);
      }
    } catch (e) {
      throw wrapLoadError(e, file, table);
    }
    // Rows already there were valid: whatever is wrong now came from the file.
    const ids = sharedTenantIds(data);
    const empty = await count(
      conn,
      `SELECT count(*) FROM ${target}
        WHERE len(${TENANT_LIST_COLUMN}) = 0 OR len(list_filter(${TENANT_LIST_COLUMN}, lambda x: x IS NOT NULL)) <> len(${TENANT_LIST_COLUMN})`,
    );
    if (empty > 0) {
      throw new TenantError(`${file} has ${plural(empty, 'row')} with an empty ${TENANT_LIST_COLUMN} list or a null id in it; nothing was loaded`);
    }
    const unknown = await rowsOf(
      conn,
      `SELECT id, count(*) OVER () FROM (SELECT DISTINCT unnest(${TENANT_LIST_COLUMN}) AS id FROM ${target})
        WHERE NOT (${inIds('id', ids)}) ORDER BY id LIMIT 10`,
    );
    if (unknown.length > 0) {
      const total = Number(unknown[0]?.[1] ?? unknown.length);
      throw new TenantError(
        `${file} names tenants that are not registered with shared isolation: ${listIds(unknown.map((r) => String(r[0])), total)}; nothing was loaded`,
      );
    }
    tenants = await count(conn, `SELECT count(DISTINCT id) FROM (SELECT unnest(${TENANT_LIST_COLUMN}) AS id FROM ${target})`);
  });
  return { snapshot, rows, tenants };
}

// ---------------------------------------------------------------------------------------
// Removing a shared tenant

/**
 * Removes a tenant with shared isolation: one new shared snapshot without its rows (and
 * without its id in any tenant_ids list; rows left with an empty list go) is published by
 * the same registry update that deletes its entry.
 */
export async function removeSharedTenant(registry: Registry, tenantId: string): Promise<void> {
  validateTenantId(tenantId);
  const tenantLock = await registry.lockTenant(tenantId);
  try {
    const sharedLock = await registry.lockShared();
    try {
      const data = await registry.read();
      const t = requireShared(data, tenantId);
      const check = (d: RegistryData): void => {
        const cur = Object.hasOwn(d.tenants, tenantId) ? d.tenants[tenantId] : undefined;
        if (!cur || cur.createdAt !== t.createdAt) throw new TenantError(`unknown tenant ${JSON.stringify(tenantId)}`);
        if (cur.isolation !== 'shared') throw new TenantError(`tenant ${tenantId} was moved meanwhile; nothing was removed, try again`);
      };
      const apply = (d: RegistryData): void => {
        delete d.tenants[tenantId];
      };
      if (data.shared.snapshot === null) {
        await registry.update((d) => {
          check(d);
          apply(d);
        });
      } else {
        await buildSharedSnapshot(registry, async (conn) => void (await deleteTenantRows(conn, tenantId)), {
          lock: sharedLock,
          check,
          apply,
        });
      }
      // Files a failed move may have left in its own directory.
      await rm(registry.tenantDir(tenantId), { recursive: true, force: true });
    } finally {
      await sharedLock.release();
    }
  } finally {
    await tenantLock.release();
  }
}

// ---------------------------------------------------------------------------------------
// Reading the shared database

async function withReadOnly<T>(
  file: string,
  attach: readonly [alias: string, file: string][],
  fn: (conn: DuckDBConnection, catalog: string) => Promise<T>,
): Promise<T> {
  let instance: DuckDBInstance | null = null;
  let conn: DuckDBConnection | null = null;
  try {
    instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
    conn = await instance.connect();
    for (const [alias, p] of attach) await conn.run(`ATTACH ${lit(p)} AS ${q(alias)} (READ_ONLY)`);
    const catalog = String((await rowsOf(conn, 'SELECT current_database()'))[0]?.[0]);
    return await fn(conn, catalog);
  } finally {
    await closeQuietly(conn, instance);
  }
}

/** A shared table as one tenant sees it. */
export interface TenantSharedTable {
  table: string;
  tenantColumn: TenantColumn;
  /** The tenant's rows in it (for tenant_ids: the rows whose list names the tenant). */
  rows: number;
}

/**
 * The tables of the current shared database with the tenant's row counts (every table, also
 * those where it has none). Empty when there is no shared database yet.
 */
export async function sharedTablesOfTenant(registry: Registry, tenantId: string): Promise<TenantSharedTable[]> {
  validateTenantId(tenantId);
  for (let attempt = 1; ; attempt++) {
    const data = await registry.read();
    findTenant(data, tenantId);
    const file = registry.sharedSnapshotPath(data);
    if (file === null) return [];
    try {
      return await withReadOnly(file, [], async (conn) => {
        const out: TenantSharedTable[] = [];
        for (const t of await readSharedTables(conn)) {
          const mine =
            t.tenantColumn === TENANT_COLUMN
              ? `${TENANT_COLUMN} = ${lit(tenantId)}`
              : `list_contains(${TENANT_LIST_COLUMN}, ${lit(tenantId)})`;
          out.push({ table: t.name, tenantColumn: t.tenantColumn, rows: await count(conn, `SELECT count(*) FROM main.${q(t.name)} WHERE ${mine}`) });
        }
        return out;
      });
    } catch (e) {
      // Superseded and unlinked between reading the registry and opening it: read again.
      if (attempt < 3 && !(await exists(file))) continue;
      if (e instanceof TenantError) throw e;
      throw new TenantError(`cannot read the shared database ${file}: ${summarizeDuckDBError(e)}`);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Moving a tenant between the shared database and its own file

/** One table that moved, with the row count and checksum found equal on both sides. */
export interface MovedTable {
  table: string;
  rows: number;
  /** sum(hash(columns)) over the tenant's rows, as a decimal string. */
  checksum: string;
}

export interface MoveResult {
  tenant: string;
  from: Isolation;
  to: Isolation;
  tables: MovedTable[];
  /** The tenant's own snapshot after the move (null when it moved to shared, or had no data). */
  snapshot: string | null;
  /** The shared database's snapshot after the move. */
  sharedSnapshot: string | null;
  /** Moving to database: rows of tenant_ids tables that name the tenant; they do not move. */
  leftBehind: { table: string; rows: number }[];
  /** The rows' removal from the old place, after the switch; when it fails they stay there, invisible. */
  cleanup: { done: true } | { done: false; error: string };
}

const MOVE_SOURCE = 'tenantgate_move_source';

/** count(*) and sum(hash(columns)) of a relation, for comparing both sides of a move. */
async function checksum(conn: DuckDBConnection, relation: string, columns: readonly string[], where?: string): Promise<{ rows: number; sum: string }> {
  const r = await rowsOf(
    conn,
    `SELECT count(*), coalesce(sum(hash(${columns.map(q).join(', ')})), 0)::VARCHAR FROM ${relation}${where ? ` WHERE ${where}` : ''}`,
  );
  return { rows: firstCount(r), sum: String(r[0]?.[1] ?? '0') };
}

function verifyEqual(table: string, source: { rows: number; sum: string }, target: { rows: number; sum: string }): MovedTable {
  if (source.rows !== target.rows || source.sum !== target.sum) {
    throw new TenantError(
      `verification of table ${table} failed (source ${plural(source.rows, 'row')}, checksum ${source.sum}; ` +
        `copy ${plural(target.rows, 'row')}, checksum ${target.sum}); nothing was moved`,
    );
  }
  return { table, rows: source.rows, checksum: source.sum };
}

function errorText(e: unknown): string {
  return e instanceof TenantError ? e.message : summarizeDuckDBError(e);
}

/**
 * Moves a tenant between the shared database and a file of its own while the gateway serves
 * it. Under the tenant's lock and the shared lock: builds the target (a new tenant snapshot
 * holding its rows of every tenant_id table, or a new shared snapshot with its tables' rows
 * added), verifies row counts and checksums per table, then switches `isolation`, `snapshot`
 * and `shared.snapshot` with ONE registry update. Only then are the rows removed from the old
 * place; if that fails they stay there, invisible, and the next shared build removes them
 * (reported in `cleanup`). Any failure before the switch leaves the tenant where it was.
 */
export async function moveTenant(registry: Registry, tenantId: string, to: Isolation): Promise<MoveResult> {
  validateTenantId(tenantId);
  const target = parseIsolation(to);
  const before = findTenant(await registry.read(), tenantId);
  if (before.isolation === target) throw new TenantError(`tenant ${tenantId} already uses ${target} isolation`);
  const tenantLock = await registry.lockTenant(tenantId);
  try {
    const sharedLock = await registry.lockShared();
    try {
      const data = await registry.read();
      const t = findTenant(data, tenantId);
      if (t.isolation === target) throw new TenantError(`tenant ${tenantId} already uses ${target} isolation`);
      return target === 'database'
        ? await moveToDatabase(registry, data, t, tenantLock, sharedLock)
        : await moveToShared(registry, data, t, tenantLock, sharedLock);
    } finally {
      await sharedLock.release();
    }
  } finally {
    await tenantLock.release();
  }
}

/** The registry check of the switch: nothing the move was built on has changed. */
function checkUnchanged(data: RegistryData, t: TenantRecord, sharedBase: string | null): TenantRecord {
  const cur = Object.hasOwn(data.tenants, t.id) ? data.tenants[t.id] : undefined;
  if (!cur || cur.createdAt !== t.createdAt) throw new TenantError(`tenant ${t.id} was removed during the move`);
  if (cur.isolation !== t.isolation || cur.snapshot !== t.snapshot || data.shared.snapshot !== sharedBase) {
    throw new TenantError(`the data of tenant ${t.id} changed during the move; nothing was moved`);
  }
  return cur;
}

async function moveToDatabase(
  registry: Registry,
  data: RegistryData,
  t: TenantRecord,
  tenantLock: HeldLock,
  sharedLock: HeldLock,
): Promise<MoveResult> {
  const id = t.id;
  const sharedBase = data.shared.snapshot;
  const sharedPath = registry.sharedSnapshotPath(data);
  const tables: MovedTable[] = [];
  const leftBehind: { table: string; rows: number }[] = [];
  let staged: StagedSnapshot | null = null;

  if (sharedPath !== null) {
    if (!(await exists(sharedPath))) throw new TenantError(`the current snapshot of the shared database is missing: ${sharedPath}`);
    // Its own file starts empty: a shared tenant has no snapshot of its own.
    staged = await stageSnapshot(registry, tenantTarget(id), null, tenantLock, async (conn) => {
      await conn.run(`ATTACH ${lit(sharedPath)} AS ${MOVE_SOURCE} (READ_ONLY)`);
      for (const st of await readSharedTables(conn, MOVE_SOURCE)) {
        if (st.tenantColumn !== TENANT_COLUMN) continue;
        await conn.run(
          `CREATE TABLE main.${q(st.name)} AS SELECT ${st.columns.map((c) => q(c.name)).join(', ')}
             FROM ${MOVE_SOURCE}.main.${q(st.name)} WHERE ${TENANT_COLUMN} = ${lit(id)}`,
        );
      }
    });
    try {
      await withReadOnly(staged.path, [[MOVE_SOURCE, sharedPath]], async (conn, catalog) => {
        const copied = new Set((await catalogTables(conn, catalog)).map((x) => x.name));
        const moving = new Set<string>();
        for (const st of await readSharedTables(conn, MOVE_SOURCE)) {
          if (st.tenantColumn === TENANT_LIST_COLUMN) {
            const n = await count(conn, `SELECT count(*) FROM ${MOVE_SOURCE}.main.${q(st.name)} WHERE list_contains(${TENANT_LIST_COLUMN}, ${lit(id)})`);
            if (n > 0) leftBehind.push({ table: st.name, rows: n });
            continue;
          }
          moving.add(st.name);
          const cols = st.columns.map((c) => c.name);
          const source = await checksum(conn, `${MOVE_SOURCE}.main.${q(st.name)}`, cols, `${TENANT_COLUMN} = ${lit(id)}`);
          if (!copied.has(st.name)) throw new TenantError(`verification failed: table ${st.name} is missing from the copy; nothing was moved`);
          tables.push(verifyEqual(st.name, source, await checksum(conn, `${q(catalog)}.main.${q(st.name)}`, cols)));
        }
        const extra = [...copied].filter((name) => !moving.has(name));
        if (extra.length > 0) throw new TenantError(`verification failed: unexpected tables ${extra.join(', ')} in the copy; nothing was moved`);
      });
    } catch (e) {
      await rm(staged.path, { force: true });
      throw e;
    }
  }

  await publishStaged(registry, staged ? [staged] : [], [tenantLock, sharedLock], (d) => {
    const cur = checkUnchanged(d, t, sharedBase);
    cur.isolation = 'database';
    cur.snapshot = null; // set to the staged snapshot right after, when there is one
    cur.updatedAt = now();
  });
  if (staged) await removeSuperseded(registry.tenantDir(id), staged.name).catch(() => undefined);

  // Second step: its rows leave the shared database.
  let cleanup: MoveResult['cleanup'] = { done: true };
  let sharedSnapshot = sharedBase;
  if (tables.some((x) => x.rows > 0) || leftBehind.length > 0) {
    try {
      sharedSnapshot = (
        await buildSharedSnapshot(registry, async (conn) => void (await deleteTenantRows(conn, id)), { lock: sharedLock })
      ).snapshot;
    } catch (e) {
      cleanup = { done: false, error: errorText(e) };
    }
  }
  return { tenant: id, from: 'shared', to: 'database', tables, snapshot: staged?.name ?? null, sharedSnapshot, leftBehind, cleanup };
}

async function moveToShared(
  registry: Registry,
  data: RegistryData,
  t: TenantRecord,
  tenantLock: HeldLock,
  sharedLock: HeldLock,
): Promise<MoveResult> {
  const id = t.id;
  const sharedBase = data.shared.snapshot;
  const ownPath = registry.snapshotPath(t);
  const tables: MovedTable[] = [];
  let staged: StagedSnapshot | null = null;

  if (ownPath !== null && !(await exists(ownPath))) {
    throw new TenantError(`the current snapshot of tenant ${id} is missing: ${ownPath}`);
  }
  if (ownPath !== null || sharedBase !== null) {
    const tag = `CAST(${lit(id)} AS VARCHAR) AS ${TENANT_COLUMN}`;
    staged = await stageSnapshot(registry, SHARED_TARGET, sharedBase, sharedLock, async (conn) => {
      // The tenant is not shared yet: rows of it left by an earlier failed move go first.
      await purgeOrphans(conn, data);
      if (ownPath !== null) {
        await conn.run(`ATTACH ${lit(ownPath)} AS ${MOVE_SOURCE} (READ_ONLY)`);
        const views = await catalogViews(conn, MOVE_SOURCE);
        if (views.length > 0) throw new TenantError(`tenant ${id} has views (${views.join(', ')}); the shared database holds only tables`);
        const shared = new Map((await readSharedTables(conn)).map((x) => [x.name, x]));
        for (const own of await catalogTables(conn, MOVE_SOURCE)) {
          if (own.schema !== 'main') throw new TenantError(`tenant ${id} has table ${own.schema}.${own.name} outside schema main`);
          const clash = own.columns.find((c) => isTenantColumnName(c.name));
          if (clash) throw new TenantError(`table ${own.name} of tenant ${id} has a column named ${clash.name}, which the shared database reserves`);
          const source = `${MOVE_SOURCE}.main.${q(own.name)}`;
          const st = shared.get(own.name);
          if (!st) {
            await conn.run(`CREATE TABLE main.${q(own.name)} AS SELECT ${tag}, * FROM ${source}`);
            await setTenantColumnNotNull(conn, own.name, TENANT_COLUMN);
            continue;
          }
          if (st.tenantColumn !== TENANT_COLUMN) {
            throw new TenantError(`the shared table ${own.name} holds rows shared by several tenants (${TENANT_LIST_COLUMN}); table ${own.name} of tenant ${id} cannot move into it`);
          }
          const mismatch = columnMismatch(own.columns, st.columns);
          if (mismatch) throw new TenantError(`table ${own.name} of tenant ${id} does not fit the shared table ${own.name} (${mismatch})`);
          await conn.run(`INSERT INTO main.${q(own.name)} BY NAME SELECT ${tag}, * FROM ${source}`);
        }
      }
      await checkSharedShape(conn);
    });
    if (ownPath !== null) {
      try {
        await withReadOnly(staged.path, [[MOVE_SOURCE, ownPath]], async (conn, catalog) => {
          const shared = new Map((await readSharedTables(conn, catalog)).map((x) => [x.name, x]));
          for (const own of await catalogTables(conn, MOVE_SOURCE)) {
            const st = shared.get(own.name);
            if (!st) throw new TenantError(`verification failed: table ${own.name} is missing from the shared copy; nothing was moved`);
            const cols = st.columns.map((c) => c.name);
            const source = await checksum(conn, `${MOVE_SOURCE}.main.${q(own.name)}`, cols);
            const copy = await checksum(conn, `${q(catalog)}.main.${q(own.name)}`, cols, `${TENANT_COLUMN} = ${lit(id)}`);
            tables.push(verifyEqual(own.name, source, copy));
          }
        });
      } catch (e) {
        await rm(staged.path, { force: true });
        throw e;
      }
    }
  }

  await publishStaged(registry, staged ? [staged] : [], [tenantLock, sharedLock], (d) => {
    const cur = checkUnchanged(d, t, sharedBase);
    cur.isolation = 'shared';
    cur.snapshot = null;
    cur.updatedAt = now();
  });
  if (staged) await removeSuperseded(registry.sharedDir, staged.name).catch(() => undefined);

  // Second step: its own files go (a gateway still reading them keeps its hard links).
  let cleanup: MoveResult['cleanup'] = { done: true };
  try {
    await rm(registry.tenantDir(id), { recursive: true, force: true });
  } catch (e) {
    cleanup = { done: false, error: (e as Error).message };
  }
  return {
    tenant: id,
    from: 'database',
    to: 'shared',
    tables,
    snapshot: null,
    sharedSnapshot: staged?.name ?? sharedBase,
    leftBehind: [],
    cleanup,
  };
}

/** Why a tenant's table cannot go into an existing shared table, or null when it fits. */
function columnMismatch(own: readonly ColumnInfo[], shared: readonly ColumnInfo[]): string | null {
  const mine = new Map(own.map((c) => [c.name.toLowerCase(), c]));
  const theirs = new Map(shared.map((c) => [c.name.toLowerCase(), c]));
  const parts: string[] = [];
  const missing = shared.filter((c) => !mine.has(c.name.toLowerCase())).map((c) => c.name);
  const extra = own.filter((c) => !theirs.has(c.name.toLowerCase())).map((c) => c.name);
  if (missing.length > 0) parts.push(`missing ${missing.join(', ')}`);
  if (extra.length > 0) parts.push(`not in the shared table: ${extra.join(', ')}`);
  for (const c of own) {
    const s = theirs.get(c.name.toLowerCase());
    if (s && s.type !== c.type) parts.push(`${c.name} is ${c.type}, ${s.type} in the shared table`);
  }
  return parts.length > 0 ? parts.join('; ') : null;
}

// ---------------------------------------------------------------------------------------
// Splitting one global table into every tenant

export type SplitFileKind = FileKind | 'duckdb';

export interface SplitTenant {
  id: string;
  isolation: Isolation;
  rows: number;
  /** The snapshot published with its slice: its own, or the shared database's. */
  snapshot: string | null;
  /** Why its slice was not published; null when it was. */
  error: string | null;
}

export interface SplitResult {
  table: string;
  /** Rows in the file. */
  rows: number;
  tenants: SplitTenant[];
  /** Rows whose tenant_id is not a registered tenant (null: a NULL tenant_id), most rows first. */
  unknown: { id: string | null; rows: number }[];
}

const SPLIT_SOURCE = 'tenantgate_split_source';
const SPLIT_WORK = 'tenantgate_split_work';
const SPLIT_TABLE = 'global_rows';

function splitFileKind(file: string): SplitFileKind {
  if (path.extname(file).toLowerCase() === '.duckdb') return 'duckdb';
  try {
    return fileKind(file);
  } catch {
    const ext = path.extname(file).toLowerCase();
    throw new InvalidArgumentError(
      `unsupported file type ${JSON.stringify(ext || path.basename(file))}: use a .csv, .tsv, .parquet or .duckdb file`,
    );
  }
}

/**
 * Reads the global table once into a work database (validating all of it before anything is
 * published), with tenant_id as VARCHAR first and the rows sorted by it. Returns the number of
 * rows per tenant_id and the other columns.
 */
async function stageGlobalTable(
  work: string,
  table: string,
  kind: SplitFileKind,
  abs: string,
  file: string,
): Promise<{ counts: Map<string | null, number>; columns: string[] }> {
  let instance: DuckDBInstance | null = null;
  let conn: DuckDBConnection | null = null;
  try {
    instance = await DuckDBInstance.create(work);
    conn = await instance.connect();
    let source: string;
    if (kind === 'duckdb') {
      try {
        await conn.run(`ATTACH ${lit(abs)} AS ${SPLIT_SOURCE} (READ_ONLY)`);
      } catch (e) {
        throw new TenantError(`cannot open ${file}: ${summarizeDuckDBError(e)}`);
      }
      const found = await count(
        conn,
        `SELECT count(*) FROM duckdb_tables() WHERE database_name = ${lit(SPLIT_SOURCE)} AND schema_name = 'main' AND table_name = ${lit(table)}`,
      );
      if (found === 0) throw new TenantError(`${file} has no table main.${table}`);
      source = `${SPLIT_SOURCE}.main.${q(table)}`;
    } else {
      source = sourceSql(kind, abs);
    }
    try {
      const cols = await sourceColumns(conn, source);
      const tenantCol = cols.find((c) => c.toLowerCase() === TENANT_COLUMN);
      if (!tenantCol) throw new TenantError(`${file} has no ${TENANT_COLUMN} column`);
      const list = cols.find((c) => c.toLowerCase() === TENANT_LIST_COLUMN);
      if (list) throw new TenantError(`${file} has a ${list} column; split takes rows of single tenants (${TENANT_COLUMN})`);
      if (cols.length < 2) throw new TenantError(`${file} has no columns besides ${tenantCol}`);
      await conn.run(
        `CREATE TABLE ${SPLIT_TABLE} AS SELECT CAST(${q(tenantCol)} AS VARCHAR) AS ${TENANT_COLUMN}, * EXCLUDE (${q(tenantCol)})
           FROM ${source} ORDER BY 1`,
      );
    } catch (e) {
      if (e instanceof TenantError) throw e;
      throw new TenantError(`cannot read ${file}: ${summarizeDuckDBError(e)}`);
    }
    const counts = new Map<string | null, number>();
    for (const [id, n] of await rowsOf(conn, `SELECT ${TENANT_COLUMN}, count(*) FROM ${SPLIT_TABLE} GROUP BY ALL`)) {
      counts.set(id === null ? null : String(id), Number(n));
    }
    const columns = [...((await tableColumns(conn, SPLIT_TABLE)) ?? new Map()).keys()].filter((c) => c !== TENANT_COLUMN);
    await conn.run('CHECKPOINT');
    return { counts, columns };
  } finally {
    await closeQuietly(conn, instance);
  }
}

/**
 * Splits one global table (a CSV/TSV/Parquet file, or a .duckdb file holding a table of that
 * name) with a tenant_id column into every registered tenant: a tenant with database
 * isolation gets `CREATE OR REPLACE TABLE <table>` with its slice (without tenant_id) in its
 * own snapshot; the tenants with shared isolation get one shared build replacing the shared
 * table. Every registered tenant gets its slice, possibly empty. Rows of unregistered ids are
 * counted in `unknown` and not loaded. A tenant whose publication fails is reported in its
 * `error`; the others are published all the same.
 */
export async function splitTable(registry: Registry, table: string, file: string): Promise<SplitResult> {
  validateTableName(table);
  const kind = splitFileKind(file);
  const abs = path.resolve(file);
  await checkInputFile(abs);
  if (Object.keys((await registry.read()).tenants).length === 0) {
    throw new TenantError('there are no tenants to split into');
  }

  const workDir = path.join(registry.tmpDir, `split-${randomBytes(8).toString('hex')}`);
  await mkdir(workDir, { recursive: true, mode: 0o700 });
  try {
    const work = path.join(workDir, 'global.duckdb');
    const { counts, columns } = await stageGlobalTable(work, table, kind, abs, file);
    const attach = `ATTACH ${lit(work)} AS ${SPLIT_WORK} (READ_ONLY)`;
    const data = await registry.read();
    const results = new Map<string, SplitTenant>();
    const rowsFor = (id: string): number => counts.get(id) ?? 0;

    if (sharedTenantIds(data).length > 0) {
      let ids: string[] = [];
      try {
        const { snapshot } = await buildSharedSnapshot(registry, async (conn, d) => {
          const existing = (await readSharedTables(conn)).find((x) => x.name === table);
          if (existing && existing.tenantColumn !== TENANT_COLUMN) {
            throw new TenantError(`the shared table ${table} holds rows shared by several tenants (${TENANT_LIST_COLUMN}); split cannot replace it`);
          }
          // Every shared tenant's rows are replaced, so the table is replaced as a whole.
          ids = sharedTenantIds(d);
          await conn.run(attach);
          await conn.run(
            `CREATE OR REPLACE TABLE main.${q(table)} AS SELECT * FROM ${SPLIT_WORK}.main.${SPLIT_TABLE} WHERE ${inIds(TENANT_COLUMN, ids)}`,
          );
          await setTenantColumnNotNull(conn, table, TENANT_COLUMN);
        });
        for (const id of ids) results.set(id, { id, isolation: 'shared', rows: rowsFor(id), snapshot, error: null });
      } catch (e) {
        for (const id of sharedTenantIds(data)) {
          results.set(id, { id, isolation: 'shared', rows: rowsFor(id), snapshot: null, error: errorText(e) });
        }
      }
    }

    const select = columns.map(q).join(', ');
    for (const t of Object.values(data.tenants).sort((a, b) => a.id.localeCompare(b.id))) {
      if (t.isolation !== 'database') continue;
      try {
        const { snapshot } = await buildSnapshot(registry, t.id, async (conn) => {
          await conn.run(attach);
          await conn.run(
            `CREATE OR REPLACE TABLE main.${q(table)} AS SELECT ${select} FROM ${SPLIT_WORK}.main.${SPLIT_TABLE} WHERE ${TENANT_COLUMN} = ${lit(t.id)}`,
          );
        });
        results.set(t.id, { id: t.id, isolation: 'database', rows: rowsFor(t.id), snapshot, error: null });
      } catch (e) {
        results.set(t.id, { id: t.id, isolation: 'database', rows: rowsFor(t.id), snapshot: null, error: errorText(e) });
      }
    }

    const unknown = [...counts]
      .filter(([id]) => id === null || !Object.hasOwn(data.tenants, id))
      .map(([id, rows]) => ({ id, rows }))
      .sort((a, b) => b.rows - a.rows || String(a.id).localeCompare(String(b.id)));
    return {
      table,
      rows: [...counts.values()].reduce((a, b) => a + b, 0),
      tenants: [...results.values()].sort((a, b) => a.id.localeCompare(b.id)),
      unknown,
    };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
