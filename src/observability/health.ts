/**
 * Tenant health: for every tenant, how much data it has, how it used the gateway in the
 * last 24 h (from the query log), and whether its plan and isolation still fit it.
 *
 * Read-only by construction, so it can run beside a serving gateway and beside loads:
 * the registry is read without its lock (it is only ever replaced atomically), snapshots
 * are opened READ_ONLY with no temp directory (nothing is written next to them), one
 * DuckDB instance per file, closed right after, and the query log files are streamed a
 * line at a time. A snapshot superseded between reading the registry and opening it is
 * looked up again in a fresh read of the registry.
 *
 * The advice rules are the pure function advise(); the thresholds are HEALTH_THRESHOLDS.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { quoteIdent } from '../sql/quote.js';
import { closeQuietly } from '../tenants/snapshots.js';
import { allPlans, type Plan } from '../tenants/plans.js';
import type { Isolation, Registry, RegistryData, TenantRecord, TenantStatus } from '../tenants/registry.js';
import { QUERY_LOG_FILE } from './queryLog.js';

// ---------------------------------------------------------------------------------------
// Thresholds

const MiB = 1024 * 1024;

/** The usage window: queries, errors and limit hits are counted over the last 24 hours. */
export const HEALTH_WINDOW_MS = 24 * 60 * 60 * 1000;

/** The cheapest built-in plan: a tenant on any other plan pays, and may be told SCALE_DOWN. */
export const CHEAPEST_PLAN = 'free';

export interface HealthThresholds {
  /**
   * SCALE_UP when a database tenant's snapshot is at least this fraction of its plan's
   * memory limit: DuckDB decompresses what it scans, so such data no longer fit in memory.
   */
  scaleUpDataFraction: number;
  /** SCALE_UP when the queries of the window reach this fraction of queriesPerMinute × 1440. */
  scaleUpQueryFraction: number;
  /** SCALE_UP when the window holds at least this many limit hits (see LIMIT_SQLSTATES). */
  scaleUpLimitHits: number;
  /** SCALE_DOWN needs at most this many queries in the window ... */
  scaleDownMaxQueries: number;
  /** ... data below this fraction of the plan's memory limit ... */
  scaleDownDataFraction: number;
  /** ... and a tenant at least this old (ms), so that a new tenant is not judged on a partial day. */
  scaleDownMinAgeMs: number;
  /** MOVE a shared tenant with at least this many rows of its own (tenant_id rows: those a move takes) ... */
  moveMinRows: number;
  /** ... or an estimated share of the shared snapshot of at least this many bytes. */
  moveMinBytes: number;
  /**
   * A query_canceled (57014) record counts as a limit hit (the plan's statement timeout)
   * when it ran for at least this fraction of the plan's statement timeout. The log does not
   * tell a timeout from a CancelRequest or a client that went away; the duration does.
   */
  timeoutFraction: number;
}

export const HEALTH_THRESHOLDS: Readonly<HealthThresholds> = Object.freeze({
  scaleUpDataFraction: 0.5,
  scaleUpQueryFraction: 0.8,
  scaleUpLimitHits: 5,
  scaleDownMaxQueries: 10,
  scaleDownDataFraction: 0.05,
  scaleDownMinAgeMs: HEALTH_WINDOW_MS,
  moveMinRows: 1_000_000,
  moveMinBytes: 128 * MiB,
  timeoutFraction: 0.95,
});

/**
 * The SQLSTATEs of a plan or gateway limit: result rows/bytes or query text (54000),
 * concurrent queries (53400), memory (53200), connections (53300), and the statement
 * timeout (57014, see timeoutFraction).
 */
export const LIMIT_SQLSTATES: Readonly<Record<string, string>> = Object.freeze({
  '54000': 'result or query size',
  '53400': 'concurrent queries',
  '53200': 'memory',
  '53300': 'connections',
  '57014': 'statement timeout',
});

const QUERY_CANCELED = '57014';

// ---------------------------------------------------------------------------------------
// Pure parts: plan sizes, log records, advice

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  kib: 1024,
  mb: MiB,
  mib: MiB,
  gb: 1024 * MiB,
  gib: 1024 * MiB,
  tb: 1024 * 1024 * MiB,
  tib: 1024 * 1024 * MiB,
};

/** A plan's memoryLimit ('256MB', '1GB', '1.5GiB') in bytes (units are powers of 1024), or null if unreadable. */
export function memoryLimitBytes(memoryLimit: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(memoryLimit);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) return null;
  return Math.round(Number(m[1]) * unit);
}

/** Bytes for people: 512B, 1.5KB, 12.3MB, 2GB (powers of 1024). */
export function formatSize(n: number): string {
  if (n < 1024) return `${n}B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1).replace(/\.0$/, '')}${units[i]}`;
}

/** The fields of a query log record that health reads (queryLog.ts QueryRecord). */
export interface LogRecord {
  time: number;
  tenant: string;
  outcome: string;
  sqlstate: string;
  ms: number;
}

/**
 * One line of the query log as a record, `{ dropped }` for the line that counts records the
 * gateway had to drop, or null for a malformed line (cut short by a crash, or not JSON).
 */
export function parseLogLine(line: string): LogRecord | { time: number; dropped: number } | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  const time = typeof o.time === 'string' ? Date.parse(o.time) : NaN;
  if (!Number.isFinite(time)) return null;
  if (typeof o.dropped === 'number' && o.tenant === undefined) return { time, dropped: o.dropped };
  if (typeof o.tenant !== 'string' || typeof o.outcome !== 'string' || typeof o.sqlstate !== 'string') return null;
  return { time, tenant: o.tenant, outcome: o.outcome, sqlstate: o.sqlstate, ms: typeof o.ms === 'number' ? o.ms : 0 };
}

/** Whether a record is a hit of one of the tenant's limits (LIMIT_SQLSTATES). */
export function isLimitHit(r: Pick<LogRecord, 'outcome' | 'sqlstate' | 'ms'>, plan: Plan | null, t: HealthThresholds = HEALTH_THRESHOLDS): boolean {
  if (r.outcome === 'ok' || !Object.hasOwn(LIMIT_SQLSTATES, r.sqlstate)) return false;
  if (r.sqlstate !== QUERY_CANCELED) return true;
  if (plan === null || plan.statementTimeoutMs <= 0) return false;
  return r.ms >= plan.statementTimeoutMs * t.timeoutFraction;
}

/** A tenant's use of the gateway according to the query log. */
export interface Usage {
  /** Statements started in the window. */
  queries: number;
  /** Of those, the ones that ended with an error (outcome "error"; cancelled ones are not errors). */
  errors: number;
  limitHits: number;
  /** Limit hits by SQLSTATE; only those that occurred. */
  limitHitsBySqlstate: Record<string, number>;
  /** Start of the newest statement in any log file kept (ms since the epoch), or null. */
  lastQuery: number | null;
}

export function emptyUsage(): Usage {
  return { queries: 0, errors: 0, limitHits: 0, limitHitsBySqlstate: {}, lastQuery: null };
}

/** Adds one record of the tenant to its usage. */
export function addRecord(u: Usage, r: LogRecord, since: number, plan: Plan | null, t: HealthThresholds = HEALTH_THRESHOLDS): void {
  if (u.lastQuery === null || r.time > u.lastQuery) u.lastQuery = r.time;
  if (r.time < since) return;
  u.queries++;
  if (r.outcome === 'error') u.errors++;
  if (isLimitHit(r, plan, t)) {
    u.limitHits++;
    u.limitHitsBySqlstate[r.sqlstate] = (u.limitHitsBySqlstate[r.sqlstate] ?? 0) + 1;
  }
}

export type Advice = 'OK' | 'SCALE_UP' | 'SCALE_DOWN' | 'MOVE' | 'PROBLEM';

/** What advise() looks at. */
export interface AdviceInput {
  isolation: Isolation;
  status: TenantStatus;
  /** The tenant's plan; null when the registry names a plan that does not exist. */
  plan: Plan | null;
  planName: string;
  /** When the tenant was created (ms since the epoch). */
  createdAt: number;
  /** Data size in bytes (a shared tenant: its estimated share); null when unknown. */
  dataBytes: number | null;
  /** A shared tenant's tenant_id rows (what a move to its own file takes); null otherwise or unknown. */
  ownRows: number | null;
  /** Usage in the window; null when there is no query log to read. */
  usage: Usage | null;
  /** What went wrong reading its data (missing or unreadable snapshot). */
  problems: readonly string[];
}

export interface AdviceResult {
  /** ['OK'], or every advice that applies, in the order PROBLEM, SCALE_UP, MOVE, SCALE_DOWN. */
  advice: Advice[];
  /** One sentence per advice (several for one advice when several rules fired). */
  reasons: string[];
}

function pct(f: number): string {
  return `${Math.round(f * 100)}%`;
}

/** The advice rules. Pure: the same input gives the same advice. */
export function advise(input: AdviceInput, now: number, t: HealthThresholds = HEALTH_THRESHOLDS): AdviceResult {
  const advice = new Set<Advice>();
  const reasons: string[] = [];
  const add = (a: Advice, reason: string): void => {
    advice.add(a);
    reasons.push(`${a}: ${reason}`);
  };
  for (const p of input.problems) add('PROBLEM', p);
  const plan = input.plan;
  if (plan === null) add('PROBLEM', `plan ${input.planName} does not exist`);
  const memory = plan ? memoryLimitBytes(plan.memoryLimit) : null;
  const usage = input.usage;

  if (plan) {
    // Shared tenants draw on the shared pool, not their plan's memory: their size is MOVE's business.
    if (input.isolation === 'database' && memory !== null && input.dataBytes !== null && input.dataBytes >= memory * t.scaleUpDataFraction) {
      add(
        'SCALE_UP',
        `data ${formatSize(input.dataBytes)} is ${pct(input.dataBytes / memory)} of plan ${plan.name}'s memory ${plan.memoryLimit} (threshold ${pct(t.scaleUpDataFraction)})`,
      );
    }
    if (usage && plan.queriesPerMinute !== null) {
      const perDay = plan.queriesPerMinute * 1440;
      if (usage.queries >= perDay * t.scaleUpQueryFraction) {
        add(
          'SCALE_UP',
          `${usage.queries} queries in 24 h is ${pct(usage.queries / perDay)} of plan ${plan.name}'s ${plan.queriesPerMinute}/min (threshold ${pct(t.scaleUpQueryFraction)})`,
        );
      }
    }
  }
  if (usage && usage.limitHits >= t.scaleUpLimitHits) {
    const which = Object.entries(usage.limitHitsBySqlstate)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([s, n]) => `${s} ${LIMIT_SQLSTATES[s] ?? ''} x${n}`)
      .join(', ');
    add('SCALE_UP', `${usage.limitHits} limit hits in 24 h (${which}; threshold ${t.scaleUpLimitHits})`);
  }

  if (input.isolation === 'shared') {
    const bigRows = input.ownRows !== null && input.ownRows >= t.moveMinRows;
    const bigBytes = input.dataBytes !== null && input.dataBytes >= t.moveMinBytes;
    if (bigRows || bigBytes) {
      const what = bigRows ? `${input.ownRows} rows of its own (threshold ${t.moveMinRows})` : `about ${formatSize(input.dataBytes!)} of the shared database (threshold ${formatSize(t.moveMinBytes)})`;
      add('MOVE', `${what}: give it a database of its own (tenant move --isolation database)`);
    }
  }

  if (
    plan &&
    plan.name !== CHEAPEST_PLAN &&
    !advice.has('SCALE_UP') &&
    input.status === 'active' &&
    usage !== null &&
    usage.queries <= t.scaleDownMaxQueries &&
    usage.limitHits === 0 &&
    memory !== null &&
    input.dataBytes !== null &&
    input.dataBytes < memory * t.scaleDownDataFraction &&
    now - input.createdAt >= t.scaleDownMinAgeMs
  ) {
    add(
      'SCALE_DOWN',
      `${usage.queries} ${usage.queries === 1 ? 'query' : 'queries'} in 24 h (threshold ${t.scaleDownMaxQueries}) and data ${formatSize(input.dataBytes)} below ${pct(t.scaleDownDataFraction)} of plan ${plan.name}'s memory ${plan.memoryLimit}`,
    );
  }

  const order: Advice[] = ['PROBLEM', 'SCALE_UP', 'MOVE', 'SCALE_DOWN'];
  const list = order.filter((a) => advice.has(a));
  return { advice: list.length === 0 ? ['OK'] : list, reasons };
}

// ---------------------------------------------------------------------------------------
// Reading the query log

export interface LogScan {
  /** Files read (current and rotated). */
  files: number;
  /** Records of registered tenants in the window. */
  records: number;
  /** Lines that were not records (cut short, not JSON). */
  malformed: number;
  /** Records the gateway could not write in the window (its "dropped" lines): counts are at least this much low. */
  dropped: number;
  usage: Map<string, Usage>;
}

/** The query log files of `dir`: the current one and the rotated ones, by name. */
async function logFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw e;
  }
  return names.filter((n) => n === QUERY_LOG_FILE || /^queries-.+\.jsonl$/.test(n)).sort();
}

/**
 * Streams every query log file in `dir` and adds each registered tenant's records to its
 * usage. Memory stays proportional to the number of tenants, whatever the files' size.
 * A file rotated while being read is picked up under its new name unless it was read
 * already (same inode).
 */
export async function scanQueryLog(
  dir: string,
  plans: ReadonlyMap<string, Plan | null>,
  since: number,
  t: HealthThresholds = HEALTH_THRESHOLDS,
): Promise<LogScan> {
  const scan: LogScan = { files: 0, records: 0, malformed: 0, dropped: 0, usage: new Map() };
  for (const id of plans.keys()) scan.usage.set(id, emptyUsage());
  const seen = new Set<string>();
  for (let pass = 0; pass < 2; pass++) {
    for (const name of await logFiles(dir)) {
      const file = path.join(dir, name);
      let handle: fs.promises.FileHandle;
      try {
        handle = await fs.promises.open(file, 'r');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // rotated away: the next pass reads it
        throw e;
      }
      try {
        const st = await handle.stat();
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
        scan.files++;
        const lines = readline.createInterface({ input: handle.createReadStream({ autoClose: false, highWaterMark: 1 << 20 }), crlfDelay: Infinity });
        for await (const line of lines) {
          if (line.trim() === '') continue;
          const r = parseLogLine(line);
          if (r === null) {
            scan.malformed++;
            continue;
          }
          if ('dropped' in r) {
            if (r.time >= since) scan.dropped += r.dropped;
            continue;
          }
          const u = scan.usage.get(r.tenant);
          if (!u) continue;
          addRecord(u, r, since, plans.get(r.tenant) ?? null, t);
          if (r.time >= since) scan.records++;
        }
      } finally {
        await handle.close();
      }
    }
  }
  return scan;
}

// ---------------------------------------------------------------------------------------
// Reading snapshots

async function withReadOnly<T>(file: string, threads: number, fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
  let instance: DuckDBInstance | null = null;
  let conn: DuckDBConnection | null = null;
  try {
    // No temp directory: a read that would spill fails instead of writing beside the snapshot.
    instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY', threads: String(threads), temp_directory: '' });
    conn = await instance.connect();
    return await fn(conn);
  } finally {
    await closeQuietly(conn, instance);
  }
}

async function rows(conn: DuckDBConnection, sql: string): Promise<unknown[][]> {
  return (await conn.runAndReadAll(sql)).getRows();
}

const num = (v: unknown): number => Number(v ?? 0);

/** Rows of every table of a tenant snapshot (views do not count). */
async function countTenantRows(conn: DuckDBConnection): Promise<number> {
  const tables = await rows(
    conn,
    `SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database() AND NOT internal AND NOT temporary ORDER BY 1, 2`,
  );
  if (tables.length === 0) return 0;
  const parts = tables.map(([s, t]) => `SELECT count(*) AS n FROM ${quoteIdent(String(s))}.${quoteIdent(String(t))}`);
  return num((await rows(conn, `SELECT sum(n) FROM (${parts.join(' UNION ALL ')})`))[0]?.[0]);
}

/** A tenant's rows in the shared database. */
export interface SharedShare {
  /** Rows whose tenant_id is the tenant. */
  ownRows: number;
  /** Rows whose tenant_ids list holds the tenant. */
  listedRows: number;
  /** Its share of the rows: own rows, plus 1/n of each listed row shared by n tenants. */
  weight: number;
}

export interface SharedScan {
  /** Size of the shared snapshot in bytes. */
  bytes: number;
  /** Rows of all its tables. */
  totalRows: number;
  byTenant: Map<string, SharedShare>;
}

/** Row counts of the shared database, per tenant, in one pass over each shared table. */
async function scanShared(conn: DuckDBConnection, bytes: number): Promise<SharedScan> {
  const first = await rows(
    conn,
    `SELECT table_name, lower(column_name) FROM duckdb_columns()
      WHERE database_name = current_database() AND schema_name = 'main' AND column_index = 1 ORDER BY 1`,
  );
  const scan: SharedScan = { bytes, totalRows: 0, byTenant: new Map() };
  const share = (id: string): SharedShare => {
    let s = scan.byTenant.get(id);
    if (!s) scan.byTenant.set(id, (s = { ownRows: 0, listedRows: 0, weight: 0 }));
    return s;
  };
  for (const [tableName, column] of first) {
    const table = `main.${quoteIdent(String(tableName))}`;
    // Only tables whose rows say whose they are belong to anyone (tenantEngine.ts sharedTables).
    if (column === 'tenant_id') {
      for (const [id, n] of await rows(conn, `SELECT tenant_id, count(*) FROM ${table} GROUP BY 1`)) {
        const s = share(String(id));
        s.ownRows += num(n);
        s.weight += num(n);
      }
    } else if (column === 'tenant_ids') {
      const sql = `SELECT id, count(*), sum(w) FROM (
                     SELECT unnest(l) AS id, 1.0 / len(l) AS w
                       FROM (SELECT list_distinct(tenant_ids) AS l FROM ${table}) WHERE len(l) > 0)
                    GROUP BY 1`;
      for (const [id, n, w] of await rows(conn, sql)) {
        const s = share(String(id));
        s.listedRows += num(n);
        s.weight += num(w);
      }
    }
    scan.totalRows += num((await rows(conn, `SELECT count(*) FROM ${table}`))[0]?.[0]);
  }
  return scan;
}

function describeError(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n')[0]!.slice(0, 200);
}

interface Measured<T> {
  value: T | null;
  /** The snapshot file name measured (or that could not be). */
  snapshot: string | null;
  problem: string | null;
}

/**
 * Measures the file a registry entry names; if that fails, reads the registry again and,
 * when the entry names another file by then (a load published meanwhile), measures that.
 */
async function measureCurrent<T>(
  registry: Registry,
  current: (data: RegistryData) => { file: string | null; name: string | null },
  first: RegistryData,
  what: string,
  measure: (file: string, bytes: number) => Promise<T>,
  empty: T,
): Promise<Measured<T>> {
  let { file, name } = current(first);
  for (let attempt = 1; ; attempt++) {
    if (file === null) return { value: empty, snapshot: null, problem: null };
    let problem: string;
    try {
      const st = await fs.promises.stat(file);
      return { value: await measure(file, st.size), snapshot: name, problem: null };
    } catch (e) {
      problem =
        (e as NodeJS.ErrnoException).code === 'ENOENT'
          ? `${what} snapshot ${name} is missing`
          : `${what} snapshot ${name} is unreadable: ${describeError(e)}`;
    }
    const again = current(await registry.read());
    if (attempt >= 3 || again.name === name) return { value: null, snapshot: name, problem };
    ({ file, name } = again);
  }
}

/** Runs `fn` on each item with at most `limit` at once; results in order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

// ---------------------------------------------------------------------------------------
// The report

/** Tenant snapshots opened at once (each with one DuckDB thread). */
export const HEALTH_OPEN_CONCURRENCY = 3;

export interface TenantHealth {
  id: string;
  name: string;
  status: TenantStatus;
  plan: string;
  isolation: Isolation;
  /** The snapshot measured: the tenant's own, or for a shared tenant the shared database's; null = none. */
  snapshot: string | null;
  /** Bytes of its snapshot file; a shared tenant: its estimated share of the shared snapshot. Null when unknown. */
  dataBytes: number | null;
  /** True when dataBytes is a shared tenant's estimated share. */
  dataBytesEstimated: boolean;
  /** Rows of its tables; a shared tenant: rows of shared tables it owns (tenant_id) or is listed in (tenant_ids). */
  rows: number | null;
  /** A shared tenant: its own rows and the rows shared with others; null for a database tenant. */
  sharedRows: { own: number; listed: number } | null;
  /** Null when there is no query log. */
  queries24h: number | null;
  errors24h: number | null;
  limitHits24h: number | null;
  limitHitsBySqlstate: Record<string, number>;
  /** Start of its newest statement in the kept log files (ISO 8601), or null. */
  lastQuery: string | null;
  advice: Advice[];
  reasons: string[];
  ok: boolean;
}

export interface HealthReport {
  generatedAt: string;
  windowHours: number;
  queryLog: { present: boolean; files: number; records: number; malformed: number; dropped: number };
  thresholds: HealthThresholds;
  summary: { tenants: number; ok: number; attention: number };
  tenants: TenantHealth[];
}

export interface HealthOptions {
  now?: number;
  thresholds?: HealthThresholds;
}

/** Gathers the health of every registered tenant. Reads only; never locks or writes anything. */
export async function gatherHealth(registry: Registry, opts: HealthOptions = {}): Promise<HealthReport> {
  const now = opts.now ?? Date.now();
  const t = opts.thresholds ?? HEALTH_THRESHOLDS;
  const since = now - HEALTH_WINDOW_MS;
  const data = await registry.read();
  const plans = allPlans(data);
  const tenants: TenantRecord[] = Object.values(data.tenants).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const planOf = new Map<string, Plan | null>(tenants.map((x) => [x.id, Object.hasOwn(plans, x.plan) ? plans[x.plan]! : null]));
  const hasShared = tenants.some((x) => x.isolation === 'shared');
  const logDir = path.join(registry.dataDir, 'querylog');

  const [log, shared, own] = await Promise.all([
    scanQueryLog(logDir, planOf, since, t),
    hasShared
      ? measureCurrent<SharedScan>(
          registry,
          (d) => ({ file: registry.sharedSnapshotPath(d), name: d.shared.snapshot }),
          data,
          'the shared database',
          (file, bytes) => withReadOnly(file, 2, (conn) => scanShared(conn, bytes)),
          { bytes: 0, totalRows: 0, byTenant: new Map() },
        )
      : Promise.resolve(null),
    mapLimited(tenants, HEALTH_OPEN_CONCURRENCY, (x) =>
      x.isolation !== 'database'
        ? Promise.resolve(null)
        : measureCurrent<{ bytes: number; rows: number }>(
            registry,
            (d) => {
              const now = Object.hasOwn(d.tenants, x.id) ? d.tenants[x.id]! : null;
              // Removed or moved meanwhile: keep to the file first read.
              const rec = now && now.isolation === 'database' ? now : x;
              return { file: registry.snapshotPath(rec), name: rec.snapshot };
            },
            data,
            'its',
            async (file, bytes) => ({ bytes, rows: await withReadOnly(file, 1, countTenantRows) }),
            { bytes: 0, rows: 0 },
          ),
    ),
  ]);
  const logPresent = log.files > 0;

  const out: TenantHealth[] = tenants.map((x, i) => {
    const plan = planOf.get(x.id) ?? null;
    const usage = logPresent ? log.usage.get(x.id) ?? emptyUsage() : null;
    let dataBytes: number | null = null;
    let rowCount: number | null = null;
    let sharedRows: TenantHealth['sharedRows'] = null;
    let snapshot: string | null = null;
    const problems: string[] = [];
    if (x.isolation === 'database') {
      const m = own[i]!;
      snapshot = m.snapshot;
      if (m.problem) problems.push(m.problem);
      dataBytes = m.value?.bytes ?? null;
      rowCount = m.value?.rows ?? null;
    } else if (shared) {
      snapshot = shared.snapshot;
      if (shared.problem) problems.push(shared.problem);
      const s = shared.value;
      if (s) {
        const mine = s.byTenant.get(x.id) ?? { ownRows: 0, listedRows: 0, weight: 0 };
        sharedRows = { own: mine.ownRows, listed: mine.listedRows };
        rowCount = mine.ownRows + mine.listedRows;
        dataBytes = s.totalRows > 0 ? Math.round((s.bytes * mine.weight) / s.totalRows) : 0;
      }
    }
    const createdAt = Date.parse(x.createdAt);
    const result = advise(
      {
        isolation: x.isolation,
        status: x.status,
        plan,
        planName: x.plan,
        createdAt: Number.isFinite(createdAt) ? createdAt : now,
        dataBytes,
        ownRows: sharedRows ? sharedRows.own : null,
        usage,
        problems,
      },
      now,
      t,
    );
    return {
      id: x.id,
      name: x.name,
      status: x.status,
      plan: x.plan,
      isolation: x.isolation,
      snapshot,
      dataBytes,
      dataBytesEstimated: x.isolation === 'shared' && dataBytes !== null,
      rows: rowCount,
      sharedRows,
      queries24h: usage ? usage.queries : null,
      errors24h: usage ? usage.errors : null,
      limitHits24h: usage ? usage.limitHits : null,
      limitHitsBySqlstate: usage ? { ...usage.limitHitsBySqlstate } : {},
      lastQuery: usage?.lastQuery != null ? new Date(usage.lastQuery).toISOString() : null,
      advice: result.advice,
      reasons: result.reasons,
      ok: result.advice.length === 1 && result.advice[0] === 'OK',
    };
  });

  const ok = out.filter((x) => x.ok).length;
  return {
    generatedAt: new Date(now).toISOString(),
    windowHours: HEALTH_WINDOW_MS / 3_600_000,
    queryLog: { present: logPresent, files: log.files, records: log.records, malformed: log.malformed, dropped: log.dropped },
    thresholds: { ...t },
    summary: { tenants: out.length, ok, attention: out.length - ok },
    tenants: out,
  };
}
