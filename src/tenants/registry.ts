// The tenant registry: one JSON file, <data>/registry.json, holding every tenant, its plan,
// its isolation, its users (SCRAM verifiers only, never passwords), the name of its current
// snapshot (database isolation) and the name of the current shared database (shared isolation).
//
// Readers never lock: the file is only ever replaced by an atomic rename, so a reader sees
// either the old or the new version. Writers go through Registry.update(), which takes a
// cross-process lock (proper-lockfile), re-reads, applies the change, validates the result
// and writes it atomically (write-file-atomic, fsync, mode 0600).
import { createScramSha256Data, type ScramSha256Data } from 'pg-gateway';
import lockfile from 'proper-lockfile';
import writeFileAtomic from 'write-file-atomic';
import { constants as fsConstants } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import {
  InvalidArgumentError,
  MAX_IDENTIFIER_LENGTH,
  TenantError,
  isValidTableName,
  isValidTenantId,
  isValidUserName,
  validatePassword,
  validateTenantId,
  validateTableName,
  validateTenantName,
  validateUserName,
} from './ids.js';
import { describeUserLimit, getPlan, planSchema, validatePlan, type Plan } from './plans.js';

export type Isolation = 'database' | 'shared';
export type TenantStatus = 'active' | 'suspended';

export interface UserRecord {
  name: string;
  scram: ScramSha256Data;
  createdAt: string;
}

export interface TenantRecord {
  id: string;
  name: string;
  plan: string;
  isolation: Isolation;
  status: TenantStatus;
  /** At least one. `tenant add` creates the first one, named like the tenant id. */
  users: UserRecord[];
  /**
   * File name (inside tenants/<id>/) of the current published snapshot; null = no data yet.
   * Always null for a tenant with shared isolation: its rows live in the shared database.
   */
  snapshot: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface RegistryData {
  version: 1;
  tenants: Record<string, TenantRecord>;
  /** The shared database: file name (inside shared/) of its current snapshot; null = none yet. */
  shared: { snapshot: string | null };
  /** Plans defined by the operator (`tenantgate plan set`); they replace built-in plans of the same name. */
  plans?: Record<string, Plan>;
  /**
   * Declared time columns (`tenantgate history set`), by lower-cased table name: a plan's
   * history window hides the rows of such a table whose time column is older than the window.
   */
  timeColumns?: Record<string, string>;
  /** The operator's admin credentials (`tenantgate admin passwd`): they open the admin database only. */
  admins?: UserRecord[];
}

export const ISOLATIONS: readonly Isolation[] = ['database', 'shared'];

/** Published snapshot files: `<sequence>-<random hex>.duckdb`, e.g. `000007-3f9a12c4.duckdb`. */
export const SNAPSHOT_FILE_RE = /^(\d{6,})-([0-9a-f]{8,32})\.duckdb$/;

// ---------------------------------------------------------------------------------------
// Validation

const base64 = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'expected base64');

const scramSchema = z.strictObject({
  salt: base64,
  iterations: z.number().int().min(1).max(10_000_000),
  storedKey: base64,
  serverKey: base64,
});

const userSchema = z.strictObject({
  name: z.string().refine(isValidUserName, 'invalid user name'),
  scram: scramSchema,
  createdAt: z.string().min(1),
});

const tenantSchema = z.strictObject({
  id: z.string().refine(isValidTenantId, 'invalid tenant id'),
  name: z.string().min(1),
  plan: z.string().min(1),
  isolation: z.enum(['database', 'shared']),
  status: z.enum(['active', 'suspended']),
  users: z.array(userSchema).min(1, 'a tenant needs at least one user'),
  snapshot: z.string().regex(SNAPSHOT_FILE_RE, 'not a snapshot file name').nullable(),
  createdAt: z.string().min(1),
  updatedAt: z.string().min(1),
});

const registrySchema = z
  .strictObject({
    version: z.literal(1),
    tenants: z.record(z.string(), tenantSchema),
    shared: z.strictObject({
      snapshot: z.string().regex(SNAPSHOT_FILE_RE, 'not a snapshot file name').nullable(),
    }),
    plans: z.record(z.string(), planSchema).optional(),
    admins: z.array(userSchema).optional(),
    timeColumns: z.record(z.string().refine(isValidTableName, 'invalid table name'), z.string().min(1).max(MAX_IDENTIFIER_LENGTH)).optional(),
  })
  .superRefine((data, ctx) => {
    for (const [key, p] of Object.entries(data.plans ?? {})) {
      if (p.name !== key) {
        ctx.addIssue({ code: 'custom', path: ['plans', key, 'name'], message: `name ${JSON.stringify(p.name)} differs from its key` });
      }
    }
    for (const [key, t] of Object.entries(data.tenants)) {
      if (t.id !== key) {
        ctx.addIssue({ code: 'custom', path: ['tenants', key, 'id'], message: `id ${JSON.stringify(t.id)} differs from its key` });
      }
      const seen = new Set<string>();
      for (const u of t.users) {
        if (seen.has(u.name)) {
          ctx.addIssue({ code: 'custom', path: ['tenants', key, 'users'], message: `duplicate user ${JSON.stringify(u.name)}` });
        }
        seen.add(u.name);
      }
    }
  });

function formatIssues(error: z.ZodError): string {
  const issues = error.issues.slice(0, 3).map((i) => {
    const where = i.path.length > 0 ? i.path.map(String).join('.') : '(top level)';
    return `${where}: ${i.message}`;
  });
  const more = error.issues.length > 3 ? ` (and ${error.issues.length - 3} more)` : '';
  return issues.join('; ') + more;
}

/** An empty registry: what an absent registry.json means. */
export function emptyRegistry(): RegistryData {
  return { version: 1, tenants: {}, shared: { snapshot: null } };
}

/**
 * Parses and validates registry JSON. A corrupt or invalid file is a TenantError naming
 * `file` (default "registry.json") and what is wrong with it.
 */
export function parseRegistry(json: string, file = 'registry.json'): RegistryData {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new TenantError(`registry ${file} is corrupt: not valid JSON (${(e as Error).message})`);
  }
  const result = registrySchema.safeParse(raw);
  if (!result.success) {
    throw new TenantError(`registry ${file} is invalid: ${formatIssues(result.error)}`);
  }
  return result.data;
}

/** The data directory: the --data value, else $TENANTGATE_DATA, else ./data. Absolute. */
export function resolveDataDir(dir?: string): string {
  const chosen = dir !== undefined && dir !== '' ? dir : process.env.TENANTGATE_DATA || 'data';
  return path.resolve(chosen);
}

// ---------------------------------------------------------------------------------------
// Locks

/** A held proper-lockfile lock. `compromised` is set if the lock was lost while held. */
export interface HeldLock {
  readonly acquiredAt: number;
  readonly compromised: Error | null;
  release(): Promise<void>;
}

interface LockPolicy {
  retries: number;
  minTimeout: number;
  maxTimeout: number;
}

/** Registry writes are short: wait up to ~25 s (longer than the 10 s stale threshold). */
const REGISTRY_LOCK: LockPolicy = { retries: 100, minTimeout: 10, maxTimeout: 250 };
/** A tenant lock (or the shared lock) is held for a whole data load: wait up to ~10 minutes. */
const TENANT_LOCK: LockPolicy = { retries: 620, minTimeout: 50, maxTimeout: 1000 };

async function acquireLock(target: string, lockfilePath: string, policy: LockPolicy, busy: string): Promise<HeldLock> {
  let compromised: Error | null = null;
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(target, {
      lockfilePath,
      realpath: false,
      stale: 10_000,
      retries: { ...policy, factor: 1.3, randomize: true },
      // The default throws from a timer and kills the process; record it instead, and let
      // the holder refuse to publish anything once the lock is no longer exclusively its own.
      onCompromised: (err) => {
        compromised = err;
      },
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOCKED') throw new TenantError(busy);
    throw e;
  }
  const acquiredAt = Date.now();
  return {
    acquiredAt,
    get compromised() {
      return compromised;
    },
    async release() {
      try {
        await release();
      } catch (e) {
        // Already released or taken over as stale: nothing left to release.
        if (compromised === null && (e as NodeJS.ErrnoException).code !== 'ERELEASED') throw e;
      }
    },
  };
}

/** fsync a directory so a rename inside it is durable. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, fsConstants.O_RDONLY);
    await fh.sync();
  } catch (e) {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw e;
  } finally {
    await fh?.close();
  }
}

// ---------------------------------------------------------------------------------------
// The registry

export class Registry {
  readonly dataDir: string;
  /** <data>/registry.json */
  readonly path: string;
  /** <data>/registry.json.lock (a directory, as proper-lockfile makes it) */
  readonly lockPath: string;

  constructor(dataDir: string) {
    this.dataDir = path.resolve(dataDir);
    this.path = path.join(this.dataDir, 'registry.json');
    this.lockPath = `${this.path}.lock`;
  }

  /** The current registry, without locking. An absent file is an empty registry. */
  async read(): Promise<RegistryData> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyRegistry();
      throw new TenantError(`cannot read registry ${this.path}: ${(e as Error).message}`);
    }
    return parseRegistry(text, this.path);
  }

  /**
   * Locks the registry, re-reads it, lets `fn` mutate it, validates the result and writes it
   * atomically. If `fn` throws, nothing is written and the error propagates.
   */
  async update<T>(fn: (data: RegistryData) => T | Promise<T>): Promise<T> {
    await mkdir(this.dataDir, { recursive: true, mode: 0o700 });
    const lock = await acquireLock(
      this.path,
      this.lockPath,
      REGISTRY_LOCK,
      `the registry ${this.path} is locked by another process; try again (a crashed holder's lock expires after 10 s)`,
    );
    try {
      let before: string | null;
      try {
        before = await readFile(this.path, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        before = null;
      }
      const data = before === null ? emptyRegistry() : parseRegistry(before, this.path);
      const result = await fn(data);
      const text = `${JSON.stringify(data, null, 2)}\n`;
      // Validate exactly what will be written.
      const check = registrySchema.safeParse(JSON.parse(text));
      if (!check.success) {
        throw new Error(`refusing to write an invalid registry: ${formatIssues(check.error)}`);
      }
      if (text !== before) {
        if (lock.compromised) {
          throw new TenantError(`lost the registry lock (${lock.compromised.message}); nothing was written`);
        }
        await writeFileAtomic(this.path, text, { mode: 0o600, fsync: true });
        await fsyncDir(this.dataDir);
      }
      return result;
    } finally {
      await lock.release();
    }
  }

  /** <data>/tenants/<id> (the id is validated: it is a path component). */
  tenantDir(id: string): string {
    return path.join(this.dataDir, 'tenants', validateTenantId(id));
  }

  /** Absolute path of the tenant's current snapshot, or null when it has no data yet. */
  snapshotPath(t: TenantRecord): string | null {
    if (t.snapshot === null) return null;
    if (!SNAPSHOT_FILE_RE.test(t.snapshot)) {
      throw new TenantError(`tenant ${t.id} has an invalid snapshot name ${JSON.stringify(t.snapshot)}`);
    }
    return path.join(this.tenantDir(t.id), t.snapshot);
  }

  /** <data>/shared: the snapshots of the shared database (tenants with shared isolation). */
  get sharedDir(): string {
    return path.join(this.dataDir, 'shared');
  }

  /** Absolute path of the shared database's current snapshot, or null when there is none yet. */
  sharedSnapshotPath(data: RegistryData): string | null {
    const name = data.shared.snapshot;
    if (name === null) return null;
    if (!SNAPSHOT_FILE_RE.test(name)) {
      throw new TenantError(`the shared database has an invalid snapshot name ${JSON.stringify(name)}`);
    }
    return path.join(this.sharedDir, name);
  }

  /** <data>/tmp (reserved for the gateway's DuckDB temp directories). */
  get tmpDir(): string {
    return path.join(this.dataDir, 'tmp');
  }

  /**
   * Takes the tenant's cross-process lock (<data>/tenants/<id>.lock), which serialises
   * snapshot builds and tenant removal. Waits up to ~10 minutes for a running load.
   */
  async lockTenant(id: string): Promise<HeldLock> {
    const dir = this.tenantDir(id);
    await mkdir(path.dirname(dir), { recursive: true, mode: 0o700 });
    return acquireLock(
      dir,
      `${dir}.lock`,
      TENANT_LOCK,
      `tenant ${id} is busy: another load has held its lock for too long; try again later`,
    );
  }

  /**
   * Takes the shared database's cross-process lock (<data>/shared.lock), which serialises
   * builds of the shared database. Whoever needs a tenant lock as well takes that one first.
   */
  async lockShared(): Promise<HeldLock> {
    await mkdir(this.dataDir, { recursive: true, mode: 0o700 });
    return acquireLock(
      this.sharedDir,
      `${this.sharedDir}.lock`,
      TENANT_LOCK,
      'the shared database is busy: another load has held its lock for too long; try again later',
    );
  }
}

// ---------------------------------------------------------------------------------------
// Operations (the CLI is a thin layer over these)

function now(): string {
  return new Date().toISOString();
}

function unknownTenant(id: string): TenantError {
  return new TenantError(`unknown tenant ${JSON.stringify(id)}`);
}

/** The tenant, or a TenantError "unknown tenant". */
export function findTenant(data: RegistryData, id: string): TenantRecord {
  const t = Object.hasOwn(data.tenants, id) ? data.tenants[id] : undefined;
  if (!t) throw unknownTenant(id);
  return t;
}

/** Reads the registry and returns one tenant (TenantError if unknown). */
export async function getTenant(registry: Registry, id: string): Promise<TenantRecord> {
  validateTenantId(id);
  return findTenant(await registry.read(), id);
}

/** A SCRAM-SHA-256 verifier for a validated password. The password itself is not kept. */
/**
 * PBKDF2 iterations of new verifiers (PostgreSQL's default). The gateway's made-up
 * verifiers for unknown users use the same count, so that they cannot be told apart.
 */
export const SCRAM_ITERATIONS = 4096;

export async function makeVerifier(password: string): Promise<ScramSha256Data> {
  return createScramSha256Data(validatePassword(password), SCRAM_ITERATIONS);
}

/** What may be shown about a tenant: everything except the verifiers. */
export interface TenantSummary {
  id: string;
  name: string;
  plan: string;
  isolation: Isolation;
  status: TenantStatus;
  users: { name: string; createdAt: string }[];
  snapshot: string | null;
  createdAt: string;
  updatedAt: string;
}

export function tenantSummary(t: TenantRecord): TenantSummary {
  return {
    id: t.id,
    name: t.name,
    plan: t.plan,
    isolation: t.isolation,
    status: t.status,
    users: t.users.map((u) => ({ name: u.name, createdAt: u.createdAt })),
    snapshot: t.snapshot,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
}

export function parseIsolation(value: string): Isolation {
  if ((ISOLATIONS as readonly string[]).includes(value)) return value as Isolation;
  throw new InvalidArgumentError(`unknown isolation ${JSON.stringify(value)} (use ${ISOLATIONS.join(' or ')})`);
}

export interface AddTenantOptions {
  id: string;
  plan: string;
  password: string;
  isolation?: Isolation;
  /** Display name; defaults to the id. */
  name?: string;
}

/** Creates a tenant with its first user, named like the tenant id. */
export async function addTenant(registry: Registry, opts: AddTenantOptions): Promise<TenantRecord> {
  const id = validateTenantId(opts.id);
  getPlan(opts.plan, await registry.read());
  const isolation = parseIsolation(opts.isolation ?? 'database');
  const name = validateTenantName(opts.name ?? id);
  validateUserName(id);
  const scram = await makeVerifier(opts.password);
  return registry.update((data) => {
    if (Object.hasOwn(data.tenants, id)) throw new TenantError(`tenant ${id} already exists`);
    const plan = getPlan(opts.plan, data);
    const record = newTenantRecord({ id, name, plan: plan.name, isolation, scram });
    data.tenants[id] = record;
    return record;
  });
}

/**
 * A new active tenant without data whose only user is named like the tenant id. The
 * caller has validated the parts; the record is validated again when it is written.
 */
export function newTenantRecord(opts: {
  id: string;
  name: string;
  plan: string;
  isolation: Isolation;
  scram: ScramSha256Data;
}): TenantRecord {
  const at = now();
  return {
    id: opts.id,
    name: opts.name,
    plan: opts.plan,
    isolation: opts.isolation,
    status: 'active',
    users: [{ name: opts.id, scram: opts.scram, createdAt: at }],
    snapshot: null,
    createdAt: at,
    updatedAt: at,
  };
}

/**
 * Removes the registry entry, then the tenant's directory. A load running for the tenant
 * fails when it tries to publish; its lock is awaited before the directory is deleted.
 * A tenant with shared isolation first loses its rows in the shared database: one new
 * shared snapshot without them is published by the same registry update that removes it.
 */
export async function removeTenant(registry: Registry, id: string): Promise<void> {
  validateTenantId(id);
  const isolation = findTenant(await registry.read(), id).isolation;
  if (isolation === 'shared') {
    // Loaded on demand: the shared database needs DuckDB, the registry does not.
    const { removeSharedTenant } = await import('./shared.js');
    await removeSharedTenant(registry, id);
    return;
  }
  await registry.update((data) => {
    const t = findTenant(data, id);
    if (t.isolation !== isolation) {
      throw new TenantError(`tenant ${id} was moved to ${t.isolation} isolation meanwhile; nothing was removed, try again`);
    }
    delete data.tenants[id];
  });
  let lock: HeldLock | null = null;
  try {
    lock = await registry.lockTenant(id);
  } catch {
    // The entry is gone already; a load still holding the lock cannot publish anymore.
  }
  try {
    await rm(registry.tenantDir(id), { recursive: true, force: true });
  } finally {
    await lock?.release();
  }
}

/** Sets active/suspended. Returns false when the tenant already had that status. */
export async function setTenantStatus(registry: Registry, id: string, status: TenantStatus): Promise<boolean> {
  validateTenantId(id);
  return registry.update((data) => {
    const t = findTenant(data, id);
    if (t.status === status) return false;
    t.status = status;
    t.updatedAt = now();
    return true;
  });
}

/** Adds a user, within the plan's user limit. */
export async function addUser(registry: Registry, tenantId: string, userName: string, password: string): Promise<void> {
  validateTenantId(tenantId);
  validateUserName(userName);
  const scram = await makeVerifier(password);
  await registry.update((data) => {
    const t = findTenant(data, tenantId);
    if (t.users.some((u) => u.name === userName)) {
      throw new TenantError(`user ${userName} already exists in tenant ${tenantId}`);
    }
    const plan = getPlan(t.plan, data);
    if (plan.maxUsers !== null && t.users.length >= plan.maxUsers) {
      throw new TenantError(
        `plan ${plan.name} allows ${describeUserLimit(plan)}; tenant ${tenantId} has ${t.users.length} already`,
      );
    }
    const at = now();
    t.users.push({ name: userName, scram, createdAt: at });
    t.updatedAt = at;
  });
}

/** Removes a user; the last user of a tenant cannot be removed. */
export async function removeUser(registry: Registry, tenantId: string, userName: string): Promise<void> {
  validateTenantId(tenantId);
  validateUserName(userName);
  await registry.update((data) => {
    const t = findTenant(data, tenantId);
    const i = t.users.findIndex((u) => u.name === userName);
    if (i < 0) throw new TenantError(`unknown user ${userName} in tenant ${tenantId}`);
    if (t.users.length === 1) {
      throw new TenantError(`cannot remove ${userName}: it is the last user of tenant ${tenantId}`);
    }
    t.users.splice(i, 1);
    t.updatedAt = now();
  });
}

/** Replaces a user's verifier with one for the new password. */
export async function setUserPassword(
  registry: Registry,
  tenantId: string,
  userName: string,
  password: string,
): Promise<void> {
  validateTenantId(tenantId);
  validateUserName(userName);
  const scram = await makeVerifier(password);
  await registry.update((data) => {
    const t = findTenant(data, tenantId);
    const u = t.users.find((x) => x.name === userName);
    if (!u) throw new TenantError(`unknown user ${userName} in tenant ${tenantId}`);
    u.scram = scram;
    t.updatedAt = now();
  });
}

/** Creates or replaces an operator-defined plan (validated). Returns whether it existed in the registry. */
export async function setPlan(registry: Registry, plan: Plan): Promise<boolean> {
  const valid = validatePlan(plan);
  return registry.update((data) => {
    const plans = (data.plans ??= {});
    const existed = Object.hasOwn(plans, valid.name);
    plans[valid.name] = valid;
    return existed;
  });
}

/**
 * Creates the admin user or replaces its password. Admin users log in to the admin
 * database only (ADMIN_DATABASE), never to a tenant. Returns whether it existed.
 */
export async function setAdminPassword(registry: Registry, userName: string, password: string): Promise<boolean> {
  validateUserName(userName);
  validatePassword(password);
  const scram = await makeVerifier(password);
  return registry.update((data) => {
    const admins = (data.admins ??= []);
    const existing = admins.find((u) => u.name === userName);
    if (existing) existing.scram = scram;
    else admins.push({ name: userName, scram, createdAt: now() });
    return existing !== undefined;
  });
}

/** Removes an admin user; an unknown one is a TenantError. */
export async function removeAdmin(registry: Registry, userName: string): Promise<void> {
  await registry.update((data) => {
    const admins = data.admins ?? [];
    const i = admins.findIndex((u) => u.name === userName);
    if (i < 0) throw new TenantError(`unknown admin user ${userName}`);
    admins.splice(i, 1);
    if (admins.length === 0) delete data.admins;
  });
}

/**
 * Declares `column` as the time column of every table named `table` (any tenant's, and the
 * shared one): plans with a history window hide its rows older than the window. Null
 * removes the declaration. Returns the previous column, if any.
 */
export async function setTimeColumn(registry: Registry, table: string, column: string | null): Promise<string | null> {
  const key = validateTableName(table).toLowerCase();
  if (column !== null && (column.trim() === '' || column.length > MAX_IDENTIFIER_LENGTH)) {
    throw new InvalidArgumentError(`invalid column name ${JSON.stringify(column)}`);
  }
  return registry.update((data) => {
    const cols = (data.timeColumns ??= {});
    const before = Object.hasOwn(cols, key) ? cols[key]! : null;
    if (column === null) delete cols[key];
    else cols[key] = column;
    if (Object.keys(cols).length === 0) delete data.timeColumns;
    return before;
  });
}

/**
 * Moves a tenant to another plan. An unknown plan is an InvalidArgumentError; a plan that
 * allows fewer users than the tenant has is refused (remove users first).
 * Returns the previous plan's name.
 */
export async function setTenantPlan(registry: Registry, tenantId: string, planName: string): Promise<string> {
  validateTenantId(tenantId);
  return registry.update((data) => {
    const t = findTenant(data, tenantId);
    const plan = getPlan(planName, data);
    if (plan.maxUsers !== null && t.users.length > plan.maxUsers) {
      throw new TenantError(
        `plan ${plan.name} allows ${describeUserLimit(plan)}; tenant ${tenantId} has ${t.users.length}: remove users first`,
      );
    }
    const before = t.plan;
    if (before !== plan.name) {
      t.plan = plan.name;
      t.updatedAt = now();
    }
    return before;
  });
}
