// The admin database through a real client: the admin credential reads every tenant's
// data, the shared tables unfiltered, the registry and the query log, and can change
// nothing; no tenant login reaches it, and an admin credential opens nothing else.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_DATABASE } from '../src/tenants/ids.js';
import { addTenant, setAdminPassword } from '../src/tenants/registry.js';
import { loadTable } from '../src/tenants/snapshots.js';
import { pgConnect, rawTypes } from './support/clients.js';
import { expectError, tg } from './support/cli.js';
import { addTestTenant, startGateway, writeCsv, type TestGateway } from './support/gateway.js';

const PW = 'admin-test-tenant-password';
const ADMIN_PW = 'admin-test-operator-password';
type PgErr = Error & { code?: string };
const failure = (p: Promise<unknown>): Promise<PgErr | null> => p.then(() => null, (e: PgErr) => e);

describe('admin database', () => {
  let gw: TestGateway;
  let admin: pg.Client;
  const connectAdmin = (): Promise<pg.Client> =>
    pgConnect(gw, { tenant: ADMIN_DATABASE, user: 'ops', password: ADMIN_PW }, { types: rawTypes });

  beforeAll(async () => {
    gw = await startGateway();
    await addTestTenant(gw.registry, 'acme', PW, { sql: ["CREATE TABLE orders AS SELECT * FROM (VALUES (1, 'acme-widget', 10.0), (2, 'acme-gadget', 20.0)) t(id, product, amount)"] });
    await addTestTenant(gw.registry, 'globex', PW, { sql: ["CREATE TABLE orders AS SELECT * FROM (VALUES (1, 'globex-lamp', 5.0)) t(id, product, amount)"] });
    for (const id of ['s_one', 's_two']) await addTenant(gw.registry, { id, plan: 'pro', password: PW, isolation: 'shared' });
    const csv = (name: string, rows: string[]): string => writeCsv(gw.dataDir, name, 'id,product,amount', rows);
    await loadTable(gw.registry, 's_one', 'orders', csv('1.csv', ['1,one-a,1', '2,one-b,2']), 'create');
    await loadTable(gw.registry, 's_two', 'orders', csv('2.csv', ['1,two-a,100']), 'create');
    await setAdminPassword(gw.registry, 'ops', ADMIN_PW);
    // Something in the query log before the admin looks at it.
    const acme = await pgConnect(gw, { tenant: 'acme', password: PW });
    await acme.query('SELECT count(*) FROM orders');
    await acme.end();
    await gw.gateway.flushQueryLog();
    admin = await connectAdmin();
  });
  afterAll(async () => {
    await admin?.end();
    await gw.stop();
  });

  it('reads across tenants: revenue per tenant from every database and the shared tables', async () => {
    const r = await admin.query('SELECT tenant_id, sum(amount) AS revenue, count(*) AS n FROM all_tenants.orders GROUP BY 1 ORDER BY 1');
    expect(r.rows).toEqual([
      { tenant_id: 'acme', revenue: '30.0', n: '2' },
      { tenant_id: 'globex', revenue: '5.0', n: '1' },
      { tenant_id: 's_one', revenue: '3', n: '2' },
      { tenant_id: 's_two', revenue: '100', n: '1' },
    ].map((x) => ({ ...x, revenue: expect.stringMatching(new RegExp(`^${x.revenue.replace('.', '\\.')}`)) })));
    expect((await admin.query('SELECT product FROM acme.orders ORDER BY id')).rows).toEqual([{ product: 'acme-widget' }, { product: 'acme-gadget' }]);
    // The shared tables unfiltered, tenant_id and all.
    expect((await admin.query('SELECT tenant_id, count(*) AS n FROM shared.orders GROUP BY 1 ORDER BY 1')).rows).toEqual([
      { tenant_id: 's_one', n: '2' },
      { tenant_id: 's_two', n: '1' },
    ]);
    // Parameters through the extended protocol.
    const p = await admin.query({ text: 'SELECT count(*) AS n FROM all_tenants.orders WHERE amount > $1', values: [9] });
    expect(p.rows).toEqual([{ n: '3' }]);
  });

  it('has the registry (without a verifier) and the query log as tables', async () => {
    expect((await admin.query('SELECT id, plan, isolation FROM tenants ORDER BY id')).rows).toEqual([
      { id: 'acme', plan: 'enterprise', isolation: 'database' },
      { id: 'globex', plan: 'enterprise', isolation: 'database' },
      { id: 's_one', plan: 'pro', isolation: 'shared' },
      { id: 's_two', plan: 'pro', isolation: 'shared' },
    ]);
    const users = await admin.query('SELECT * FROM users');
    expect(users.fields.map((f) => f.name)).toEqual(['tenant_id', 'name', 'created_at']);
    expect(JSON.stringify(users.rows)).not.toMatch(/scram|storedKey|serverKey|salt/i);
    expect((await admin.query("SELECT name FROM plans WHERE name IN ('free', 'pro') ORDER BY 1")).rows).toEqual([{ name: 'free' }, { name: 'pro' }]);
    const q = await admin.query("SELECT tenant, outcome FROM queries WHERE text = 'SELECT count(*) FROM orders'");
    expect(q.rows).toContainEqual({ tenant: 'acme', outcome: 'ok' });
  });

  it('changes nothing: writes, engine commands, files and settings are refused', async () => {
    for (const sql of [
      'CREATE TABLE x AS SELECT 1',
      "INSERT INTO acme.orders VALUES (3, 'x', 1)",
      'DELETE FROM shared.orders',
      "ATTACH '/tmp/x.duckdb' AS x",
      "COPY acme.orders TO '/tmp/out.csv'",
      'SET threads = 1', // not a PostgreSQL setting: 42704, as PostgreSQL
      'SELECT 1 INTO t',
    ]) {
      const e = await failure(admin.query(sql));
      expect(e, sql).not.toBeNull();
      expect(['25006', '42501', '0A000', '42601', '42704'], `${sql}: ${e?.code} ${e?.message}`).toContain(e?.code);
    }
    const file = await failure(admin.query("SELECT * FROM read_text('/etc/passwd')"));
    expect(file?.message).toMatch(/disabled|not allowed|Permission/i);
    // The data is as it was.
    expect((await admin.query('SELECT count(*) AS n FROM acme.orders')).rows).toEqual([{ n: '2' }]);
    expect((await admin.query('SELECT 1 AS one')).rows).toEqual([{ one: '1' }]);
  });

  it('sees a registry change at the next statement', async () => {
    await addTestTenant(gw.registry, 'initech', PW, { sql: ["CREATE TABLE orders AS SELECT 7 AS id, 'initech-stapler' AS product, 1.5 AS amount"] });
    expect((await admin.query("SELECT product FROM all_tenants.orders WHERE tenant_id = 'initech'")).rows).toEqual([{ product: 'initech-stapler' }]);
    expect((await admin.query("SELECT count(*) AS n FROM tenants WHERE id = 'initech'")).rows).toEqual([{ n: '1' }]);
  });

  it('is out of every tenant\'s reach, and the admin credential opens nothing else', async () => {
    // A tenant's user and password do not open the admin database.
    let e = await failure(pgConnect(gw, { tenant: ADMIN_DATABASE, user: 'acme', password: PW }));
    expect(e?.code).toBe('28P01');
    // The admin's name and password open no tenant.
    e = await failure(pgConnect(gw, { tenant: 'acme', user: 'ops', password: ADMIN_PW }));
    expect(e?.code).toBe('28P01');
    // From a tenant's session, nothing of it (or of another tenant) can be named.
    const acme = await pgConnect(gw, { tenant: 'acme', password: PW }, { types: rawTypes });
    for (const sql of [
      `SELECT * FROM ${ADMIN_DATABASE}.tenants`,
      'SELECT * FROM tenants',
      'SELECT * FROM queries',
      'SELECT * FROM all_tenants.orders',
      'SELECT * FROM globex.orders',
      'SELECT * FROM shared.orders',
    ]) {
      const err = await failure(acme.query(sql));
      expect(err?.code, sql).toBe('42P01');
    }
    expect(JSON.stringify((await acme.query('SELECT * FROM orders')).rows)).not.toContain('globex');
    await acme.end();
    // No tenant can be created under the admin database's name.
    expectError(await tg(['tenant', 'add', ADMIN_DATABASE, '--plan', 'free', '--password-stdin', '--data', gw.dataDir], { input: 'a-long-enough-password' }), 2, 'reserved');
  });

  it('is managed with tenantgate admin passwd|list|remove; no verifier is printed', async () => {
    const data = ['--data', gw.dataDir];
    let r = await tg(['admin', 'passwd', 'auditor', '--password-stdin', ...data], { input: 'auditor-password-1\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('admin user auditor created');
    r = await tg(['admin', 'list', '--json', ...data]);
    expect(JSON.parse(r.stdout).map((a: { name: string }) => a.name)).toEqual(['ops', 'auditor']);
    expect(r.stdout).not.toMatch(/scram|storedKey|salt/i);
    const auditor = await pgConnect(gw, { tenant: ADMIN_DATABASE, user: 'auditor', password: 'auditor-password-1' }, { types: rawTypes });
    expect((await auditor.query('SELECT count(*) AS n FROM tenants')).rows).toEqual([{ n: '5' }]);
    await auditor.end();
    r = await tg(['admin', 'remove', 'auditor', ...data]);
    expect(r.code, r.stderr).toBe(0);
    expect(await failure(pgConnect(gw, { tenant: ADMIN_DATABASE, user: 'auditor', password: 'auditor-password-1' }))).toMatchObject({ code: '28P01' });
    expectError(await tg(['admin', 'remove', 'auditor', ...data]), 1, 'unknown admin user auditor');
  });
});
