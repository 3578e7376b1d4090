// A tenant's data are immutable DuckDB files ("snapshots") in <data>/tenants/<id>/; the
// shared database (tenants with shared isolation) is the same kind of file in <data>/shared/.
// Changing data means building a new file and publishing it. One routine does it for both
// targets:
//
//   lock target ─▶ copy current snapshot to .build-*.duckdb (or start empty)
//   ─▶ open it read-write in a private DuckDB instance ─▶ BEGIN; build(conn); COMMIT
//   ─▶ CHECKPOINT; close connection, then instance ─▶ no .wal left? ─▶ fsync
//   ─▶ rename to <seq>-<random>.duckdb ─▶ registry.update(snapshot name = new name)
//   ─▶ unlink superseded snapshots ─▶ unlock
//
// The steps are also available separately (stageSnapshot, publishStaged) for operations
// that build more than one file and switch to all of them with one registry update.
//
// A published file is never opened read-write again, so a gateway reading the previous
// snapshot keeps a consistent view through its open handle (POSIX unlink semantics), and
// any failure before the registry update leaves the data exactly as they were.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { copyFile, lstat, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError, TenantError, quoteIdent, validateTableName, validateTenantId } from './ids.js';
import {
  SNAPSHOT_FILE_RE,
  findTenant,
  fsyncDir,
  type HeldLock,
  type Isolation,
  type Registry,
  type RegistryData,
  type TenantRecord,
} from './registry.js';
import {
  checkColumnsFit,
  checkInputFile,
  fileKind,
  firstCount,
  sourceColumns,
  sourceSql,
  summarizeDuckDBError,
  tableColumns,
} from './sources.js';

export { summarizeDuckDBError } from './sources.js';

/** Temporary files of a build in progress (or of a crashed one): `.build-<random>.duckdb[.wal|.tmp]`. */
const BUILD_PREFIX = '.build-';

export type LoadMode = 'create' | 'replace' | 'append';

/** What a build publishes: one tenant's own snapshot, or the shared database. */
export type SnapshotTarget = { readonly kind: 'tenant'; readonly tenantId: string } | { readonly kind: 'shared' };

export const SHARED_TARGET: SnapshotTarget = Object.freeze({ kind: 'shared' });

export function tenantTarget(tenantId: string): SnapshotTarget {
  return { kind: 'tenant', tenantId: validateTenantId(tenantId) };
}

function describeTarget(target: SnapshotTarget): string {
  return target.kind === 'tenant' ? `tenant ${target.tenantId}` : 'the shared database';
}

/** The directory holding the target's snapshots. */
export function targetDir(registry: Registry, target: SnapshotTarget): string {
  return target.kind === 'tenant' ? registry.tenantDir(target.tenantId) : registry.sharedDir;
}

/** The name of the target's current snapshot in `data` (null: none; unknown tenant: TenantError). */
export function currentSnapshot(data: RegistryData, target: SnapshotTarget): string | null {
  return target.kind === 'tenant' ? findTenant(data, target.tenantId).snapshot : data.shared.snapshot;
}

/** Takes the target's cross-process lock (the tenant's lock, or the shared lock). */
export function lockTarget(registry: Registry, target: SnapshotTarget): Promise<HeldLock> {
  return target.kind === 'tenant' ? registry.lockTenant(target.tenantId) : registry.lockShared();
}

function setSnapshot(data: RegistryData, target: SnapshotTarget, name: string): void {
  if (target.kind === 'shared') {
    data.shared.snapshot = name;
    return;
  }
  const t = findTenant(data, target.tenantId);
  t.snapshot = name;
  t.updatedAt = new Date().toISOString();
}

function sequenceOf(name: string | null): number {
  if (name === null) return 0;
  const m = SNAPSHOT_FILE_RE.exec(name);
  return m ? Number(m[1]) : 0;
}

export async function exists(p: string): Promise<boolean> {
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

/**
 * Unlinks every snapshot file in `dir` except `keep` (null: all of them). A missing
 * directory has nothing to remove.
 */
export async function removeSuperseded(dir: string, keep: string | null): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for (const name of names) {
    if (name === keep || !SNAPSHOT_FILE_RE.test(name)) continue;
    await rm(path.join(dir, name), { force: true });
  }
}

export async function closeQuietly(conn: DuckDBConnection | null, instance: DuckDBInstance | null): Promise<void> {
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

/** A built, checkpointed and fsynced snapshot file under its final name, not yet published. */
export interface StagedSnapshot {
  readonly target: SnapshotTarget;
  /** File name, `<seq>-<random>.duckdb`. */
  readonly name: string;
  /** Absolute path. */
  readonly path: string;
}

/**
 * Builds a new snapshot file of the target from its current snapshot `base` (null: from an
 * empty database), running `build` inside one transaction, and gives it its final name.
 * The caller holds `lock` (the target's lock) and publishes the file with publishStaged or
 * deletes it. On failure no file is left behind.
 */
export async function stageSnapshot(
  registry: Registry,
  target: SnapshotTarget,
  base: string | null,
  lock: HeldLock,
  build: (conn: DuckDBConnection) => Promise<void>,
): Promise<StagedSnapshot> {
  const dir = targetDir(registry, target);
  let basePath: string | null = null;
  if (base !== null) {
    if (!SNAPSHOT_FILE_RE.test(base)) {
      throw new TenantError(`${describeTarget(target)} has an invalid snapshot name ${JSON.stringify(base)}`);
    }
    basePath = path.join(dir, base);
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await cleanLeftovers(dir, lock.acquiredAt);

  let seq = sequenceOf(base);
  for (const name of await readdir(dir)) seq = Math.max(seq, sequenceOf(name));
  const name = `${String(seq + 1).padStart(6, '0')}-${randomBytes(4).toString('hex')}.duckdb`;
  const finalPath = path.join(dir, name);
  const tmpPath = path.join(dir, `${BUILD_PREFIX}${randomBytes(8).toString('hex')}.duckdb`);

  let renamed = false;
  try {
    if (basePath !== null) {
      if (!(await exists(basePath))) {
        const what = target.kind === 'tenant' ? `the current snapshot of tenant ${target.tenantId}` : 'the current snapshot of the shared database';
        throw new TenantError(`${what} is missing: ${basePath}`);
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
      throw new TenantError(`lost the lock of ${describeTarget(target)} (${lock.compromised.message}); nothing was published`);
    }
    await rename(tmpPath, finalPath);
    renamed = true;
    await fsyncDir(dir);
  } catch (e) {
    await removeBuildFiles(tmpPath);
    if (renamed) await rm(finalPath, { force: true });
    throw e;
  }
  return { target, name, path: finalPath };
}

/**
 * Publishes staged snapshots with ONE registry update: `apply` checks that what they were
 * built on is still current (throwing refuses the update) and may make further changes in
 * the same update; then each target's snapshot name is set. If the update fails, the staged
 * files that did not get published are deleted and the error propagates.
 */
export async function publishStaged(
  registry: Registry,
  staged: readonly StagedSnapshot[],
  locks: readonly HeldLock[],
  apply: (data: RegistryData) => void,
): Promise<void> {
  try {
    await registry.update((data) => {
      for (const lock of locks) {
        if (lock.compromised) throw new TenantError(`lost a lock (${lock.compromised.message}); nothing was published`);
      }
      apply(data);
      for (const s of staged) setSnapshot(data, s.target, s.name);
    });
  } catch (e) {
    // Unpublished unless the registry was written and only a later step failed.
    const after = await registry.read().catch(() => null);
    for (const s of staged) {
      let current: string | null = null;
      try {
        current = after ? currentSnapshot(after, s.target) : null;
      } catch {
        // The tenant is gone: its file is not current.
      }
      if (current !== s.name) await rm(s.path, { force: true });
    }
    throw e;
  }
}

export interface PublishOptions {
  /** The target's lock, already held by the caller (who releases it); else it is taken here. */
  lock?: HeldLock;
  /** Checks on the registry, run under the lock before the build and again in the publishing update. */
  check?: (data: RegistryData) => void;
  /** Further registry changes made by the publishing update itself. */
  apply?: (data: RegistryData) => void;
}

/**
 * Builds a new snapshot of the target from its current one (or from an empty database),
 * running `build` inside one transaction with the registry as read under the target's
 * lock, and publishes it. Serialised per target across processes. On any failure nothing
 * changes: no file is left, the registry is untouched.
 */
export async function publishSnapshot(
  registry: Registry,
  target: SnapshotTarget,
  build: (conn: DuckDBConnection, data: RegistryData) => Promise<void>,
  opts: PublishOptions = {},
): Promise<{ snapshot: string }> {
  if (target.kind === 'tenant') {
    validateTenantId(target.tenantId);
    checkLoadable(findTenant(await registry.read(), target.tenantId));
  }
  const lock = opts.lock ?? (await lockTarget(registry, target));
  try {
    // Under the lock: this is the state we build on, and must still be current at publish.
    const data = await registry.read();
    const tenant = target.kind === 'tenant' ? findTenant(data, target.tenantId) : null;
    if (tenant) checkLoadable(tenant);
    opts.check?.(data);
    const base = currentSnapshot(data, target);

    const staged = await stageSnapshot(registry, target, base, lock, (conn) => build(conn, data));
    await publishStaged(registry, [staged], [lock], (now) => {
      if (target.kind === 'tenant') {
        const id = target.tenantId;
        const t = Object.hasOwn(now.tenants, id) ? now.tenants[id] : undefined;
        if (!t || t.createdAt !== tenant?.createdAt) {
          throw new TenantError(`tenant ${id} was removed while its data were being loaded`);
        }
        if (t.snapshot !== base || t.isolation !== tenant.isolation) {
          throw new TenantError(`the data of tenant ${id} changed during the load; nothing was published`);
        }
      } else if (now.shared.snapshot !== base) {
        throw new TenantError('the shared database changed during the load; nothing was published');
      }
      opts.check?.(now);
      opts.apply?.(now);
    });

    // Old files may still be open in a gateway; unlinking frees their space when it closes them.
    await removeSuperseded(targetDir(registry, target), staged.name).catch(() => undefined);
    return { snapshot: staged.name };
  } finally {
    if (!opts.lock) await lock.release();
  }
}

/**
 * Builds a new snapshot of the tenant from its current one (or from an empty database),
 * running `build` inside one transaction, and publishes it. Serialised per tenant across
 * processes. On any failure nothing changes: no file is left, the registry is untouched.
 * Only for tenants with database isolation (the shared database: buildSharedSnapshot).
 */
export async function buildSnapshot(
  registry: Registry,
  tenantId: string,
  build: (conn: DuckDBConnection) => Promise<void>,
): Promise<{ snapshot: string }> {
  return publishSnapshot(registry, tenantTarget(tenantId), (conn) => build(conn));
}

function checkLoadable(t: TenantRecord): void {
  if (t.isolation !== 'database') {
    throw new TenantError(
      `tenant ${t.id} uses ${t.isolation} isolation: a snapshot of its own is not supported yet ` +
        `(its rows live in the shared database; move it first with: tenantgate tenant move ${t.id} --isolation database)`,
    );
  }
}

// ---------------------------------------------------------------------------------------
// Loading files

/**
 * Loads a CSV/TSV/Parquet file into a table of the tenant and publishes a new snapshot.
 * create: the table must not exist. replace: CREATE OR REPLACE. append: INSERT ... BY NAME
 * into an existing table whose columns the file must match exactly (by name, any order).
 * A bad file loads nothing. Returns the new snapshot and the number of rows loaded.
 *
 * For a tenant with shared isolation the rows go into the shared database instead (see
 * loadSharedTenantTable); `snapshot` is then the shared database's new snapshot.
 */
export async function loadTable(
  registry: Registry,
  tenantId: string,
  table: string,
  file: string,
  mode: LoadMode,
): Promise<{ snapshot: string; rows: number; isolation: Isolation }> {
  validateTenantId(tenantId);
  validateTableName(table);
  if (mode !== 'create' && mode !== 'replace' && mode !== 'append') {
    throw new InvalidArgumentError(`unknown load mode ${JSON.stringify(mode)}`);
  }
  const kind = fileKind(file);
  const abs = path.resolve(file);
  await checkInputFile(abs);
  if (findTenant(await registry.read(), tenantId).isolation === 'shared') {
    // Loaded on demand (and no import cycle at load time): shared.ts builds on this module.
    const { loadSharedTenantTable } = await import('./shared.js');
    return { ...(await loadSharedTenantTable(registry, tenantId, table, file, mode)), isolation: 'shared' };
  }

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
        const fileCols = checkColumnsFit(await sourceColumns(conn, sourceSql(kind, abs)), [...existing.keys()], file, table);
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
  return { snapshot, rows, isolation: 'database' };
}
