/**
 * The PostgreSQL catalog as tenants see it: the SQL psql and the drivers send (the
 * corpus, replayed), functions and casts clients call, psql's describe commands, and
 * isolation: a tenant's catalog lists its own objects only.
 */
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTenant } from '../src/tenants/registry.js';
import { loadTable } from '../src/tenants/snapshots.js';
import { pgConnect, rawTypes, requireCommand, run } from './support/clients.js';
import { addTestTenant, startGateway, writeCsv, type TestGateway } from './support/gateway.js';

const PW = 'catalog-test-password';
const CORPUS = path.join(import.meta.dirname, 'fixtures', 'sql-corpus');
const manifest = JSON.parse(fs.readFileSync(path.join(CORPUS, 'clients.json'), 'utf8')) as Record<string, { kind: string }>;
const replayed = Object.entries(manifest)
  .filter(([, m]) => m.kind === 'allow' || m.kind === 'special')
  .map(([file]) => file);

const APP_TABLES = [
  `CREATE TABLE orders (o_id INTEGER NOT NULL, customer_id INTEGER, amount DECIMAL(10,2), status VARCHAR, created_at TIMESTAMP)`,
  `INSERT INTO orders VALUES (1, 1, 10.50, 'paid', TIMESTAMP '2024-01-02 03:04:05'), (2, 2, 99.00, 'open', TIMESTAMP '2024-01-15 00:00:00')`,
  `CREATE TABLE customers (id INTEGER, name VARCHAR, email VARCHAR, region VARCHAR)`,
  `INSERT INTO customers VALUES (1, 'Ann', 'ann@example.com', 'EU')`,
];

/** Parameter values for the corpus files that take parameters. */
const PARAMS: Record<string, unknown[]> = {
  'c_drivers/01_pgjdbc_getTables.sql': ['%', '%'],
  'c_drivers/02_pgjdbc_getColumns.sql': ['%', 'orders'],
  'c_drivers/05_pgjdbc_typeinfo_oid.sql': [23],
  'c_drivers/06_pgjdbc_typeinfo_name.sql': ['int4'],
  'c_drivers/07_pgjdbc_typeinfo_arraydelim.sql': [1007],
  'c_drivers/08_pgjdbc_typeinfo_name_by_oid.sql': [1043],
  'c_drivers/36_dbeaver_databases.sql': ['acme'],
  'c_drivers/48_nodepg_param.sql': ['paid', 1],
};

describe('the PostgreSQL catalog', () => {
  let gw: TestGateway;
  let acme: pg.Client;
  let ordersOid: string;

  beforeAll(async () => {
    gw = await startGateway();
    await addTestTenant(gw.registry, 'acme', PW, { sql: APP_TABLES, users: [['analyst', PW]] });
    await addTestTenant(gw.registry, 'other', PW, { sql: ['CREATE TABLE other_secret_table (secret_column INTEGER)'] });
    acme = await pgConnect(gw, { tenant: 'acme', password: PW }, { types: rawTypes });
    ordersOid = String((await acme.query(`SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relname OPERATOR(pg_catalog.~) '^(orders)$'`)).rows[0].oid);
  });
  afterAll(async () => {
    await acme.end();
    await gw.stop();
  });

  it.each(replayed)('answers %s', async (file) => {
    const sql = fs.readFileSync(path.join(CORPUS, file), 'utf8').replaceAll("'16384'", `'${ordersOid}'`);
    const r = await acme.query({ text: sql, values: PARAMS[file] });
    const results = Array.isArray(r) ? r : [r];
    const text = JSON.stringify(results.map((x: pg.QueryResult) => x.rows));
    expect(text).not.toContain('other_secret');
    expect(text).not.toMatch(/pg_static|pg_tenant|duckdb/i);
    await acme.query('ROLLBACK'); // psycopg2's BEGIN, psqlODBC's cursor: leave no block open
  });

  it('lists the tenant tables with PostgreSQL columns (pgjdbc getTables, getColumns)', async () => {
    const tables = await acme.query({ text: fs.readFileSync(path.join(CORPUS, 'c_drivers/01_pgjdbc_getTables.sql'), 'utf8'), values: ['%', '%'] });
    expect(tables.rows.map((t) => [t.TABLE_CAT, t.TABLE_SCHEM, t.TABLE_NAME, t.TABLE_TYPE])).toEqual([
      ['acme', 'public', 'customers', 'TABLE'],
      ['acme', 'public', 'orders', 'TABLE'],
    ]);
    const cols = await acme.query({ text: fs.readFileSync(path.join(CORPUS, 'c_drivers/02_pgjdbc_getColumns.sql'), 'utf8'), values: ['%', 'orders'] });
    expect(cols.rows.map((c) => [c.attname, c.atttypid, c.atttypmod, c.attnotnull, c.attnum])).toEqual([
      ['o_id', '23', '-1', 't', '1'],
      ['customer_id', '23', '-1', 'f', '2'],
      ['amount', '1700', '655366', 'f', '3'],
      ['status', '25', '-1', 'f', '4'],
      ['created_at', '1114', '-1', 'f', '5'],
    ]);
  });

  it('answers information_schema for its own tables only', async () => {
    const r = await acme.query(`SELECT table_catalog, table_schema, table_name, table_type FROM information_schema.tables ORDER BY table_name`);
    expect(r.rows).toEqual([
      { table_catalog: 'acme', table_schema: 'public', table_name: 'customers', table_type: 'BASE TABLE' },
      { table_catalog: 'acme', table_schema: 'public', table_name: 'orders', table_type: 'BASE TABLE' },
    ]);
    const c = await acme.query(`SELECT column_name, data_type, numeric_precision, numeric_scale, is_nullable FROM information_schema.columns WHERE table_name = 'orders' ORDER BY ordinal_position`);
    expect(c.rows.map((x) => Object.values(x))).toEqual([
      ['o_id', 'integer', '32', '0', 'NO'],
      ['customer_id', 'integer', '32', '0', 'YES'],
      ['amount', 'numeric', '10', '2', 'YES'],
      ['status', 'text', null, null, 'YES'],
      ['created_at', 'timestamp without time zone', null, null, 'YES'],
    ]);
    const s = await acme.query(`SELECT schema_name FROM information_schema.schemata ORDER BY 1`);
    expect(s.rows.map((x) => x.schema_name)).toEqual(['information_schema', 'pg_catalog', 'public']);
  });

  it('answers the functions and casts clients call', async () => {
    const r = await acme.query(`SELECT version() AS v, current_schema() AS s, current_schema AS s2, current_user AS u, session_user AS su,
      current_setting('server_version_num') AS num, current_setting('no.such', true) AS missing, pg_backend_pid() AS pid,
      current_database() AS db, pg_catalog.format_type(1043, 14) AS ft, format_type(1700, 655366) AS ft2, format_type(1007, NULL) AS ft3,
      'orders'::regclass::oid = ${ordersOid} AS oid_ok, 'public.orders'::regclass AS rc, ${ordersOid}::regclass AS rcname,
      'pg_class'::regclass AS pgc, 23::regtype AS rt, 'integer'::regtype::oid AS rtoid, 'pg_catalog.array_in'::regproc::oid AS rp,
      pg_get_userbyid(10) AS owner, pg_encoding_to_char(6) AS enc, array_upper(current_schemas(true), 1) AS up,
      array_lower(ARRAY[1,2], 1) AS lo, (current_schemas(false))[1] AS first, 'abc' ~ 'b' AS m1, 'abc' !~ 'b' AS m2, 'ABC' ~* 'b' AS m3,
      quote_ident('Orders') AS qi, quote_ident('orders') AS qi2, has_table_privilege('orders', 'SELECT') AS can_select,
      has_table_privilege('orders', 'INSERT') AS can_insert, pg_table_is_visible(${ordersOid}) AS vis, obj_description(1, 'pg_class') AS descr,
      'x' COLLATE pg_catalog.default AS coll`);
    const row = r.rows[0];
    expect(row.v).toMatch(/^PostgreSQL 16\.\d+ /);
    expect(row).toMatchObject({
      s: 'public', s2: 'public', u: 'acme', su: 'acme', num: '160004', missing: null, pid: String((acme as unknown as { processID: number }).processID),
      db: 'acme', ft: 'character varying(10)', ft2: 'numeric(10,2)', ft3: 'integer[]', oid_ok: 't', rcname: 'orders',
      rt: 'integer', rtoid: '23', rp: '750', owner: 'acme', enc: 'UTF8', up: '2', lo: '1', first: 'public',
      m1: 't', m2: 'f', m3: 't', qi: '"Orders"', qi2: 'orders', can_select: 't', can_insert: 'f', vis: 't', descr: null, coll: 'x',
    });
    expect(row.rc).toBe(ordersOid);
    expect(row.pgc).toBe('1259');
    // x = ANY(array) as a list lookup (DuckDB's subquery cannot sit in an outer join's
    // condition, as in SQLAlchemy's index reflection), with PostgreSQL's NULLs.
    const outer = (cond: string) => `(SELECT bool_and(c.id IS NOT NULL) FROM (SELECT 1 AS one) o LEFT JOIN customers c ON ${cond})`;
    const any = await acme.query(`SELECT ${outer('1 = ANY(ARRAY[2, NULL])')} AS a1, ${outer('2 = ANY(ARRAY[2])')} AS a2, ${outer('NULL::int = ANY(ARRAY[1])')} AS a3,
      ${outer('1 = ANY(ARRAY[]::int[])')} AS a4, ${outer('c.id = ANY(ARRAY[1, 7])')} AS a5, (SELECT count(*) FROM orders o LEFT JOIN customers c ON c.id = ANY(ARRAY[o.customer_id, 7])) AS a6`);
    // In a select list the NULLs show: PostgreSQL's answers.
    const nulls = await acme.query(`SELECT 1 = ANY(ARRAY[2, NULL]) AS n1, NULL::int = ANY(ARRAY[1]) AS n2, 1 = ANY(ARRAY[]::int[]) AS n3,
      1 = ANY(NULL::int[]) AS n4, 1 <> ALL(ARRAY[2, NULL]) AS n5, 2 = ANY(ARRAY[2, NULL]) AS n6`);
    expect(nulls.rows[0]).toEqual({ n1: null, n2: null, n3: 'f', n4: null, n5: null, n6: 't' });
    // (a join on NULL or false finds no customer)
    expect(any.rows[0]).toEqual({ a1: 'f', a2: 't', a3: 'f', a4: 'f', a5: 't', a6: '2' });
    // ... in the extended protocol too, with the array as a parameter (DuckDB must still type the statement).
    const anyParam = await acme.query('SELECT o_id FROM orders WHERE o_id = ANY($1::int[]) ORDER BY o_id', ['{2,5}']);
    expect(anyParam.fields.map((f) => [f.name, f.dataTypeID])).toEqual([['o_id', 23]]);
    expect(anyParam.rows).toEqual([{ o_id: '2' }]);
    // Operands that hold a subquery keep DuckDB's own plan (the CASE would run them repeatedly).
    expect((await acme.query('SELECT 2 = ANY(ARRAY(SELECT o_id FROM orders)) AS a')).rows).toEqual([{ a: 't' }]);
    // bytea input as PostgreSQL reads it (hex and escape formats), not as DuckDB would.
    const bytea = await acme.query(String.raw`SELECT '\x00ff'::bytea AS b1, octet_length('\x00FF'::bytea) AS l1, 'a\000b'::bytea AS b2, '\x'::bytea AS b3`);
    expect(bytea.rows[0]).toEqual({ b1: String.raw`\x00ff`, l1: '2', b2: String.raw`\x610062`, b3: String.raw`\x` });
    // What PostgreSQL would refuse keeps DuckDB's reading (its blob syntax, \xHH per byte).
    expect((await acme.query(String.raw`SELECT '\xAA\xBB'::bytea AS b`)).rows[0].b).toBe(String.raw`\xaabb`);
    // sum() of an integer column is bigint, as in PostgreSQL; of a bigint, numeric.
    const sums = await acme.query(`SELECT sum(o_id) AS s1, sum(amount) AS s2, sum(o_id) FILTER (WHERE o_id > 1) AS s3, (SELECT sum(x) FROM (SELECT o_id::BIGINT AS x FROM orders) t) AS s4 FROM orders`);
    expect(sums.fields.map((f) => f.dataTypeID)).toEqual([20, 1700, 20, 1700]);
    expect(sums.rows[0]).toEqual({ s1: '3', s2: '109.50', s3: '2', s4: '3' });
    // ::numeric without a modifier keeps a constant's scale (DuckDB's would be 3 places).
    const num = await acme.query(`SELECT '12345.6789'::numeric AS a, 1.23456::numeric AS b, CAST('7' AS decimal) AS c, '2.5'::numeric(10,2) AS d, 'NaN'::numeric AS e`);
    expect(num.rows[0]).toEqual({ a: '12345.6789', b: '1.23456', c: '7', d: '2.50', e: 'NaN' });
    expect(num.fields.map((f) => f.dataTypeID)).toEqual([1700, 1700, 1700, 1700, 701]);
    await expect(acme.query(`SELECT '{{{{{{{1}}}}}}}'::int[]`)).rejects.toMatchObject({ code: '54000' });
    // DuckDB locates tokens by UTF-8 byte: text before them may be multi-byte.
    const utf8 = await acme.query(`SELECT 'crème ☕' AS x, current_user AS u, 'brûlée' ~ 'û' AS m, 'brûlée' !~ 'û' AS n`);
    expect(utf8.rows[0]).toEqual({ x: 'crème ☕', u: 'acme', m: 't', n: 'f' });
    const analyst = await pgConnect(gw, { tenant: 'acme', user: 'analyst', password: PW }, { types: rawTypes });
    expect((await analyst.query('SELECT current_user AS u, pg_backend_pid() AS pid')).rows[0]).toEqual({ u: 'analyst', pid: String((analyst as unknown as { processID: number }).processID) });
    await analyst.end();
  });

  it('reads settings as the session has them now, in both protocols', async () => {
    const q = `SELECT current_setting('TimeZone') AS tz`;
    expect((await acme.query(q)).rows[0].tz).toBe('UTC');
    await acme.query(`SET TimeZone = 'Europe/Paris'`);
    expect((await acme.query(q)).rows[0].tz).toBe('Europe/Paris');
    expect((await acme.query({ text: q, values: [] })).rows[0].tz).toBe('Europe/Paris');
    await acme.query('RESET TimeZone');
    expect((await acme.query({ name: 'tz', text: q })).rows[0].tz).toBe('UTC');
    await acme.query(`SET TimeZone = 'Asia/Tokyo'`);
    expect((await acme.query({ name: 'tz', text: q })).rows[0].tz).toBe('Asia/Tokyo');
    await acme.query('RESET TimeZone');
  });

  it('answers with errors PostgreSQL gives', async () => {
    await expect(acme.query(`SELECT 'nope'::regclass`)).rejects.toMatchObject({ code: '42P01' });
    // Names read with PostgreSQL's syntax: quoted or not, at most catalog.schema.name.
    expect((await acme.query(`SELECT '"orders"'::regclass = 'PUBLIC.Orders'::regclass AS same`)).rows).toEqual([{ same: 't' }]);
    await expect(acme.query(`SELECT 'a.b.c.d'::regclass`)).rejects.toMatchObject({ code: '42602' });
    await expect(acme.query(`SELECT 'other_secret_table'::regclass`)).rejects.toMatchObject({ code: '42P01' });
    await expect(acme.query(`SELECT 'nope'::regtype`)).rejects.toMatchObject({ code: '42704' });
    await expect(acme.query(`SELECT * FROM pg_catalog.pg_no_such_relation`)).rejects.toMatchObject({ code: '42P01' });
    await expect(acme.query(`SELECT current_setting('no_such_setting')`)).rejects.toMatchObject({ code: '42704' });
    // The catalog databases themselves are not reachable by name.
    for (const sql of [
      'SELECT * FROM pg_tenant.main.pg_class',
      'SELECT * FROM pg_static.main.pg_type',
      `SELECT pg_tenant.main.pg_get_userbyid('other', 10)`,
      'SELECT pg_catalog.pg_get_viewdef(1)::text || current_query()',
    ]) {
      const e = await acme.query(sql).catch((x: Error & { code?: string }) => x);
      expect(e, sql).toBeInstanceOf(Error);
      expect(['42P01', '42501']).toContain((e as { code?: string }).code);
    }
    // Tableau's temporary tables for filters are refused: tenantgate is read-only.
    const tableau = fs.readFileSync(path.join(CORPUS, 'c_drivers/46_tableau_temp_table.sql'), 'utf8');
    await expect(acme.query(tableau)).rejects.toMatchObject({ code: '25006' });
    expect((await acme.query('SELECT 1 AS ok')).rows).toEqual([{ ok: '1' }]);
  });

  it('gives pandas no rows for a table named like its SQL', async () => {
    const sql = 'SELECT o_id FROM orders WHERE amount > 10';
    const r = await acme.query(
      `SELECT pg_catalog.pg_class.relname FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace
       WHERE pg_catalog.pg_class.relname = $1 AND pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm'])
       AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname != 'pg_catalog'`,
      [sql],
    );
    expect(r.rows).toEqual([]);
  });
});

describe('the catalog of shared tenants', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
    for (const id of ['acme', 'globex']) await addTenant(gw.registry, { id, plan: 'pro', password: PW, isolation: 'shared' });
    await loadTable(gw.registry, 'acme', 'orders', writeCsv(gw.dataDir, 'a.csv', 'id,product', ['1,widget']), 'create');
    await loadTable(gw.registry, 'globex', 'orders', writeCsv(gw.dataDir, 'g.csv', 'id,product', ['1,lamp']), 'create');
    await loadTable(gw.registry, 'globex', 'globex_secret_plans', writeCsv(gw.dataDir, 's.csv', 'id,plan', ['1,x']), 'create');
  });
  afterAll(() => gw.stop());

  it('lists only the tables a tenant has rows in, without the tenant column', async () => {
    const acme = await pgConnect(gw, { tenant: 'acme', password: PW }, { types: rawTypes });
    const globex = await pgConnect(gw, { tenant: 'globex', password: PW }, { types: rawTypes });
    const tables = `SELECT relname FROM pg_class ORDER BY 1`;
    expect((await acme.query(tables)).rows.map((r) => r.relname)).toEqual(['orders']);
    expect((await globex.query(tables)).rows.map((r) => r.relname)).toEqual(['globex_secret_plans', 'orders']);
    const columns = `SELECT table_name, column_name FROM information_schema.columns ORDER BY 1, ordinal_position`;
    const acmeColumns = (await acme.query(columns)).rows;
    expect(acmeColumns).toEqual([
      { table_name: 'orders', column_name: 'id' },
      { table_name: 'orders', column_name: 'product' },
    ]);
    const attributes = (await acme.query(`SELECT attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid`)).rows;
    expect(JSON.stringify(attributes)).not.toContain('tenant_id');
    const everything = await acme.query(
      `SELECT (SELECT string_agg(relname, ',') FROM pg_class) AS c, (SELECT string_agg(datname, ',') FROM pg_database) AS d,
              (SELECT string_agg(rolname, ',') FROM pg_roles) AS r, (SELECT string_agg(table_name, ',') FROM information_schema.tables) AS t`,
    );
    expect(JSON.stringify(everything.rows)).not.toMatch(/globex/);
    expect(everything.rows[0]).toEqual({ c: 'orders', d: 'acme', r: 'acme', t: 'orders' });
    await expect(acme.query(`SELECT 'globex_secret_plans'::regclass`)).rejects.toMatchObject({ code: '42P01' });
    await acme.end();
    await globex.end();
  });
});

const hasPsql = requireCommand('psql');

describe.runIf(hasPsql)("psql's describe commands", () => {
  let gw: TestGateway;
  let conninfo: string;
  beforeAll(async () => {
    gw = await startGateway();
    await addTestTenant(gw.registry, 'acme', PW, { sql: APP_TABLES });
    conninfo = `host=127.0.0.1 port=${gw.port} dbname=acme user=acme sslmode=verify-full sslrootcert=${gw.caFile}`;
  });
  afterAll(() => gw.stop());

  const psqlRun = (command: string) =>
    run('psql', [conninfo, '-X', '-v', 'ON_ERROR_STOP=1', '-c', command], { env: { PGPASSWORD: PW, PGCONNECT_TIMEOUT: '10' } });
  const psql = async (command: string) => {
    const r = await psqlRun(command);
    expect(r.stderr, command).toBe('');
    expect(r.code, command).toBe(0);
    return r.stdout;
  };
  /** psql reports "Did not find any relations." on stderr, as against PostgreSQL. */
  const psqlAllowingNotice = async (command: string) => {
    const r = await psqlRun(command);
    expect(r.code, command).toBe(0);
    expect(r.stderr, command).not.toMatch(/ERROR/);
    return r.stdout + r.stderr;
  };

  it('\\dt, \\d, \\d+ and \\dt+ describe the tenant tables', async () => {
    const dt = await psql('\\dt');
    expect(dt).toMatch(/public\s+\|\s+customers\s+\|\s+table\s+\|\s+acme/);
    expect(dt).toMatch(/public\s+\|\s+orders\s+\|\s+table\s+\|\s+acme/);
    expect(dt).toMatch(/\(2 rows\)/);
    const d = await psql('\\d orders');
    expect(d).toMatch(/Table "public\.orders"/);
    expect(d).toMatch(/o_id\s+\|\s+integer\s+\|\s+\|\s+not null/);
    expect(d).toMatch(/amount\s+\|\s+numeric\(10,2\)/);
    expect(d).toMatch(/created_at\s+\|\s+timestamp without time zone/);
    expect(await psql('\\d+ orders')).toMatch(/Access method: heap/);
    expect(await psql('\\dt+')).toMatch(/orders\s+\|\s+table\s+\|\s+acme\s+\|\s+permanent/);
    expect(await psql('\\d')).toMatch(/orders/);
  });

  it('\\dn, \\l, \\df, \\dv, \\du, \\dT, \\x and \\gdesc answer', async () => {
    expect(await psql('\\dn')).toMatch(/public\s+\|\s+acme/);
    expect(await psql('\\l')).toMatch(/acme\s+\|\s+acme\s+\|\s+UTF8/);
    expect(await psql('\\df')).toMatch(/\(0 rows\)/);
    expect(await psqlAllowingNotice('\\dv')).toMatch(/Did not find any relations/);
    expect(await psql('\\du')).toMatch(/acme/);
    expect(await psql('\\dT')).toMatch(/\(0 rows\)/);
    const x = await run('psql', [conninfo, '-X', '-c', '\\x on', '-c', 'SELECT o_id, status FROM orders ORDER BY o_id LIMIT 1'], { env: { PGPASSWORD: PW } });
    expect(x.stdout).toMatch(/-\[ RECORD 1 \]-*\no_id\s+\| 1\nstatus\s+\| paid/);
    const g = await run('psql', [conninfo, '-X', '-v', 'ON_ERROR_STOP=1'], { env: { PGPASSWORD: PW }, input: 'SELECT o_id, amount, status FROM orders \\gdesc\n' });
    expect(g.stderr).toBe('');
    const gdesc = g.stdout;
    expect(gdesc).toMatch(/o_id\s+\|\s+integer/);
    expect(gdesc).toMatch(/amount\s+\|\s+numeric\(10,2\)/);
    expect(gdesc).toMatch(/status\s+\|\s+text/);
  });
});
