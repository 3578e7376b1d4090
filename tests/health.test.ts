// `tenantgate health`, run as a real process on data directories with real tenants,
// snapshots and a query log written by a real gateway (which is still serving while the
// command reads its files).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthReport, TenantHealth } from '../src/observability/health.js';
import { addTenant, Registry, type RegistryData } from '../src/tenants/registry.js';
import { buildSharedSnapshot } from '../src/tenants/shared.js';
import { pgConnect } from './support/clients.js';
import { expectError, tg } from './support/cli.js';
import { addTestTenant, startGateway, type TestGateway } from './support/gateway.js';

const PW = 'health-test-password';
const DAY = 24 * 60 * 60 * 1000;
const BIG_SHARED_ROWS = 1_100_000;

let tmp: string;
let gw: TestGateway;

const health = (data: string, ...args: string[]) => tg(['health', '--data', data, ...args]);

function registryText(data: string): string {
  return fs.readFileSync(path.join(data, 'registry.json'), 'utf8');
}

/** Every secret the registry holds: salts, stored and server keys of every user. */
function secrets(data: string): string[] {
  const reg = JSON.parse(registryText(data)) as RegistryData;
  return Object.values(reg.tenants).flatMap((t) => t.users.flatMap((u) => [u.scram.salt, u.scram.storedKey, u.scram.serverKey]));
}

function expectNoSecrets(out: string, data: string): void {
  expect(out).not.toContain(PW);
  expect(out).not.toMatch(/scram|storedKey|serverKey|salt/i);
  for (const s of secrets(data)) expect(out).not.toContain(s);
}

async function run(client: pg.Client, sql: string): Promise<string | null> {
  try {
    await client.query(sql);
    return null;
  } catch (e) {
    return (e as pg.DatabaseError).code ?? 'unknown';
  }
}

/** The files of a directory tree with their sizes and modification times. */
function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of fs.readdirSync(d)) {
      const p = path.join(d, name);
      const st = fs.statSync(p);
      out.push(`${path.relative(dir, p)} ${st.size} ${st.mtimeMs}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantgate-health-'));
  gw = await startGateway();
  const reg = gw.registry;
  const small = (n: number) => [`CREATE TABLE orders AS SELECT i AS id, 'widget' AS product FROM range(${n}) t(i)`];
  await addTestTenant(reg, 'healthy', PW, { plan: 'free', sql: small(1000) });
  await addTestTenant(reg, 'busy', PW, { plan: 'free', sql: small(10) });
  await addTestTenant(reg, 'idlepro', PW, { plan: 'pro', sql: [...small(50), 'CREATE TABLE items AS SELECT 1 AS x'] });
  // A paid tenant is judged idle only once it has been around for a whole window.
  await reg.update((d) => {
    d.tenants.idlepro!.createdAt = new Date(Date.now() - 3 * DAY).toISOString();
  });
  await addTenant(reg, { id: 'bigshared', plan: 'pro', password: PW, isolation: 'shared' });
  await addTenant(reg, { id: 'smallshared', plan: 'free', password: PW, isolation: 'shared' });
  await buildSharedSnapshot(reg, async (conn) => {
    await conn.run('CREATE TABLE events (tenant_id VARCHAR NOT NULL, n BIGINT)');
    await conn.run(`INSERT INTO events SELECT 'bigshared', i FROM range(${BIG_SHARED_ROWS}) t(i)`);
    await conn.run(`INSERT INTO events SELECT 'smallshared', i FROM range(10) t(i)`);
    await conn.run('CREATE TABLE notices (tenant_ids VARCHAR[] NOT NULL, msg VARCHAR)');
    await conn.run(`INSERT INTO notices VALUES (['bigshared', 'smallshared'], 'both'), (['smallshared'], 'one')`);
  });

  // The query log, written by the gateway: a few good queries, and a free tenant that keeps
  // asking for more rows than its plan allows (54000 each time).
  const healthy = await pgConnect(gw, { tenant: 'healthy', password: PW });
  for (let i = 0; i < 3; i++) expect(await run(healthy, 'SELECT count(*) FROM orders')).toBeNull();
  await healthy.end();
  const busy = await pgConnect(gw, { tenant: 'busy', password: PW });
  expect(await run(busy, 'SELECT count(*) FROM orders')).toBeNull();
  for (let i = 0; i < 6; i++) expect(await run(busy, 'SELECT 1 AS one FROM range(100001)')).toBe('54000');
  await busy.end();
  const smallShared = await pgConnect(gw, { tenant: 'smallshared', password: PW });
  expect(await run(smallShared, 'SELECT count(*) FROM events')).toBeNull();
  await smallShared.end();
  await gw.gateway.flushQueryLog();
  // A line cut short (as a crash leaves it) is skipped, not fatal.
  fs.appendFileSync(path.join(gw.dataDir, 'querylog', 'queries.jsonl'), '{"time":"2030-01-01T00:00:00.000Z","tenant":"bu');
});

afterAll(async () => {
  await gw?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const TENANT_KEYS = [
  'advice',
  'dataBytes',
  'dataBytesEstimated',
  'errors24h',
  'id',
  'isolation',
  'lastQuery',
  'limitHits24h',
  'limitHitsBySqlstate',
  'name',
  'ok',
  'plan',
  'queries24h',
  'reasons',
  'rows',
  'sharedRows',
  'snapshot',
  'status',
];

describe('tenantgate health', () => {
  it('reports each tenant with advice, as JSON, while the gateway serves; exit status 1', async () => {
    const started = Date.now();
    const r = await health(gw.dataDir, '--json');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toBe('');
    expectNoSecrets(r.stdout, gw.dataDir);
    const report = JSON.parse(r.stdout) as HealthReport;
    expect(Object.keys(report)).toEqual(['generatedAt', 'windowHours', 'queryLog', 'thresholds', 'summary', 'tenants']);
    expect(Date.parse(report.generatedAt)).toBeGreaterThanOrEqual(started - 1000);
    expect(report.windowHours).toBe(24);
    expect(report.queryLog).toEqual({ present: true, files: 1, records: 11, malformed: 1, dropped: 0 });
    expect(report.summary).toEqual({ tenants: 5, ok: 2, attention: 3 });
    expect(report.tenants.map((t) => t.id)).toEqual(['bigshared', 'busy', 'healthy', 'idlepro', 'smallshared']);
    for (const t of report.tenants) expect(Object.keys(t).sort()).toEqual(TENANT_KEYS);
    const byId = new Map<string, TenantHealth>(report.tenants.map((t) => [t.id, t]));
    const reg = new Registry(gw.dataDir);
    const data = await reg.read();
    const size = (id: string) => fs.statSync(reg.snapshotPath(data.tenants[id]!)!).size;

    expect(byId.get('healthy')).toMatchObject({
      status: 'active',
      plan: 'free',
      isolation: 'database',
      snapshot: data.tenants.healthy!.snapshot,
      dataBytes: size('healthy'),
      dataBytesEstimated: false,
      rows: 1000,
      sharedRows: null,
      queries24h: 3,
      errors24h: 0,
      limitHits24h: 0,
      limitHitsBySqlstate: {},
      advice: ['OK'],
      reasons: [],
      ok: true,
    });
    const last = Date.parse(byId.get('healthy')!.lastQuery!);
    expect(last).toBeGreaterThan(started - 5 * 60_000);
    expect(last).toBeLessThanOrEqual(Date.now());

    const busy = byId.get('busy')!;
    expect(busy).toMatchObject({ queries24h: 7, errors24h: 6, limitHits24h: 6, limitHitsBySqlstate: { '54000': 6 }, advice: ['SCALE_UP'], ok: false });
    expect(busy.reasons).toEqual([expect.stringMatching(/^SCALE_UP: 6 limit hits in 24 h \(54000 .*x6; threshold 5\)$/)]);

    expect(byId.get('idlepro')).toMatchObject({
      plan: 'pro',
      rows: 51,
      dataBytes: size('idlepro'),
      queries24h: 0,
      lastQuery: null,
      advice: ['SCALE_DOWN'],
      ok: false,
    });

    const big = byId.get('bigshared')!;
    expect(big).toMatchObject({
      isolation: 'shared',
      snapshot: data.shared.snapshot,
      rows: BIG_SHARED_ROWS + 1,
      sharedRows: { own: BIG_SHARED_ROWS, listed: 1 },
      dataBytesEstimated: true,
      queries24h: 0,
      advice: ['MOVE'],
      ok: false,
    });
    expect(big.reasons[0]).toMatch(/^MOVE: 1100000 rows of its own/);
    // Its estimated share is nearly all of the shared snapshot.
    const sharedSize = fs.statSync(reg.sharedSnapshotPath(data)!).size;
    expect(big.dataBytes!).toBeGreaterThan(sharedSize * 0.99);
    expect(big.dataBytes!).toBeLessThanOrEqual(sharedSize);

    expect(byId.get('smallshared')).toMatchObject({ rows: 12, sharedRows: { own: 10, listed: 2 }, queries24h: 1, advice: ['OK'], ok: true });

    // The gateway is still serving, and health changed nothing it depends on.
    const again = await pgConnect(gw, { tenant: 'healthy', password: PW });
    expect(await run(again, 'SELECT count(*) FROM orders')).toBeNull();
    await again.end();
  });

  it('prints an aligned table, then the reasons, then a summary', async () => {
    const r = await health(gw.dataDir);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toBe('');
    expectNoSecrets(r.stdout, gw.dataDir);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TENANT\s+STATUS\s+PLAN\s+ISOLATION\s+DATA\s+ROWS\s+QUERIES_24H\s+ERRORS_24H\s+LIMIT_HITS_24H\s+LAST_QUERY\s+ADVICE$/);
    const row = (id: string) => lines.find((l) => l.startsWith(`${id} `))!;
    expect(row('healthy')).toMatch(/^healthy\s+active\s+free\s+database\s+\d+(\.\d)?KB\s+1000\s+3\s+0\s+0\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+OK$/);
    expect(row('busy')).toMatch(/\s7\s+6\s+6\s+\S+Z\s+SCALE_UP$/);
    expect(row('idlepro')).toMatch(/^idlepro\s+active\s+pro\s+database\s+\S+\s+51\s+0\s+0\s+0\s+-\s+SCALE_DOWN$/);
    expect(row('bigshared')).toMatch(/^bigshared\s+active\s+pro\s+shared\s+~\S+\s+1100001\s+0\s+0\s+0\s+-\s+MOVE$/);
    for (const id of ['busy', 'healthy', 'idlepro', 'bigshared', 'smallshared']) {
      const plan = id === 'bigshared' || id === 'idlepro' ? 'pro' : 'free';
      expect(row(id).slice(lines[0]!.indexOf('PLAN')), id).toMatch(new RegExp(`^${plan} `));
      expect(row(id).search(/\S+$/), id).toBe(lines[0]!.indexOf('ADVICE'));
    }
    expect(lines).toContain('busy: SCALE_UP: 6 limit hits in 24 h (54000 result or query size x6; threshold 5)');
    expect(lines.some((l) => /^bigshared: MOVE: 1100000 rows of its own \(threshold 1000000\)/.test(l))).toBe(true);
    expect(lines.some((l) => /^idlepro: SCALE_DOWN: 0 queries in 24 h/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('healthy:') || l.startsWith('smallshared:'))).toBe(false);
    expect(lines).toContain('query log: 1 file, 11 records in the last 24 h, 1 malformed lines skipped');
    expect(lines.at(-1)).toMatch(/^5 tenants: 2 OK, 3 need attention \(generated \S+Z\)$/);
  });

  it('exits 0 when every tenant is OK, and flags a missing snapshot; it writes nothing', async () => {
    const data = path.join(tmp, 'quiet');
    const reg = new Registry(data);
    await addTestTenant(reg, 'solo', PW, { plan: 'free', sql: ['CREATE TABLE t AS SELECT 1 AS x'] });
    const before = listing(data);
    const [text, json] = await Promise.all([health(data), health(data, '--json')]);
    expect(listing(data)).toEqual(before);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('query log: none found');
    expect(text.stdout.trimEnd().split('\n').at(-1)).toMatch(/^1 tenant: 1 OK, 0 need attention/);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as HealthReport;
    expect(report.queryLog.present).toBe(false);
    expect(report.tenants[0]).toMatchObject({ id: 'solo', rows: 1, queries24h: null, lastQuery: null, advice: ['OK'], ok: true });

    fs.rmSync(reg.snapshotPath((await reg.read()).tenants.solo!)!);
    const missing = await health(data, '--json');
    expect(missing.code, missing.stderr).toBe(1);
    const t = (JSON.parse(missing.stdout) as HealthReport).tenants[0]!;
    expect(t).toMatchObject({ dataBytes: null, rows: null, advice: ['PROBLEM'], ok: false });
    expect(t.reasons).toEqual([expect.stringMatching(/^PROBLEM: its snapshot \d{6}-[0-9a-f]+\.duckdb is missing$/)]);

    // No tenants at all: nothing needs attention.
    const empty = await health(path.join(tmp, 'empty'));
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout.trimEnd().split('\n').at(-1)).toMatch(/^0 tenants: 0 OK, 0 need attention/);
  });

  it('reports errors on one line: 2 for a malformed command line, 1 for a failure', async () => {
    const corrupt = path.join(tmp, 'corrupt');
    fs.mkdirSync(corrupt);
    fs.writeFileSync(path.join(corrupt, 'registry.json'), '{ not json');
    const [usage, extra, broken] = await Promise.all([
      health(gw.dataDir, '--bogus'),
      health(gw.dataDir, 'acme'),
      health(corrupt),
    ]);
    expectError(usage, 2, "unknown option '--bogus'");
    expectError(extra, 2, /too many arguments/);
    expectError(broken, 1, /registry .* is corrupt/);
    expect(broken.stdout).toBe('');
  });
});
