import pg from 'pg';
import postgres from 'postgres';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgConnect, rawTypes } from './support/clients.js';
import { addTestTenant, startGateway, type TestGateway } from './support/gateway.js';

const PW = 'query-test-password';

const ORDERS = (rows: number, product: string) => [
  `CREATE TABLE orders AS SELECT i AS order_id, DATE '2024-01-01' + (i % 700)::INTEGER AS order_date,
     '${product}' AS product, (i * 1.25)::DECIMAL(10,2) AS amount FROM range(${rows}) t(i)`,
];

describe('queries over the simple protocol', () => {
  let gw: TestGateway;
  let acme: pg.Client;
  beforeAll(async () => {
    gw = await startGateway();
    await addTestTenant(gw.registry, 'acme', PW, { sql: ORDERS(1000, 'acme widget') });
    await addTestTenant(gw.registry, 'globex', PW, { sql: ORDERS(500, 'globex gadget') });
    acme = await pgConnect(gw, { tenant: 'acme', password: PW }, { types: rawTypes });
  });
  afterAll(async () => {
    await acme.end();
    await gw.stop();
  });

  async function error(sql: string, client: pg.Client = acme): Promise<pg.DatabaseError> {
    try {
      await client.query(sql);
    } catch (e) {
      return e as pg.DatabaseError;
    }
    throw new Error(`no error for ${sql}`);
  }

  it('runs a read on the tenant\'s own data with PostgreSQL types and tags', async () => {
    const r = await acme.query('SELECT count(*) AS n, sum(amount) AS total, min(order_date) AS first FROM orders');
    expect(r.rows).toEqual([{ n: '1000', total: '624375.00', first: '2024-01-01' }]);
    expect(r.fields.map((f) => f.dataTypeID)).toEqual([20, 1700, 1082]);
    expect(r.command).toBe('SELECT');
    expect(r.rowCount).toBe(1);
  });

  it('ends a result whose query fails after rows were sent with the error, never a short complete result', async () => {
    // DuckDB's streamed results lose an error raised after the first chunk: the end marker
    // (resultStream.ts) catches that, and the query run again names the error.
    const failLate = "SELECT CASE WHEN i < 1500000 THEN i::VARCHAR ELSE 'boom' END::BIGINT AS n FROM range(2000000) t(i)";
    for (const run of [() => acme.query(failLate), () => acme.query({ text: failLate, values: [] })]) {
      const e = await run().then(() => null, (err: { code?: string; message?: string }) => err);
      expect(e).toMatchObject({ code: '22P02', message: expect.stringContaining("'boom'") });
      expect((await acme.query('SELECT 1 AS ok')).rows).toEqual([{ ok: '1' }]);
    }
  });

  it('divides integers as PostgreSQL does', async () => {
    const r = await acme.query('SELECT 100 / 3 AS a, -7 / 2 AS b, 7::bigint / 2 AS c, 7 / 2.0 AS d');
    expect(r.fields.map((f) => f.dataTypeID)).toEqual([23, 23, 20, 701]);
    expect(r.rows).toEqual([{ a: '33', b: '-3', c: '3', d: '3.5' }]);
  });

  it('answers an empty query with EmptyQueryResponse', async () => {
    const r = await acme.query('');
    expect(r.rows).toEqual([]);
    const r2 = await acme.query('  -- nothing here\n /* really */ ;');
    expect(r2.rows).toEqual([]);
  });

  it('gives the right SQLSTATE for user errors and keeps the session usable', async () => {
    expect((await error('SELEC 1')).code).toBe('42601');
    expect((await error('SELECT * FROM no_such_table')).code).toBe('42P01');
    expect((await error('SELECT no_such_column FROM orders')).code).toBe('42703');
    expect((await error("SELECT 'abc'::INTEGER")).code).toBe('22P02');
    expect((await error("SELECT 'x")).code).toBe('42601');
    expect((await acme.query('SELECT 1 AS ok')).rows).toEqual([{ ok: '1' }]);
  });

  it('does not leak DuckDB suggestions or file paths in errors', async () => {
    const e = await error('SELECT * FROM order');
    expect(e.message).not.toMatch(/Did you mean|LINE 1|\.duckdb|\/tmp/);
    const all = [e.message, e.detail ?? '', e.hint ?? ''].join(' ');
    expect(all).not.toContain(gw.dataDir);
  });

  it('refuses writes with 25006 before they reach DuckDB, and says why', async () => {
    for (const sql of [
      "INSERT INTO orders VALUES (1, DATE '2024-01-01', 'x', 1)",
      'UPDATE orders SET amount = 0',
      'DELETE FROM orders',
      'DROP TABLE orders',
      'CREATE TABLE t (a int)',
      'TRUNCATE orders',
      "COPY orders FROM '/etc/passwd'",
    ]) {
      const e = await error(sql);
      expect(e.code, sql).toBe('25006');
      expect(e.message).toMatch(/read-only/);
    }
    for (const sql of ["ATTACH '/tmp/x.duckdb' AS x", 'PRAGMA database_list', 'INSTALL httpfs', 'LOAD httpfs', 'CHECKPOINT', 'CALL pragma_version()', 'USE memory']) {
      const e = await error(sql);
      expect(e.code, sql).toBe('42501');
    }
    expect((await acme.query('SELECT count(*) AS n FROM orders')).rows).toEqual([{ n: '1000' }]);
  });

  it('refuses writes hidden in CTEs and file readers', async () => {
    expect((await error('WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d')).code).toMatch(/25006|42601/);
    const f = await error("SELECT * FROM read_csv('/etc/passwd')");
    expect(f.code).toBe('42501');
    const q = await error("SELECT * FROM query('SELECT 1')");
    expect(q.code).toBe('42501');
    const scan = await error("SELECT * FROM '/etc/passwd'");
    expect(['42501', '42P01']).toContain(scan.code);
    expect(scan.message).not.toMatch(/root:/);
  });

  it('runs several statements in one Query and stops at the first error, as PostgreSQL does', async () => {
    const multi = (await acme.query('SELECT 1 AS a; SELECT 2 AS b')) as unknown as pg.QueryResult[];
    expect(multi.map((r) => r.rows)).toEqual([[{ a: '1' }], [{ b: '2' }]]);
    const e = await error("SELECT 1; DELETE FROM orders; SELECT 3");
    expect(e.code).toBe('25006');
    // The quote trick: PostgreSQL reads '\' as a whole string, so the DELETE is a statement of its own.
    const trick = await error("SELECT '\\'; DELETE FROM orders; --'");
    expect(trick.code).toBe('25006');
    expect((await acme.query('SELECT count(*) AS n FROM orders')).rows).toEqual([{ n: '1000' }]);
  });

  it('answers SET / SHOW / RESET itself and reports ParameterStatus', async () => {
    await acme.query("SET application_name = 'dash'");
    expect((await acme.query('SHOW application_name')).rows).toEqual([{ application_name: 'dash' }]);
    await acme.query("SET TIME ZONE 'Asia/Kolkata'");
    expect((await acme.query('SHOW TimeZone')).rows).toEqual([{ timezone: 'Asia/Kolkata' }]);
    expect((await acme.query("SELECT TIMESTAMPTZ '2024-01-01 00:00:00+00' AS t")).rows).toEqual([{ t: '2024-01-01 05:30:00+05:30' }]);
    await acme.query('RESET TimeZone');
    expect((await acme.query('SHOW timezone')).rows).toEqual([{ timezone: 'UTC' }]);
    await acme.query('SET extra_float_digits = 3');
    await acme.query('SET DateStyle = ISO, MDY');
    await acme.query("SET client_encoding TO 'UTF8'");
    await acme.query('SET search_path TO public');
    expect((await acme.query('SHOW TRANSACTION ISOLATION LEVEL')).rows).toEqual([{ transaction_isolation: 'read committed' }]);
    expect((await acme.query('SHOW server_version')).rows[0].server_version).toMatch(/^16\./);
    expect((await error('SET no_such_setting = 1')).code).toBe('42704');
    expect((await error("SET client_encoding = 'LATIN1'")).code).toBe('22023');
    expect((await error('SET threads = 64')).code).toBe('42704');
    expect((await error('SET server_version = 1')).code).toBe('55000');
    const all = await acme.query('SHOW ALL');
    expect(all.rows.length).toBeGreaterThan(20);
    await acme.query('DISCARD ALL');
    expect((await acme.query('SHOW application_name')).rows).toEqual([{ application_name: '' }]);
  });

  it('tracks transaction blocks: BEGIN, failure, ROLLBACK, COMMIT', async () => {
    const c = await pgConnect(gw, { tenant: 'acme', password: PW }, { types: rawTypes });
    await c.query('BEGIN');
    await c.query("SET LOCAL application_name = 'in-tx'");
    expect((await c.query('SHOW application_name')).rows).toEqual([{ application_name: 'in-tx' }]);
    await c.query('COMMIT');
    expect((await c.query('SHOW application_name')).rows).toEqual([{ application_name: '' }]);

    await c.query('BEGIN');
    await c.query("SET application_name = 'rolled back'");
    await expect(c.query('SELECT * FROM nope')).rejects.toMatchObject({ code: '42P01' });
    await expect(c.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
    const r = await c.query('COMMIT');
    expect(r.command).toBe('ROLLBACK');
    expect((await c.query('SHOW application_name')).rows).toEqual([{ application_name: '' }]);
    expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: '1' }]);
    await c.end();
  });

  it.each(['simple', 'extended'] as const)('serves savepoints as psqlODBC uses them (%s protocol)', async (mode) => {
    const c = await pgConnect(gw, { tenant: 'acme', password: PW }, { types: rawTypes });
    // node-postgres sends a text without values over the simple protocol unless told otherwise.
    const q = (text: string) => (mode === 'extended' ? c.query({ text, queryMode: 'extended' } as pg.QueryConfig) : c.query(text));
    await expect(q('SAVEPOINT outside')).rejects.toMatchObject({ code: '25P01' });
    await q('BEGIN');
    await q('SAVEPOINT s1');
    await q("SET application_name = 'after-s1'");
    await expect(q('SELECT * FROM nope')).rejects.toMatchObject({ code: '42P01' });
    await expect(q('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
    await expect(q('ROLLBACK TO SAVEPOINT nosuch')).rejects.toMatchObject({ code: '3B001' });
    await expect(q('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
    // psql/psqlODBC's statement-level rollback: the block is usable again, settings undone.
    expect((await q('ROLLBACK TO SAVEPOINT s1')).command).toBe('ROLLBACK');
    expect((await q('SHOW application_name')).rows).toEqual([{ application_name: '' }]);
    expect((await q('SELECT count(*) AS n FROM orders')).rows).toEqual([{ n: '1000' }]);
    await q('RELEASE SAVEPOINT s1');
    await expect(q('RELEASE s1')).rejects.toMatchObject({ code: '3B001' });
    await q('ROLLBACK');
    expect((await q('UNLISTEN *')).command).toBe('UNLISTEN');
    await c.end();
  });

  it('keeps two tenants apart: each sees only its own rows', async () => {
    const globex = await pgConnect(gw, { tenant: 'globex', password: PW }, { types: rawTypes });
    const [a, g] = await Promise.all([
      acme.query('SELECT DISTINCT product, count(*) OVER () AS n FROM orders'),
      globex.query('SELECT DISTINCT product, count(*) OVER () AS n FROM orders'),
    ]);
    expect(a.rows).toEqual([{ product: 'acme widget', n: '1000' }]);
    expect(g.rows).toEqual([{ product: 'globex gadget', n: '500' }]);
    for (const sql of ['SELECT * FROM acme.orders', 'SELECT * FROM acme.main.orders', "SELECT * FROM duckdb_databases()"]) {
      const e = await error(sql, globex);
      expect(JSON.stringify(e)).not.toContain('acme widget');
    }
    expect((await globex.query('SELECT current_database() AS db')).rows).toEqual([{ db: 'globex' }]);
    await globex.end();
  });

  it('never mixes tenants under concurrent load', async () => {
    const clients = await Promise.all(
      ['acme', 'globex', 'acme', 'globex'].map((t) => pgConnect(gw, { tenant: t, password: PW }, { types: rawTypes })),
    );
    const expected = ['acme widget', 'globex gadget', 'acme widget', 'globex gadget'];
    const rounds = await Promise.all(
      clients.map(async (c, i) => {
        const seen = new Set<string>();
        for (let k = 0; k < 25; k++) {
          const r = await c.query(`SELECT product FROM orders WHERE order_id % 7 = ${k % 7} LIMIT 50`);
          for (const row of r.rows) seen.add(row.product);
        }
        return [i, [...seen]] as const;
      }),
    );
    for (const [i, seen] of rounds) expect(seen).toEqual([expected[i]]);
    await Promise.all(clients.map((c) => c.end()));
  });

  it('bounds the query text by the tenant\'s plan', async () => {
    await addTestTenant(gw.registry, 'tiny', PW, { plan: 'free' });
    const c = await pgConnect(gw, { tenant: 'tiny', password: PW }, { types: rawTypes });
    const big = `SELECT 1 AS one /* ${'x'.repeat(70 * 1024)} */`;
    await expect(c.query(big)).rejects.toMatchObject({ code: '54000', message: expect.stringMatching(/limit is 65536 bytes \(plan free\)/) });
    expect((await acme.query(big)).rows).toEqual([{ one: '1' }]); // enterprise: 1 MiB
    expect((await c.query('SELECT 2 AS two')).rows).toEqual([{ two: '2' }]);
    await c.end();
  });

  it('works with postgres.js over the simple protocol', async () => {
    const sql = postgres({
      host: '127.0.0.1', port: gw.port, database: 'acme', username: 'acme', password: PW,
      ssl: { ca: fs.readFileSync(gw.caFile) }, max: 1, fetch_types: false,
    });
    const rows = await sql.unsafe('SELECT order_id, product FROM orders ORDER BY order_id LIMIT 2').simple();
    expect(rows.map((r) => ({ ...r }))).toEqual([
      { order_id: '0', product: 'acme widget' },
      { order_id: '1', product: 'acme widget' },
    ]);
    await expect(sql.unsafe('DELETE FROM orders').simple()).rejects.toMatchObject({ code: '25006' });
    await sql.end();
  });
});
