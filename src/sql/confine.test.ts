import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckdbParser } from '../engine/parser.js';
import type { CatalogTable, GateContext } from './catalog.js';
import { Gate } from './gate.js';
import { splitStatements } from './lexer.js';

let parser: DuckdbParser;
let gate: Gate;
let dir: string;
let shared: DuckDBInstance;
let conn: DuckDBConnection;

const ordersColumns = ['tenant_id', 'id', 'status', 'amount'];
const sharedTables = new Map<string, CatalogTable>([
  ['orders', { name: 'orders', columns: ordersColumns, tenantColumn: 'tenant_id' }],
  ['notes', { name: 'notes', columns: ['tenant_ids', 'note'], tenantColumn: 'tenant_ids' }],
  ['secrets', { name: 'secrets', columns: ['tenant_id', 'v'], tenantColumn: 'tenant_id' }],
]);
const sharedCtx = (tenantId: string): GateContext => ({ tenantId, isolation: 'shared', catalogName: 'shared', tables: sharedTables, version: 'v1' });
const dbCtx: GateContext = {
  tenantId: 'acme', isolation: 'database', catalogName: 'acme', version: 'db1',
  tables: new Map([['orders', { name: 'orders', columns: ['id', 'status', 'amount'] }]]),
};

/** A session as the gate sees one: PostgreSQL's settings, not DuckDB's. */
const SESSION = { user: 'acme', pid: 4242, key: 'k', setting: (name: string) => (name === 'TimeZone' ? 'UTC' : undefined) };

async function check(sql: string, ctx: GateContext) {
  const [st] = splitStatements(sql);
  return gate.check(st!.text, st!.tokens, ctx, [], SESSION);
}

async function rows(sql: string): Promise<unknown[][]> {
  const r = (await conn.runAndReadAll(sql)).getRowsJS();
  return r.map((row) => row.map((v) => (typeof v === 'bigint' ? Number(v) : v)));
}

beforeAll(async () => {
  parser = await DuckdbParser.create(1);
  gate = new Gate(parser, null);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantgate-confine-'));
  shared = await DuckDBInstance.create(path.join(dir, 'shared.duckdb'));
  conn = await shared.connect();
  await conn.run(`CREATE TABLE orders AS SELECT CASE WHEN i % 3 = 0 THEN 'acme' WHEN i % 3 = 1 THEN 'globex' ELSE 'initech' END AS tenant_id,
    i AS id, CASE WHEN i % 2 = 0 THEN 'paid' ELSE 'open' END AS status, i * 10 AS amount FROM range(30) t(i)`);
  // acme's values are numbers; globex's are not: evaluating a cast or an error() on them would fail.
  await conn.run(`CREATE TABLE secrets AS SELECT * FROM (VALUES ('acme', '1'), ('acme', '2'), ('globex', 'GLOBEX-SECRET')) v(tenant_id, v)`);
  await conn.run(`CREATE TABLE notes AS SELECT * FROM (VALUES (['acme', 'globex'], 'both'), (['globex'], 'globex only'), (['acme'], 'acme only')) v(tenant_ids, note)`);
});
afterAll(() => {
  conn.closeSync();
  shared.closeSync();
  parser.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('database isolation', () => {
  it('accepts the tenant\'s tables under PostgreSQL and DuckDB qualifications', async () => {
    for (const sql of ['SELECT * FROM orders', 'SELECT * FROM public.orders', 'SELECT * FROM main.orders', 'SELECT * FROM acme.main.orders', 'SELECT public.orders.status FROM public.orders']) {
      const v = await check(sql, dbCtx);
      expect(v.sql, sql).not.toMatch(/public|acme\./);
    }
  });

  it('refuses other catalogs, unknown tables, catalogs of the engine and files', async () => {
    await expect(check('SELECT * FROM globex.main.orders', dbCtx)).rejects.toMatchObject({ code: '42P01' });
    await expect(check('SELECT * FROM nosuch', dbCtx)).rejects.toMatchObject({ code: '42P01', message: 'relation "nosuch" does not exist' });
    await expect(check('SELECT * FROM information_schema.no_such_view', dbCtx)).rejects.toMatchObject({ code: '42P01' });
    await expect(check('SELECT * FROM pg_tenant.main.pg_class', dbCtx)).rejects.toMatchObject({ code: '42P01' });
    await expect(check('SELECT * FROM duckdb_tables', dbCtx)).rejects.toMatchObject({ code: '42P01' });
    await expect(check("SELECT * FROM 'data/x.csv'", dbCtx)).rejects.toMatchObject({ code: '42501' });
    await expect(check("SELECT * FROM read_csv('x.csv')", dbCtx)).rejects.toMatchObject({ code: '42501' });
    // current_setting reads the session's PostgreSQL settings, never DuckDB's.
    await expect(check("SELECT current_setting('threads')", dbCtx)).rejects.toMatchObject({ code: '42704' });
    await expect(check("SELECT current_setting(name) FROM (SELECT 'threads' AS name)", dbCtx)).rejects.toMatchObject({ code: '0A000' });
    await expect(check("SELECT * FROM duckdb_settings()", dbCtx)).rejects.toMatchObject({ code: '42501' });
    await expect(check("SELECT repeat('x', 1000000000)", dbCtx)).rejects.toMatchObject({ code: '54000' });
    await expect(check('SELECT 1 INTO t', dbCtx)).rejects.toMatchObject({ code: '25006' });
    await expect(check('SELECT ' + '('.repeat(300) + '1' + ')'.repeat(300), dbCtx)).rejects.toMatchObject({ code: '54001' });
  });

  it('lets a CTE named like a table shadow it', async () => {
    const v = await check('WITH nosuch AS (SELECT 1 AS x) SELECT * FROM nosuch', dbCtx);
    expect(v.sql).toMatch(/nosuch/);
    // ...but not before it is defined, and not under a qualified name.
    await expect(check('WITH a AS (SELECT * FROM nosuch), nosuch AS (SELECT 1) SELECT * FROM a', dbCtx)).rejects.toMatchObject({ code: '42P01' });
    await expect(check('WITH nosuch AS (SELECT 1) SELECT * FROM main.nosuch', dbCtx)).rejects.toMatchObject({ code: '42P01' });
  });

  it('accepts numeric constants that DuckDB writes back in another form', async () => {
    const v = await check('SELECT (-2.5e-3)::DOUBLE AS d, 1e10 AS e, 0.1 AS f', dbCtx);
    expect(v.sql).toMatch(/0\.0025/);
  });

  it('caches verdicts by text and catalog', async () => {
    const before = gate.cacheSize;
    await check('SELECT id FROM orders WHERE id = 42', dbCtx);
    await check('SELECT id FROM orders WHERE id = 42', dbCtx);
    expect(gate.cacheSize).toBe(before + 1);
  });
});

describe('shared isolation', () => {
  it('confines every reference to the tenant\'s rows and hides tenant_id', async () => {
    const v = await check('SELECT * FROM orders ORDER BY id', sharedCtx('acme'));
    expect(v.sql).toContain(`WHERE (tenant_id = 'acme')`);
    const r = await rows(v.sql);
    expect(r.length).toBe(10);
    expect(r[0]).toEqual([0, 'paid', 0]);
  });

  it('confines through joins, CTEs, subqueries, set operations, LATERAL, qualified and quoted names', async () => {
    const queries = [
      'SELECT count(*) FROM orders o JOIN orders p ON o.id = p.id',
      'WITH x AS (SELECT * FROM orders) SELECT count(*) FROM x',
      'SELECT count(*) FROM orders WHERE id IN (SELECT id FROM orders)',
      'SELECT (SELECT count(*) FROM orders)',
      'SELECT count(*) FROM (SELECT id FROM orders UNION SELECT id FROM public.orders)',
      'SELECT count(*) FROM orders o, LATERAL (SELECT * FROM orders p WHERE p.id = o.id) l',
      'SELECT count(*) FROM "ORDERS"',
      'SELECT count(*) FROM shared.main.orders',
      'SELECT count(public.orders.status) FROM public.orders',
      'SELECT count(*) FROM orders WHERE EXISTS (SELECT 1 FROM orders x WHERE x.id = orders.id)',
    ];
    for (const q of queries) {
      const v = await check(q, sharedCtx('acme'));
      const r = await rows(v.sql);
      expect(r[0]![0], q).toBe(10);
    }
  });

  it('keeps a CTE that shadows a shared table, and confines the table inside it', async () => {
    const v = await check('WITH orders AS (SELECT * FROM orders WHERE status = \'paid\') SELECT count(*) FROM orders', sharedCtx('acme'));
    expect(await rows(v.sql)).toEqual([[5]]);
  });

  it('shows a row with a tenant list to every tenant on its list', async () => {
    for (const [t, expected] of [['acme', ['acme only', 'both']], ['globex', ['both', 'globex only']], ['initech', []]] as const) {
      const v = await check('SELECT note FROM notes ORDER BY note', sharedCtx(t));
      expect((await rows(v.sql)).map((r) => r[0])).toEqual(expected);
    }
  });

  it('never evaluates the tenant\'s predicates on other tenants\' rows (no error oracle)', async () => {
    const probes = [
      "SELECT count(*) FROM secrets WHERE CAST(v AS INTEGER) > 0",
      "SELECT count(*) FROM secrets WHERE (CASE WHEN v = 'GLOBEX-SECRET' THEN error('found') ELSE 1 END) = 1",
      "SELECT count(*) FROM secrets s JOIN range(3) r(x) ON CAST(s.v AS INTEGER) = r.x",
      "SELECT (SELECT count(*) FROM secrets WHERE CAST(v AS INTEGER) >= 1)",
      "SELECT count(*) FROM secrets WHERE v IN (SELECT v FROM secrets WHERE CAST(v AS INTEGER) > 0)",
    ];
    for (const q of probes) {
      const v = await check(q, sharedCtx('acme'));
      const r = await rows(v.sql);
      expect(r[0]![0], q).toBe(2);
    }
  });

  it('calls the database after the tenant, not after the shared catalog', async () => {
    const v = await check('SELECT current_database() AS db, current_catalog()', sharedCtx('globex'));
    expect(await rows(v.sql)).toEqual([['globex', 'globex']]);
  });

  it('refuses tenant_id itself, DESCRIBE/SUMMARIZE and TABLESAMPLE on shared tables', async () => {
    await expect(check('SELECT tenant_id FROM orders', sharedCtx('acme')).then((v) => rows(v.sql))).rejects.toThrow(/tenant_id/);
    await expect(check('DESCRIBE orders', sharedCtx('acme'))).rejects.toMatchObject({ code: '42501' });
    await expect(check('SELECT * FROM orders TABLESAMPLE 10%', sharedCtx('acme'))).rejects.toMatchObject({ code: '42501' });
  });
});
