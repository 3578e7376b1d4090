// The plans' history window through a real client: rows of a table with a declared time
// column older than the plan's window never appear, for database and shared tenants,
// whatever the query's shape; declarations and plan changes apply without a restart.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPlan } from '../src/tenants/plans.js';
import { addTenant, setPlan, setTenantPlan, setTimeColumn } from '../src/tenants/registry.js';
import { loadTable } from '../src/tenants/snapshots.js';
import { pgConnect, rawTypes } from './support/clients.js';
import { addTestTenant, startGateway, writeCsv, type TestGateway } from './support/gateway.js';
import { expectError, tg } from './support/cli.js';

const PW = 'history-test-password';

/** Rows 1, 3, 10 and 30 days old, and one of unknown age; `label` says which is which. */
const EVENTS_SQL = [
  `CREATE TABLE events AS SELECT * FROM (VALUES
     ('fresh-1d', now()::TIMESTAMP - INTERVAL 1 DAY, (current_date - 1)),
     ('fresh-3d', now()::TIMESTAMP - INTERVAL 3 DAY, (current_date - 3)),
     ('OLD-10d', now()::TIMESTAMP - INTERVAL 10 DAY, (current_date - 10)),
     ('OLD-30d', now()::TIMESTAMP - INTERVAL 30 DAY, (current_date - 30)),
     ('OLD-null', NULL, NULL)) t(label, seen, day)`,
  `CREATE TABLE daily AS SELECT label, day FROM events`,
  `CREATE TABLE notes AS SELECT label, CAST(seen AS VARCHAR) AS seen FROM events`,
  `CREATE TABLE products AS SELECT * FROM (VALUES (1, 'lamp')) t(id, name)`,
];

const labels = (rows: { label: string }[]): string[] => rows.map((r) => r.label).sort();

describe('history window', () => {
  let gw: TestGateway;
  let db: pg.Client;
  let sh: pg.Client;

  beforeAll(async () => {
    gw = await startGateway();
    await setPlan(gw.registry, { ...getPlan('pro'), name: 'week', historyDays: 7 });
    await addTestTenant(gw.registry, 'dbt', PW, { plan: 'week', sql: EVENTS_SQL });
    for (const id of ['sht', 'other']) await addTenant(gw.registry, { id, plan: 'week', password: PW, isolation: 'shared' });
    const day = (n: number): string => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 19).replace('T', ' ');
    const csv = (name: string, who: string): string =>
      writeCsv(gw.dataDir, name, 'label,seen', [`${who}-fresh-2d,${day(2)}`, `${who}-OLD-20d,${day(20)}`]);
    await loadTable(gw.registry, 'sht', 'visits', csv('s.csv', 'sht'), 'create');
    await loadTable(gw.registry, 'other', 'visits', csv('o.csv', 'FOREIGN'), 'create');
    await setTimeColumn(gw.registry, 'events', 'seen');
    await setTimeColumn(gw.registry, 'daily', 'day');
    await setTimeColumn(gw.registry, 'notes', 'seen');
    await setTimeColumn(gw.registry, 'visits', 'SEEN');
    db = await pgConnect(gw, { tenant: 'dbt', password: PW }, { types: rawTypes });
    sh = await pgConnect(gw, { tenant: 'sht', password: PW }, { types: rawTypes });
  });
  afterAll(async () => {
    await db?.end();
    await sh?.end();
    await gw.stop();
  });

  it('hides rows older than the window (and of unknown age) on a timestamp column, whatever the query shape', async () => {
    expect(labels((await db.query('SELECT label FROM events')).rows)).toEqual(['fresh-1d', 'fresh-3d']);
    for (const sql of [
      'SELECT label FROM public.events e',
      'SELECT e.label FROM events AS e JOIN events f USING (label)',
      'WITH x AS (SELECT * FROM main.events) SELECT label FROM x',
      'SELECT label FROM (SELECT label FROM dbt.main.events UNION ALL SELECT label FROM events WHERE seen IS NULL) s',
      'SELECT label FROM events WHERE seen < now() - INTERVAL 5 DAY OR seen IS NULL',
      'SELECT (SELECT string_agg(label, \',\') FROM events) AS label',
      'SELECT label FROM daily WHERE label IN (SELECT label FROM events)',
    ]) {
      const r = await db.query(sql);
      expect(JSON.stringify(r.rows), sql).not.toContain('OLD');
    }
    const r = await db.query("SELECT count(*) AS n, min(seen) >= now() - INTERVAL 7 DAY AS inside FROM events");
    expect(r.rows).toEqual([{ n: '2', inside: 't' }]);
    // Through the extended protocol too.
    expect(labels((await db.query({ text: 'SELECT label FROM events WHERE label LIKE $1', values: ['%'] })).rows)).toEqual(['fresh-1d', 'fresh-3d']);
  });

  it('windows a DATE column by whole days, and leaves tables without a time column whole', async () => {
    expect(labels((await db.query('SELECT label FROM daily')).rows)).toEqual(['fresh-1d', 'fresh-3d']);
    expect((await db.query('SELECT count(*) AS n FROM products')).rows).toEqual([{ n: '1' }]);
  });

  it('refuses a table whose declared time column is not a date or timestamp, rather than show it whole', async () => {
    const e = await db.query('SELECT label FROM notes').then(() => null, (x: Error & { code?: string }) => x);
    expect(e?.code).toBe('0A000');
    expect(e?.message).toContain('time column "seen" is VARCHAR');
    expect(labels((await db.query('SELECT label FROM events')).rows)).toEqual(['fresh-1d', 'fresh-3d']);
  });

  it('refuses TABLESAMPLE on a windowed table (it would sample outside the window)', async () => {
    await expect(db.query('SELECT label FROM events TABLESAMPLE 50%')).rejects.toMatchObject({ code: '42501' });
  });

  it("confines a shared tenant to its own rows inside the window (column matched case-insensitively)", async () => {
    const r = await sh.query('SELECT label FROM visits');
    expect(labels(r.rows)).toEqual(['sht-fresh-2d']);
    const all = await sh.query('SELECT * FROM visits v JOIN visits w USING (label)');
    expect(JSON.stringify(all.rows)).not.toContain('FOREIGN');
    expect(JSON.stringify(all.rows)).not.toContain('OLD');
  });

  it('applies plan changes and declarations at the next statement, without a restart', async () => {
    await setTenantPlan(gw.registry, 'dbt', 'pro'); // full history
    expect(labels((await db.query('SELECT label FROM events')).rows)).toHaveLength(5);
    await setTenantPlan(gw.registry, 'dbt', 'week');
    expect(labels((await db.query('SELECT label FROM events')).rows)).toEqual(['fresh-1d', 'fresh-3d']);
    await setPlan(gw.registry, { ...getPlan('pro'), name: 'week', historyDays: 20 });
    expect(labels((await db.query('SELECT label FROM events')).rows)).toEqual(['OLD-10d', 'fresh-1d', 'fresh-3d']);
    await setPlan(gw.registry, { ...getPlan('pro'), name: 'week', historyDays: 7 });
    await setTimeColumn(gw.registry, 'events', null);
    expect(labels((await db.query('SELECT label FROM events')).rows)).toHaveLength(5);
    await setTimeColumn(gw.registry, 'events', 'seen');
    expect(labels((await db.query('SELECT label FROM events')).rows)).toEqual(['fresh-1d', 'fresh-3d']);
  });

  it('is declared with tenantgate history set|list|unset', async () => {
    const data = ['--data', gw.dataDir];
    let r = await tg(['history', 'set', 'orders', 'created_at', ...data]);
    expect(r.code, r.stderr).toBe(0);
    r = await tg(['history', 'list', '--json', ...data]);
    expect(JSON.parse(r.stdout)).toMatchObject({ orders: 'created_at', events: 'seen' });
    r = await tg(['history', 'unset', 'orders', ...data]);
    expect(r.stdout).toContain('time column of orders removed (was created_at)');
    expectError(await tg(['history', 'set', 'pg_class', 'x', ...data]), 2, 'reserved');
  });
});
