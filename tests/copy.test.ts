/**
 * COPY ... TO STDOUT through the gateway with real clients (node-postgres with
 * pg-copy-streams, psql, a raw protocol client), its output compared byte for byte with
 * what a real PostgreSQL 15 writes for the same values, and its refusals.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTenant, Registry } from '../src/tenants/registry.js';
import { loadTable } from '../src/tenants/snapshots.js';
import { pgConnect, rawTypes, requireCommand, run, sendCancel } from './support/clients.js';
import { addTestTenant, certsDir, startGateway, writeCsv, type TestGateway } from './support/gateway.js';
import { pgClusterSkipReason, startPgCluster, type PgCluster } from './support/pgCluster.js';
import { dataRow, errorFields, fe, RawClient, types, type BackendMessage } from './support/rawClient.js';
import { startServerProcess, type ServerProcess } from './support/serverProcess.js';
import { ENDLESS_QUERY, until } from './support/wait.js';

const PW = 'copy-test-password';

/** Runs a COPY TO STDOUT and returns its bytes and the row count of its CommandComplete. */
export async function copyOut(client: pg.Client, sql: string): Promise<{ bytes: Buffer; rowCount: number }> {
  const stream = client.query(copyTo(sql));
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return { bytes: Buffer.concat(chunks), rowCount: stream.rowCount ?? -1 };
}

const copyText = async (client: pg.Client, sql: string) => (await copyOut(client, sql)).bytes.toString('utf8');

/** The error a COPY ends with, or null. */
async function copyError(client: pg.Client, sql: string): Promise<{ code: string; message: string } | null> {
  try {
    await copyOut(client, sql);
    return null;
  } catch (e) {
    const err = e as { code: string; message: string };
    return { code: err.code, message: err.message };
  }
}

const cancel = (gw: TestGateway, client: pg.Client) => sendCancel(gw.port, client);

describe('COPY TO STDOUT', () => {
  let gw: TestGateway;
  let c: pg.Client;
  beforeAll(async () => {
    gw = await startGateway({ allowPlaintext: true });
    await addTestTenant(gw.registry, 'acme', PW, {
      sql: [
        "CREATE TABLE orders AS SELECT i AS id, 'item ' || i AS product, i * 1.5 AS amount, CASE WHEN i % 3 = 0 THEN NULL ELSE 'note,' || i END AS note FROM range(1, 6) t(i)",
        'CREATE TABLE big AS SELECT i AS id FROM range(300000) t(i)',
      ],
    });
    await addTestTenant(gw.registry, 'globex', PW, { sql: ["CREATE TABLE secrets AS SELECT 'GLOBEX-SECRET' AS s"] });
    c = await pgConnect(gw, { tenant: 'acme', password: PW }, { types: rawTypes });
  });
  afterAll(async () => {
    await c.end();
    await gw.stop();
  });

  it('writes a query in text format: tabs, \\N for NULL, backslash escapes, "COPY n"', async () => {
    const r = await copyOut(c, "COPY (SELECT 1 AS a, 'x' || chr(9) || 'y' AS b, NULL AS c, 'back\\slash' || chr(10) AS d, true AS e) TO STDOUT");
    expect(r.bytes.toString()).toBe('1\tx\\ty\t\\N\tback\\\\slash\\n\tt\n');
    expect(r.rowCount).toBe(1);
  });

  it('copies a table, or some of its columns, as the SELECT it stands for', async () => {
    expect(await copyText(c, 'COPY orders TO STDOUT')).toBe(
      ['1\titem 1\t1.5\tnote,1', '2\titem 2\t3.0\tnote,2', '3\titem 3\t4.5\t\\N', '4\titem 4\t6.0\tnote,4', '5\titem 5\t7.5\tnote,5', ''].join('\n'),
    );
    expect(await copyText(c, 'COPY public.orders (note, id) TO STDOUT WITH (FORMAT csv, HEADER)')).toBe('note,id\n"note,1",1\n"note,2",2\n,3\n"note,4",4\n"note,5",5\n');
    const e = await copyError(c, 'COPY orders (nope) TO STDOUT');
    expect(e?.code).toBe('42703');
  });

  it('writes CSV as PostgreSQL does: quotes only when needed, HEADER, options in both syntaxes', async () => {
    const q = "SELECT * FROM (VALUES (1, 'plain', ''), (2, 'a,b', NULL), (3, 'say \"hi\"', 'x')) t(id, s, n) ORDER BY id";
    expect(await copyText(c, `COPY (${q}) TO STDOUT WITH CSV HEADER`)).toBe('id,s,n\n1,plain,""\n2,"a,b",\n3,"say ""hi""",x\n');
    expect(await copyText(c, `COPY (${q}) TO STDOUT WITH (FORMAT csv, DELIMITER ';', NULL 'NULL', FORCE_QUOTE (s))`)).toBe(
      '1;"plain";\n2;"a,b";NULL\n3;"say ""hi""";x\n',
    );
    expect(await copyText(c, `COPY (${q}) TO STDOUT (FORMAT csv, QUOTE '''', ESCAPE '\\', FORCE_QUOTE *)`)).toBe(
      "'1','plain',''\n'2','a,b',\n'3','say \"hi\"','x'\n",
    );
    expect(await copyText(c, `COPY (${q}) TO STDOUT DELIMITER '|' NULL 'nil'`)).toBe('1|plain|\n2|a,b|nil\n3|say "hi"|x\n');
  });

  it('refuses what PostgreSQL refuses in COPY options, before any row', async () => {
    expect(await copyError(c, 'COPY orders TO STDOUT (FORMAT csv, FORCE_QUOTE (nope))')).toEqual({ code: '42703', message: 'column "nope" does not exist' });
    expect(await copyError(c, 'COPY orders (id) TO STDOUT (FORMAT csv, FORCE_QUOTE (note))')).toEqual({
      code: '42P10',
      message: 'FORCE_QUOTE column "note" not referenced by COPY',
    });
    expect((await copyError(c, 'COPY orders TO STDOUT (FORMAT json)'))?.code).toBe('22023');
  });

  it('writes binary COPY, and refuses a type without a binary form', async () => {
    const r = await copyOut(c, "COPY (SELECT 7::int AS a, NULL::text AS b, 'hé'::text AS c) TO STDOUT (FORMAT binary)");
    const header = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
    const row = Buffer.from([0, 3, 0, 0, 0, 4, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 3, 0x68, 0xc3, 0xa9]);
    expect(r.bytes).toEqual(Buffer.concat([header, row, Buffer.from([0xff, 0xff])]));
    expect(r.rowCount).toBe(1);
    expect(await copyError(c, 'COPY (SELECT [1, 2] AS l) TO STDOUT WITH BINARY')).toMatchObject({ code: '0A000' });
  });

  it('refuses COPY FROM, files and programs, and queries the gate refuses', async () => {
    expect(await copyError(c, 'COPY orders FROM STDIN')).toMatchObject({ code: '25006', message: 'cannot execute COPY FROM in a read-only transaction' });
    expect(await copyError(c, "COPY orders TO '/tmp/orders.csv'")).toMatchObject({ code: '42501' });
    expect(await copyError(c, "COPY (SELECT * FROM read_csv('/etc/passwd')) TO STDOUT")).toMatchObject({ code: '42501' });
    expect(await copyError(c, "COPY orders TO PROGRAM 'id'")).toMatchObject({ code: '42501' });
    expect(await copyError(c, 'COPY (DELETE FROM orders) TO STDOUT')).toMatchObject({ code: '25006' });
    expect(await copyError(c, 'COPY secrets TO STDOUT')).toMatchObject({ code: '42P01' });
    expect(await copyError(c, 'COPY globex.main.secrets TO STDOUT')).toMatchObject({ code: '42P01' });
    // An error in the query is placed in the client's statement.
    const e = await c.query('COPY (SELECT nope FROM orders) TO STDOUT').catch((err: { code: string }) => err);
    expect(e).toMatchObject({ code: '42703' });
    expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: '1' }]);
  });

  it('streams a large result in many CopyData messages and counts every row', async () => {
    const stream = c.query(copyTo('COPY (SELECT i, repeat(\'x\', 20) AS pad FROM range(1000000) t(i)) TO STDOUT'));
    let lines = 0;
    let chunks = 0;
    let last = '';
    for await (const chunk of stream) {
      chunks++;
      const s = (chunk as Buffer).toString('latin1');
      for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) lines++;
      last = s;
    }
    expect(lines).toBe(1_000_000);
    expect(stream.rowCount).toBe(1_000_000);
    expect(last.endsWith(`999999\t${'x'.repeat(20)}\n`)).toBe(true);
    expect(chunks).toBeGreaterThan(10);
  });

  it('ends a failing COPY with the error, never a short result that looks complete', async () => {
    const e = await copyError(c, "COPY (SELECT CASE WHEN id < 250000 THEN id::VARCHAR ELSE 'boom' END::INTEGER AS n FROM big) TO STDOUT");
    expect(e).toMatchObject({ code: '22P02' }); // the whole error shows if it is another
    expect((await c.query('SELECT 2 AS two')).rows).toEqual([{ two: '2' }]);
  });

  it('cancels a COPY with 57014, while DuckDB works and while rows flow, and the session goes on', async () => {
    const running = copyError(c, `COPY (${ENDLESS_QUERY}) TO STDOUT`);
    await until(() => gw.gateway.runningQueries === 1);
    await cancel(gw, c);
    expect(await running).toEqual({ code: '57014', message: 'canceling statement due to user request' });
    expect((await c.query('SELECT 3 AS three')).rows).toEqual([{ three: '3' }]);

    // Rows flowing: the client stops reading, cancels, then reads on to the error.
    const stream = c.query(copyTo('COPY (SELECT i, repeat(\'y\', 100) AS pad FROM range(5000000) t(i)) TO STDOUT'));
    let bytes = 0;
    const done = new Promise<{ code?: string } | null>((resolve) => {
      stream.on('data', (d: Buffer) => {
        bytes += d.length;
      });
      stream.on('end', () => resolve(null));
      stream.on('error', (err: { code?: string }) => resolve(err));
    });
    await until(() => bytes > 0);
    stream.pause();
    await cancel(gw, c);
    stream.resume();
    const err = await done;
    expect(err?.code).toBe('57014');
    expect(bytes).toBeLessThan(5_000_000 * 100);
    expect((await c.query('SELECT 4 AS four')).rows).toEqual([{ four: '4' }]);
  });

  it('stops a COPY at statement_timeout, and the COPY of a client that hangs up', async () => {
    await c.query("SET statement_timeout = '300ms'");
    expect(await copyError(c, `COPY (${ENDLESS_QUERY}) TO STDOUT`)).toEqual({ code: '57014', message: 'canceling statement due to statement timeout' });
    await c.query('RESET statement_timeout');
    await until(() => gw.gateway.runningQueries === 0);
    const other = await pgConnect(gw, { tenant: 'acme', password: PW });
    const stream = other.query(copyTo("COPY (SELECT i, repeat('z', 100) AS pad FROM range(5000000) t(i)) TO STDOUT"));
    stream.on('error', () => {});
    let got = 0;
    stream.on('data', (d: Buffer) => (got += d.length));
    await until(() => got > 0 && gw.gateway.runningQueries === 1);
    stream.pause(); // the server waits on a socket nobody reads...
    (other as unknown as { connection: { stream: net.Socket } }).connection.stream.destroy(); // ...then it goes away
    await until(() => gw.gateway.runningQueries === 0);
    expect((await c.query('SELECT 5 AS five')).rows).toEqual([{ five: '5' }]);
  });

  it('is refused in a failed transaction block, like any statement', async () => {
    await c.query('BEGIN');
    await expect(c.query('SELECT nope FROM orders')).rejects.toMatchObject({ code: '42703' });
    expect(await copyError(c, 'COPY orders TO STDOUT')).toMatchObject({ code: '25P02' });
    await c.query('ROLLBACK');
    expect((await copyOut(c, 'COPY orders (id) TO STDOUT')).rowCount).toBe(5);
  });

  it('runs through Parse, Bind, Describe (NoData) and Execute', async () => {
    const raw = await RawClient.connect(gw.port, { database: 'acme', user: 'acme', password: PW });
    raw.send(fe.parse('', 'COPY (SELECT id, note FROM orders WHERE id <= 2 ORDER BY id) TO STDOUT (FORMAT csv)'), fe.bind('', ''), fe.describe('P', ''), fe.execute('', 1), fe.sync());
    const ms = await raw.until('Z');
    // Rows are batched: both in one CopyData message.
    expect(types(ms)).toBe('1 2 n H d c C Z');
    const h = ms[3]!.body;
    expect([h.readInt8(0), h.readInt16BE(1), h.readInt16BE(3), h.readInt16BE(5)]).toEqual([0, 2, 0, 0]);
    const data = ms.filter((m) => m.type === 'd').map((m) => m.body.toString()).join('');
    expect(data).toBe('1,"note,1"\n2,"note,2"\n');
    expect(ms.find((m) => m.type === 'C')!.body.toString('latin1')).toBe('COPY 2\0');
    // Describe of the statement: no parameters, no rows.
    raw.send(fe.parse('cp', 'COPY orders TO STDOUT'), fe.describe('S', 'cp'), fe.sync());
    expect(types(await raw.until('Z'))).toBe('1 t n Z');
    // A parameter has no value in COPY.
    raw.send(fe.parse('', 'COPY (SELECT $1::int) TO STDOUT'), fe.bind('', '', []), fe.execute(''), fe.sync());
    const bad: BackendMessage[] = await raw.until('Z');
    expect(errorFields(bad.find((m) => m.type === 'E')!)).toMatchObject({ code: '42P02' });
    raw.send(fe.query('SELECT 1 AS one'));
    expect((await raw.until('Z')).filter((m) => m.type === 'D').map(dataRow)).toEqual([['1']]);
    raw.end();
  });
});

describe('a 10-million-row COPY', () => {
  const ROWS = 10_000_000;
  let dir: string;
  let server: ServerProcess;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantgate-copy-'));
    await addTestTenant(new Registry(dir), 'acme', PW);
    server = await startServerProcess(dir, { logLevel: 'warn' });
  });
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('streams with bounded server memory and ends with the full row count', async () => {
    const c = new pg.Client({
      host: '127.0.0.1', port: server.port, database: 'acme', user: 'acme', password: PW,
      ssl: { ca: fs.readFileSync(path.join(certsDir(), 'ca.crt')) },
    });
    await c.connect();
    await c.query('SELECT 1');
    const before = server.peakRss();
    const stream = c.query(copyTo(`COPY (SELECT i, 'row number ' || i AS label FROM range(${ROWS}) t(i)) TO STDOUT (FORMAT csv)`));
    let lines = 0;
    let bytes = 0;
    let tail = '';
    for await (const chunk of stream) {
      const b = chunk as Buffer;
      bytes += b.length;
      for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) lines++;
      tail = (tail + b.toString('latin1')).slice(-64);
    }
    const grown = server.peakRss() - before;
    expect(lines).toBe(ROWS);
    expect(stream.rowCount).toBe(ROWS);
    expect(tail.endsWith(`${ROWS - 1},row number ${ROWS - 1}\n`)).toBe(true);
    // ~250 MB of CSV: holding it, or a large part of it, would show here.
    expect(bytes).toBeGreaterThan(200 * 1024 * 1024);
    expect(grown).toBeLessThan(120 * 1024 * 1024);
    await c.end();
  });
});

describe('COPY in a shared tenant', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
    for (const id of ['acme', 'globex']) await addTenant(gw.registry, { id, plan: 'pro', password: PW, isolation: 'shared' });
    const csv = (name: string, rows: string[]) => writeCsv(gw.dataDir, name, 'id,product', rows);
    await loadTable(gw.registry, 'acme', 'orders', csv('a.csv', ['1,ACME-widget', '2,ACME-gadget']), 'create');
    await loadTable(gw.registry, 'globex', 'orders', csv('g.csv', ['1,GLOBEX-SECRET', '3,GLOBEX-lamp']), 'create');
  });
  afterAll(() => gw.stop());

  it('copies only the tenant\'s own rows, without the tenant column', async () => {
    const acme = await pgConnect(gw, { tenant: 'acme', password: PW });
    expect(await copyText(acme, 'COPY orders TO STDOUT WITH CSV HEADER')).toBe('id,product\n1,ACME-widget\n2,ACME-gadget\n');
    expect(await copyText(acme, 'COPY (SELECT o.product FROM orders o JOIN main.orders p USING (id) ORDER BY 1) TO STDOUT')).toBe('ACME-gadget\nACME-widget\n');
    expect(await copyError(acme, 'COPY orders (tenant_id) TO STDOUT')).toMatchObject({ code: '42703' });
    await acme.end();
  });
});

const hasPsql = requireCommand('psql');

describe.runIf(hasPsql)('COPY with psql', () => {
  let gw: TestGateway;
  let conninfo: string;
  beforeAll(async () => {
    gw = await startGateway();
    await addTestTenant(gw.registry, 'acme', PW, {
      sql: ["CREATE TABLE orders AS SELECT i AS id, 'Café, crème' AS product FROM range(3) t(i)"],
    });
    conninfo = `host=127.0.0.1 port=${gw.port} dbname=acme user=acme sslmode=verify-full sslrootcert=${gw.caFile}`;
  });
  afterAll(() => gw.stop());

  const psql = (args: string[]) => run('psql', [conninfo, '-X', ...args], { env: { PGPASSWORD: PW, PGCONNECT_TIMEOUT: '10' } });

  it('runs \\copy (select ...) to stdout', async () => {
    const r = await psql(['-c', '\\copy (select id, product from orders order by id) to stdout']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('0\tCafé, crème\n1\tCafé, crème\n2\tCafé, crème\n');
  });

  it('runs COPY ... TO STDOUT WITH CSV HEADER', async () => {
    const r = await psql(['-c', 'COPY orders TO STDOUT WITH CSV HEADER']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('id,product\n0,"Café, crème"\n1,"Café, crème"\n2,"Café, crème"\n');
  });

  it('reports a refused COPY FROM and a cancelled COPY', async () => {
    const from = await psql(['-v', 'VERBOSITY=verbose', '-c', '\\copy orders from stdin']);
    expect(from.code).not.toBe(0);
    expect(from.stderr).toMatch(/25006: cannot execute COPY FROM in a read-only transaction/);
    const child = spawn('psql', [conninfo, '-X', '-c', `COPY (${ENDLESS_QUERY}) TO STDOUT`], { env: { ...process.env, PGPASSWORD: PW } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await until(() => gw.gateway.runningQueries === 1);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(stderr).toMatch(/canceling statement due to user request/);
    expect(code).not.toBe(0);
  });
});

const pgSkip = pgClusterSkipReason();

/**
 * The same values copied by PostgreSQL 15 and by the gateway, in text, CSV and binary,
 * with several option sets: the bytes must be equal. Each case is a DuckDB expression
 * and its PostgreSQL spelling.
 */
describe.skipIf(pgSkip !== undefined)('COPY output equals PostgreSQL 15\'s', () => {
  let gw: TestGateway;
  let cluster: PgCluster;
  let ours: pg.Client;
  let theirs: pg.Client;
  beforeAll(async () => {
    cluster = await startPgCluster();
    gw = await startGateway();
    await addTestTenant(gw.registry, 'acme', PW);
    ours = await pgConnect(gw, { tenant: 'acme', password: PW });
    theirs = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.user, database: 'postgres' });
    await theirs.connect();
    for (const client of [ours, theirs]) await client.query("SET TimeZone = 'UTC'");
  });
  afterAll(async () => {
    await ours?.end();
    await theirs?.end();
    await gw?.stop();
    await cluster?.stop();
  });

  const chr = (n: number) => `chr(${n})`;
  /** Strings with every character COPY treats specially, the same in both dialects. */
  const STRINGS = [
    "'plain'", "''", "' lead and trail '", `'tab' || ${chr(9)} || 'x'`, `'nl' || ${chr(10)} || 'x'`, `'cr' || ${chr(13)} || 'x'`,
    "'back\\slash'", "'comma,here'", "'quote\"here'", "'single''quote'", `'bs' || ${chr(8)} || 'ff' || ${chr(12)} || 'vt' || ${chr(11)}`,
    `'ctl' || ${chr(1)}`, "'\\N'", "'\\.'", "'NULL'", "'é☕ unicode'", "'semi;colon|pipe'", 'NULL',
  ];
  const VALUES: [string, string][] = [
    ['42::INTEGER', '42::int4'], ['(-9223372036854775808)::BIGINT', '(-9223372036854775808)::int8'], ['12.50::DECIMAL(10,2)', '12.50::numeric(10,2)'],
    ['0.1::DOUBLE', '0.1::float8'], ['1e20::DOUBLE', '1e20::float8'], ['true', 'true'], ['false', 'false'],
    ["DATE '2024-02-29'", "DATE '2024-02-29'"], ["TIMESTAMP '2024-01-02 03:04:05.678'", "TIMESTAMP '2024-01-02 03:04:05.678'"],
    ["TIMESTAMPTZ '2024-07-01 12:00:00+02'", "TIMESTAMPTZ '2024-07-01 12:00:00+02'"], ["INTERVAL '1 day 02:03:04'", "INTERVAL '1 day 02:03:04'"],
    ["'\\x01ff'::bytea", "'\\x01ff'::bytea"], ["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid"],
    ["['a', 'b,c', NULL, 'd\"e', 'f\\g']", "ARRAY['a', 'b,c', NULL, 'd\"e', 'f\\g']"], ['[1, 2, NULL]::INTEGER[]', "'{1,2,NULL}'::int4[]"],
    ...STRINGS.map((s): [string, string] => [s, s === 'NULL' ? 'NULL::text' : s]),
  ];
  const OPTIONS = [
    '',
    "WITH (DELIMITER ',', NULL 'NULL', HEADER)",
    'WITH (FORMAT csv)',
    'WITH CSV HEADER',
    "WITH (FORMAT csv, DELIMITER ';', NULL 'NULL', QUOTE '''', ESCAPE '\\', HEADER)",
    'WITH (FORMAT csv, FORCE_QUOTE *)',
    "CSV DELIMITER '|' FORCE QUOTE v",
  ];

  it('writes every value the way PostgreSQL does, one column at a time, in every option set', async () => {
    for (const [duck, pgExpr] of VALUES) {
      for (const options of OPTIONS) {
        const want = await copyText(theirs, `COPY (SELECT ${pgExpr} AS v) TO STDOUT ${options}`);
        const got = await copyText(ours, `COPY (SELECT ${duck} AS v) TO STDOUT ${options}`);
        expect(got, `${duck} ${options}`).toBe(want);
      }
    }
  });

  it('writes many columns in a row the way PostgreSQL does', async () => {
    const duck = VALUES.map(([d], i) => `${d} AS c${i}`).join(', ');
    const pgSql = VALUES.map(([, p], i) => `${p} AS c${i}`).join(', ');
    for (const options of OPTIONS.filter((o) => !o.includes('FORCE QUOTE v'))) {
      const want = await copyText(theirs, `COPY (SELECT ${pgSql}) TO STDOUT ${options}`);
      const got = await copyText(ours, `COPY (SELECT ${duck}) TO STDOUT ${options}`);
      expect(got, options).toBe(want);
    }
  });

  it('writes binary COPY byte for byte as PostgreSQL does', async () => {
    const binary: [string, string][] = [
      ['42::INTEGER', '42::int4'], ['7::BIGINT', '7::int8'], ['3::SMALLINT', '3::int2'], ["'héllo'::VARCHAR", "'héllo'::text"], ['true', 'true'],
      ['1.5::DOUBLE', '1.5::float8'], ['12.50::DECIMAL(10,2)', '12.50::numeric(10,2)'], ["DATE '2024-02-29'", "DATE '2024-02-29'"],
      ["TIMESTAMP '2024-01-02 03:04:05.678'", "TIMESTAMP '2024-01-02 03:04:05.678'"], ["INTERVAL '1 month 2 days 00:00:03'", "INTERVAL '1 month 2 days 00:00:03'"],
      ["'\\x01ff'::bytea", "'\\x01ff'::bytea"], ["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid"],
      ['NULL::INTEGER', 'NULL::int4'],
    ];
    const duck = binary.map(([d], i) => `${d} AS c${i}`).join(', ');
    const pgSql = binary.map(([, p], i) => `${p} AS c${i}`).join(', ');
    const q = (s: string) => `COPY (SELECT ${s} UNION ALL SELECT ${s}) TO STDOUT (FORMAT binary)`;
    const want = await copyOut(theirs, q(pgSql));
    const got = await copyOut(ours, q(duck));
    expect(got.bytes.toString('hex')).toBe(want.bytes.toString('hex'));
    expect(got.rowCount).toBe(want.rowCount);
  });
});
