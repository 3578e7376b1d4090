// Plans: what a tenant's queries may use. The built-in plans below apply unless the
// registry (registry.json, "plans") defines a plan of the same name; operators add and
// change plans with `tenantgate plan set`, and a running gateway picks the change up at
// the next login or statement (the registry reloads live). The engine applies
// memoryLimit/threads to the tenant's DuckDB instance; the gate applies historyDays (the
// history window); the session and its query slots enforce the rest; `user add` enforces
// maxUsers.
import { z } from 'zod';
import { InvalidArgumentError } from './ids.js';

export interface Plan {
  name: string;
  /** DuckDB memory_limit for the tenant's instance, e.g. '256MB'. */
  memoryLimit: string;
  /** DuckDB threads for the tenant's instance. */
  threads: number;
  /** How many users the tenant may have; null = unlimited. */
  maxUsers: number | null;
  /** Longest query text the tenant may send, in bytes (54000 beyond it). */
  maxQueryBytes: number;
  /** Longest a statement may run, in ms (57014 beyond it); 0 = no limit. A client may only lower it. */
  statementTimeoutMs: number;
  /** Most rows one result may have (54000 beyond it); null = unlimited. */
  maxResultRows: number | null;
  /** Most bytes of rows one result may send (54000 beyond it); null = unlimited. */
  maxResultBytes: number | null;
  /** Queries of the tenant running at once, over all its sessions (53400 after a short wait). */
  maxConcurrentQueries: number;
  /** Sessions of the tenant open at once (53300 at login); null = unlimited. */
  maxConnections: number | null;
  /**
   * Queries the tenant may start per minute, over all its sessions (a token bucket that
   * refills continuously and survives a restart; 53400 when empty, after a short wait for
   * the next token); null = unlimited.
   */
  queriesPerMinute: number | null;
  /** Days of history the tenant sees in tables with a declared time column (the history window); null = all. */
  historyDays: number | null;
}

const MB = 1024 * 1024;

/** memory_limit as DuckDB takes it: a number and a unit. */
export const MEMORY_RE = /^\d+(?:\.\d+)?\s*(?:B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i;

const positive = z.number().int().min(1);

export const planSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, 'invalid plan name'),
  memoryLimit: z.string().regex(MEMORY_RE, 'expected a size such as 256MB or 4GB'),
  threads: z.number().int().min(1).max(1024),
  maxUsers: positive.nullable(),
  maxQueryBytes: z.number().int().min(1024),
  statementTimeoutMs: z.number().int().min(0),
  maxResultRows: positive.nullable(),
  maxResultBytes: positive.nullable(),
  maxConcurrentQueries: positive.max(1024),
  maxConnections: positive.nullable(),
  queriesPerMinute: positive.nullable(),
  historyDays: positive.nullable(),
});

function freeze(p: Plan): Plan {
  return Object.freeze(p);
}

export const DEFAULT_PLANS: Record<string, Plan> = Object.freeze({
  free: freeze({
    name: 'free',
    memoryLimit: '256MB',
    threads: 2,
    maxUsers: 1,
    maxQueryBytes: 64 * 1024,
    statementTimeoutMs: 30_000,
    maxResultRows: 100_000,
    maxResultBytes: 64 * MB,
    maxConcurrentQueries: 2,
    maxConnections: 5,
    queriesPerMinute: 60,
    historyDays: 7,
  }),
  pro: freeze({
    name: 'pro',
    memoryLimit: '1GB',
    threads: 4,
    maxUsers: 3,
    maxQueryBytes: 256 * 1024,
    statementTimeoutMs: 300_000,
    maxResultRows: 1_000_000,
    maxResultBytes: 512 * MB,
    maxConcurrentQueries: 3,
    maxConnections: 20,
    queriesPerMinute: 600,
    historyDays: null,
  }),
  enterprise: freeze({
    name: 'enterprise',
    memoryLimit: '4GB',
    threads: 8,
    maxUsers: null,
    maxQueryBytes: 1024 * 1024,
    statementTimeoutMs: 1_800_000,
    maxResultRows: null,
    maxResultBytes: null,
    maxConcurrentQueries: 8,
    maxConnections: 100,
    queriesPerMinute: null,
    historyDays: null,
  }),
});

/** What holds operator-defined plans: the registry's data (plans is optional there). */
export interface PlanSource {
  plans?: Record<string, Plan> | undefined;
}

/** Every plan in force: the built-in ones, replaced or added to by the registry's. */
export function allPlans(source?: PlanSource): Record<string, Plan> {
  const out: Record<string, Plan> = { ...DEFAULT_PLANS };
  for (const [name, plan] of Object.entries(source?.plans ?? {})) out[name] = plan;
  return out;
}

/** The known plan names: built-in ones first, in definition order, then the registry's. */
export function planNames(source?: PlanSource): string[] {
  return Object.keys(allPlans(source));
}

/** The plan called `name`; throws InvalidArgumentError listing the known plans otherwise. */
export function getPlan(name: string, source?: PlanSource): Plan {
  const plans = allPlans(source);
  const plan = Object.hasOwn(plans, name) ? plans[name] : undefined;
  if (!plan) {
    throw new InvalidArgumentError(`unknown plan ${JSON.stringify(name)} (known plans: ${planNames(source).join(', ')})`);
  }
  return plan;
}

/** "1 user", "3 users", "unlimited users". */
export function describeUserLimit(plan: Plan): string {
  if (plan.maxUsers === null) return 'unlimited users';
  return `${plan.maxUsers} ${plan.maxUsers === 1 ? 'user' : 'users'}`;
}

// ---------------------------------------------------------------------------------------
// Values as operators write them

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: MB, gb: 1024 * MB, tb: 1024 * 1024 * MB };

/** "100MB", "1GB", "65536" (bytes) → bytes. */
export function parseBytes(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb)?\s*$/i.exec(value);
  if (!m) throw new InvalidArgumentError(`invalid size ${JSON.stringify(value)} (e.g. 65536, 512KB, 100MB, 1GB)`);
  const n = Math.round(Number(m[1]) * SIZE_UNITS[(m[2] ?? 'b').toLowerCase()]!);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`invalid size ${JSON.stringify(value)}`);
  return n;
}

/** Bytes as the largest unit that divides them: 67108864 → "64MB". */
export function formatBytes(n: number): string {
  for (const [unit, size] of [['TB', 1024 ** 4], ['GB', 1024 ** 3], ['MB', MB], ['KB', 1024]] as const) {
    if (n % size === 0) return `${n / size}${unit}`;
  }
  return `${n}B`;
}

const TIME_UNITS: Record<string, number> = { ms: 1, s: 1000, min: 60_000, h: 3_600_000 };

/** "30s", "500ms", "5min", "1h", "0" (no limit), a bare number in ms → ms. */
export function parseTimeout(value: string): number {
  const m = /^\s*(\d+)\s*(ms|s|min|h)?\s*$/.exec(value);
  if (!m) throw new InvalidArgumentError(`invalid duration ${JSON.stringify(value)} (e.g. 500ms, 30s, 5min, 1h; 0 for no limit)`);
  return Number(m[1]) * TIME_UNITS[m[2] ?? 'ms']!;
}

/** ms as the largest unit that divides them: 30000 → "30s"; 0 → "0" (no limit). */
export function formatTimeout(ms: number): string {
  if (ms === 0) return '0';
  for (const [unit, size] of [['h', 3_600_000], ['min', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** A whole number ≥ 1, or "unlimited"/"none" → null when `nullable`. */
export function parseCount(what: string, value: string, nullable: boolean): number | null {
  if (nullable && /^(unlimited|none)$/i.test(value.trim())) return null;
  if (!/^\s*\d+\s*$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError(
      `invalid ${what} ${JSON.stringify(value)} (a whole number of at least 1${nullable ? ', or unlimited' : ''})`,
    );
  }
  return Number(value);
}

/** Validates a plan (as planSchema); InvalidArgumentError naming the first problem. */
export function validatePlan(plan: Plan): Plan {
  const r = planSchema.safeParse(plan);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new InvalidArgumentError(`plan ${plan.name}: ${i.path.join('.') || '(plan)'}: ${i.message}`);
  }
  return r.data;
}
