// A tenant's data are immutable DuckDB files ("snapshots") in <data>/tenants/<id>/.
// Changing data means building a new file and publishing it:
//
//   lock tenant ─▶ copy current snapshot to .build-*.duckdb (or start empty)
//   ─▶ open it read-write in a private DuckDB instance ─▶ BEGIN; build(conn); COMMIT
//   ─▶ CHECKPOINT; close connection, then instance ─▶ no .wal left? ─▶ fsync
//   ─▶ rename to <seq>-<random>.duckdb ─▶ registry.update(tenant.snapshot = new name)
//   ─▶ unlink superseded snapshots ─▶ unlock
//
// A published file is never opened read-write again, so a gateway reading the previous
// snapshot keeps a consistent view through its open handle (POSIX unlink semantics), and
// any failure before the registry update leaves the tenant exactly as it was.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { copyFile, lstat, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError, TenantError, quoteIdent, quoteLiteral, validateTableName, validateTenantId } from './ids.js';
import { SNAPSHOT_FILE_RE, findTenant, fsyncDir, type Registry, type TenantRecord } from './registry.js';

/** Temporary files of a build in progress (or of a crashed one): `.build-<random>.duckdb[.wal|.tmp]`. */
const BUILD_PREFIX = '.build-';

export type LoadMode = 'create' | 'replace' | 'append';

function sequenceOf(name: string | null): number {
  if (name === null) return 0;
  const m = SNAPSHOT_FILE_RE.exec(name);
  return m ? Number(m[1]) : 0;
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

async function removeBuildFiles(file: string): Promise<void> {
  await Promise.all(
    [file, `${file}.wal`, `${file}.tmp`].map((p) => rm(p, { recursive: true, force: true })),
  );
}

async function fsyncFile(file: string): Promise<void> {
  const fh = await open(file, fsConstants.O_RDWR);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Removes what crashed builds left behind: `.build-*` entries older than our lock (a build
 * that is still running holds the lock, so anything older than it is dead).
 */
async function cleanLeftovers(dir: string, lockedAt: number): Promise<void> {
  for (const name of await readdir(dir)) {
    if (!name.startsWith(BUILD_PREFIX)) continue;
    const p = path.join(dir, name);
    try {
      const st = await lstat(p);
      if (st.mtimeMs < lockedAt) await rm(p, { recursive: true, force: true });
    } catch {
      // Gone already.
    }
  }
}

/** Unlinks every snapshot file of the tenant except `keep`. */
async function removeSuperseded(dir: string, keep: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name === keep || !SNAPSHOT_FILE_RE.test(name)) continue;
    await rm(path.join(dir, name), { force: true });
  }
}

async function closeQuietly(conn: DuckDBConnection | null, instance: DuckDBInstance | null): Promise<void> {
  // The connection first: an instance does not release its file while a connection is open.
  try {
    conn?.disconnectSync();
  } catch {
    // Closing is best effort on the failure path.
  }
  try {
    instance?.closeSync();
  } catch {
    // Same.
  }
}

/**
 * Builds a new snapshot of the tenant from its current one (or from an empty database),
 * running `build` inside one transaction, and publishes it. Serialised per tenant across
 * processes. On any failure nothing changes: no file is left, the registry is untouched.
 */
export async function buildSnapshot(
  registry: Registry,
  tenantId: string,
  build: (conn: DuckDBConnection) => Promise<void>,
): Promise<{ snapshot: string }> {
  validateTenantId(tenantId);
  checkLoadable(findTenant(await registry.read(), tenantId));

  const dir = registry.tenantDir(tenantId);
  const lock = await registry.lockTenant(tenantId);
  try {
    // Under the lock: this is the state we build on, and must still be current at publish.
    const tenant = findTenant(await registry.read(), tenantId);
    checkLoadable(tenant);
    const baseSnapshot = tenant.snapshot;
    const basePath = registry.snapshotPath(tenant);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await cleanLeftovers(dir, lock.acquiredAt);

    let seq = sequenceOf(baseSnapshot);
    for (const name of await readdir(dir)) seq = Math.max(seq, sequenceOf(name));
    const snapshot = `${String(seq + 1).padStart(6, '0')}-${randomBytes(4).toString('hex')}.duckdb`;
    const finalPath = path.join(dir, snapshot);
    const tmpPath = path.join(dir, `${BUILD_PREFIX}${randomBytes(8).toString('hex')}.duckdb`);

    let published = false;
    try {
      if (basePath !== null) {
        if (!(await exists(basePath))) {
          throw new TenantError(`the current snapshot of tenant ${tenantId} is missing: ${basePath}`);
        }
        await copyFile(basePath, tmpPath);
      }

      let instance: DuckDBInstance | null = null;
      let conn: DuckDBConnection | null = null;
      try {
        instance = await DuckDBInstance.create(tmpPath);
        conn = await instance.connect();
        await conn.run('BEGIN TRANSACTION');
        try {
          await build(conn);
          await conn.run('COMMIT');
        } catch (e) {
          try {
            await conn.run('ROLLBACK');
          } catch {
            // The transaction may already be aborted; the file is discarded anyway.
          }
          throw e;
        }
        await conn.run('CHECKPOINT');
      } finally {
        await closeQuietly(conn, instance);
      }

      if (await exists(`${tmpPath}.wal`)) {
        throw new Error(`DuckDB left a write-ahead log beside ${tmpPath} after CHECKPOINT and close`);
      }
      await rm(`${tmpPath}.tmp`, { recursive: true, force: true });
      await fsyncFile(tmpPath);
      if (lock.compromised) {
        throw new TenantError(`lost the lock of tenant ${tenantId} (${lock.compromised.message}); nothing was published`);
      }
      await rename(tmpPath, finalPath);
      await fsyncDir(dir);

      try {
        await registry.update((data) => {
          const t = Object.hasOwn(data.tenants, tenantId) ? data.tenants[tenantId] : undefined;
          if (!t || t.createdAt !== tenant.createdAt) {
            throw new TenantError(`tenant ${tenantId} was removed while its data were being loaded`);
          }
          if (t.snapshot !== baseSnapshot) {
            throw new TenantError(`the data of tenant ${tenantId} changed during the load; nothing was published`);
          }
          t.snapshot = snapshot;
          t.updatedAt = new Date().toISOString();
        });
      } catch (e) {
        // Unpublished unless the registry was written and only a later step failed.
        const after = await registry.read().catch(() => null);
        const current = after && Object.hasOwn(after.tenants, tenantId) ? after.tenants[tenantId]?.snapshot : null;
        if (current !== snapshot) await rm(finalPath, { force: true });
        throw e;
      }
      published = true;
    } finally {
      if (!published) await removeBuildFiles(tmpPath);
    }

    // Old files may still be open in a gateway; unlinking frees their space when it closes them.
    await removeSuperseded(dir, snapshot).catch(() => undefined);
    return { snapshot };
  } finally {
    await lock.release();
  }
}

function checkLoadable(t: TenantRecord): void {
  if (t.isolation !== 'database') {
    throw new TenantError(
      `tenant ${t.id} uses ${t.isolation} isolation: loading data into it is not supported yet`,
    );
  }
}

// ---------------------------------------------------------------------------------------
// Loading files

type FileKind = 'csv' | 'tsv' | 'parquet';

function fileKind(file: string): FileKind {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv') return 'tsv';
  if (ext === '.parquet') return 'parquet';
  throw new InvalidArgumentError(
    `unsupported file type ${JSON.stringify(ext || path.basename(file))}: use a .csv, .tsv or .parquet file`,
  );
}

/**
 * The table function reading the file. CSV/TSV use a fixed dialect (comma or tab, double
 * quotes, a header line) in strict mode, so a malformed row is an error rather than a
 * silently re-guessed layout; column types are detected, or given by `types`.
 */
function sourceSql(kind: FileKind, file: string, types?: Map<string, string>): string {
  const f = quoteLiteral(file);
  if (kind === 'parquet') return `read_parquet(${f})`;
  const delim = kind === 'tsv' ? '\t' : ',';
  let sql = `read_csv(${f}, delim=${quoteLiteral(delim)}, quote='"', escape='"', comment='', header=true, skip=0, strict_mode=true, auto_detect=true`;
  if (types && types.size > 0) {
    const entries = [...types].map(([col, type]) => `${quoteLiteral(col)}: ${quoteLiteral(type)}`);
    sql += `, types={${entries.join(', ')}}`;
  }
  return `${sql})`;
}

/** DuckDB's messages run over many lines; keep the part that says what went wrong. */
export function summarizeDuckDBError(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const lines: string[] = [];
  for (const raw of message.split('\n')) {
    const line = raw.trim();
    if (line === '') {
      if (lines.length > 0) break;
      continue;
    }
    if (/^(LINE \d+:|Possible (fixes|solutions):|The search space used was:)/.test(line)) break;
    lines.push(line);
    if (lines.length === 3) break;
  }
  const text = lines.reduce((acc, l) => (acc === '' ? l : `${acc}${/[.;:!?]$/.test(acc) ? ' ' : '; '}${l}`), '').replace(/\s+/g, ' ');
  return text.length > 400 ? `${text.slice(0, 400)}...` : text || 'unknown DuckDB error';
}

async function checkInputFile(file: string): Promise<void> {
  if (/[*?[\]{}]/.test(file)) {
    throw new InvalidArgumentError(`file names with glob characters (* ? [ ] { }) are not supported: ${file}`);
  }
  let st;
  try {
    st = await stat(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new TenantError(`file not found: ${file}`);
    throw new TenantError(`cannot read ${file}: ${(e as Error).message}`);
  }
  if (!st.isFile()) throw new TenantError(`not a regular file: ${file}`);
  try {
    const fh = await open(file, fsConstants.O_RDONLY);
    await fh.close();
  } catch (e) {
    throw new TenantError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (st.size === 0) throw new TenantError(`file is empty: ${file}`);
}

async function tableColumns(conn: DuckDBConnection, table: string): Promise<Map<string, string> | null> {
  const reader = await conn.runAndReadAll(
    `SELECT column_name, data_type FROM information_schema.columns
      WHERE table_catalog = current_database() AND table_schema = 'main' AND table_name = $1
      ORDER BY ordinal_position`,
    [table],
  );
  const rows = reader.getRows();
  if (rows.length === 0) return null; // a table always has at least one column
  return new Map(rows.map((r) => [String(r[0]), String(r[1])]));
}

async function sourceColumns(conn: DuckDBConnection, source: string): Promise<string[]> {
  const reader = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
  return reader.getRows().map((r) => String(r[0]));
}

function firstCount(rows: unknown[][]): number {
  const v = rows[0]?.[0];
  return typeof v === 'bigint' || typeof v === 'number' ? Number(v) : 0;
}

/**
 * Loads a CSV/TSV/Parquet file into a table of the tenant and publishes a new snapshot.
 * create: the table must not exist. replace: CREATE OR REPLACE. append: INSERT ... BY NAME
 * into an existing table whose columns the file must match exactly (by name, any order).
 * A bad file loads nothing. Returns the new snapshot and the number of rows loaded.
 */
export async function loadTable(
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

  const target = quoteIdent(table);
  let rows = 0;
  const { snapshot } = await buildSnapshot(registry, tenantId, async (conn) => {
    const existing = await tableColumns(conn, table);
    if (mode === 'create' && existing) {
      throw new TenantError(`table ${table} already exists; use --replace or --append`);
    }
    if (mode === 'append' && !existing) {
      throw new TenantError(`table ${table} does not exist; load it without --append first`);
    }
    try {
      if (mode === 'append' && existing) {
        const cols = await sourceColumns(conn, sourceSql(kind, abs));
        const fileCols = new Map(cols.map((c) => [c.toLowerCase(), c]));
        const tableCols = new Set([...existing.keys()].map((c) => c.toLowerCase()));
        const extra = [...fileCols.keys()].filter((c) => !tableCols.has(c));
        const missing = [...existing.keys()].filter((c) => !fileCols.has(c.toLowerCase()));
        if (extra.length > 0 || missing.length > 0 || fileCols.size !== cols.length) {
          const parts: string[] = [];
          if (missing.length > 0) parts.push(`missing ${missing.join(', ')}`);
          if (extra.length > 0) parts.push(`not in the table: ${cols.filter((c) => extra.includes(c.toLowerCase())).join(', ')}`);
          if (fileCols.size !== cols.length) parts.push('duplicate column names');
          throw new TenantError(`the columns of ${file} do not fit table ${table} (${parts.join('; ')})`);
        }
        // Read CSV values straight as the table's types: a value that does not fit is an error.
        const types = new Map<string, string>();
        if (kind !== 'parquet') {
          for (const [col, type] of existing) types.set(fileCols.get(col.toLowerCase()) ?? col, type);
        }
        const r = await conn.runAndReadAll(`INSERT INTO ${target} BY NAME SELECT * FROM ${sourceSql(kind, abs, types)}`);
        rows = firstCount(r.getRows());
      } else {
        const verb = mode === 'replace' ? 'CREATE OR REPLACE TABLE' : 'CREATE TABLE';
        const r = await conn.runAndReadAll(`${verb} ${target} AS SELECT * FROM ${sourceSql(kind, abs)}`);
        rows = firstCount(r.getRows());
      }
    } catch (e) {
      if (e instanceof TenantError) throw e;
      throw new TenantError(`cannot load ${file} into ${table}: ${summarizeDuckDBError(e)}`);
    }
  });
  return { snapshot, rows };
}
