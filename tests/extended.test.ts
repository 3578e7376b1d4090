/**
 * The extended query protocol through real clients: node-postgres (Parse/Bind/Describe
 * portal/Execute/Sync, named statements, binary results, row limits) and postgres.js in
 * its default mode (Parse/Describe statement/Flush, then Bind/Execute/Sync; cursors;
 * describe; cancel).
 */
import fs from 'node:fs';
import type { EventEmitter } from 'node:events';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgConnect, rawTypes } from './support/clients.js';
import { addTestTenant, startGateway, type TestGateway } from './support/gateway.js';
import { ENDLESS_QUERY, until } from './support/wait.js';

const PW = 'extended-test-password';
const ROWS = 1000;
const LONG = ENDLESS_QUERY;

async function error(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error('no error');
}

type Conn = pg.Client & { connection: EventEmitter };

/** The names of the backend messages a pg client receives while `run` runs. */
async function received(client: pg.Client, run: () => Promise<unknown>): Promise<string[]> {
  const names: string[] = [];
  const on = (m: { name: string }) => names.push(m.name);
  (client as Conn).connection.on('message', on);
  try {
    await run();
  } finally {
    (client as Conn).connection.off('message', on);
  }
  return names;
}

// ---------------------------------------------------------------------------------------
// Hand-written decoders of PostgreSQL's binary formats, producing PostgreSQL's text forms.

const pad = (n: number | bigint, w = 2) => String(n).padStart(w, '0');
function ymd(daysSince2000: number): string {
  const d = new Date(Date.UTC(2000, 0, 1) + daysSince2000 * 86_400_000);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}
function hms(micros: bigint): string {
  const s = micros / 1_000_000n;
  const frac = micros % 1_000_000n;
  const base = `${pad(s / 3600n)}:${pad((s / 60n) % 60n)}:${pad(s % 60n)}`;
  return frac === 0n ? base : `${base}.${pad(frac, 6).replace(/0+$/, '')}`;
}
function timestamp(b: Buffer): string {
  const us = b.readBigInt64BE(0);
  const day = 86_400_000_000n;
  const days = us >= 0n ? us / day : (us - day + 1n) / day;
  return `${ymd(Number(days))} ${hms(us - days * day)}`;
}
function numeric(b: Buffer): string {
  const n = b.readInt16BE(0);
  const weight = b.readInt16BE(2);
  const sign = b.readUInt16BE(4);
  const dscale = b.readInt16BE(6);
  let intPart = '';
  let frac = '';
  for (let i = 0; i < n || i <= weight; i++) {
    const d = i < n ? b.readInt16BE(8 + 2 * i) : 0;
    if (i <= weight) intPart += pad(d, 4);
    else frac += pad(d, 4);
  }
  for (let i = 0; i < -weight - 1; i++) frac = '0000' + frac;
  intPart = intPart.replace(/^0+/, '') || '0';
  frac = frac.padEnd(dscale, '0').slice(0, dscale);
  return (sign === 0x4000 ? '-' : '') + intPart + (dscale > 0 ? `.${frac}` : '');
}
function interval(b: Buffer): string {
  const micros = b.readBigInt64BE(0);
  const days = b.readInt32BE(8);
  const months = b.readInt32BE(12);
  const parts = [];
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (months >= 12) parts.push(plural(Math.floor(months / 12), 'year'));
  if (months % 12) parts.push(plural(months % 12, 'mon'));
  if (days) parts.push(plural(days, 'day'));
  if (micros) parts.push(hms(micros));
  return parts.join(' ');
}
const uuid = (b: Buffer) => b.toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');

/** Expressions of every binary result type, with a decoder of the bytes to PostgreSQL's text form. */
const BINARY: [string, number, (b: Buffer) => string][] = [
  ['true', 16, (b) => (b[0] ? 't' : 'f')],
  ['(-2)::SMALLINT', 21, (b) => String(b.readInt16BE(0))],
  ['123456::INTEGER', 23, (b) => String(b.readInt32BE(0))],
  ['(-9007199254740993)::BIGINT', 20, (b) => String(b.readBigInt64BE(0))],
  ['1.5::REAL', 700, (b) => String(b.readFloatBE(0))],
  ['(-2.25)::DOUBLE', 701, (b) => String(b.readDoubleBE(0))],
  ['123.4500::DECIMAL(10,4)', 1700, numeric],
  ['(-0.0001)::DECIMAL(10,4)', 1700, numeric],
  ['0::DECIMAL(6,2)', 1700, numeric],
  ['10000::DECIMAL(18,0)', 1700, numeric],
  ['12345678901234567890::HUGEINT', 1700, numeric],
  ["DATE '2024-02-29'", 1082, (b) => ymd(b.readInt32BE(0))],
  ["DATE '1999-12-31'", 1082, (b) => ymd(b.readInt32BE(0))],
  ["TIME '13:45:06.5'", 1083, (b) => hms(b.readBigInt64BE(0))],
  ["TIMESTAMP '2024-01-02 03:04:05.123456'", 1114, timestamp],
  ["TIMESTAMP '1970-01-01 00:00:00'", 1114, timestamp],
  ["TIMESTAMPTZ '2024-01-02 03:04:05+02'", 1184, (b) => `${timestamp(b)}+00`],
  ["INTERVAL '1 year 2 months 3 days 04:05:06'", 1186, interval],
  ["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID", 2950, uuid],
  ["'\\x00ff'::BLOB", 17, (b) => `\\x${b.toString('hex')}`],
  ["'héllo'", 25, (b) => b.toString('utf8')],
  [`'{"a":1}'::JSON`, 114, (b) => b.toString('utf8')],
];

/**
 * Runs a query with node-postgres and returns the fields and values exactly as they
 * arrived on the wire: pg hands binary values to its parsers as UTF-8 text, which
 * changes bytes that are not valid UTF-8, so the bytes are read off the socket.
 */
async function binaryResult(client: pg.Client, config: pg.QueryConfig): Promise<{ fields: { oid: number; format: number }[]; rows: Buffer[][] }> {
  const stream = (client as unknown as { connection: { stream: EventEmitter } }).connection.stream;
  const chunks: Buffer[] = [];
  const on = (d: Buffer) => void chunks.push(d);
  stream.on('data', on);
  try {
    await client.query(config);
  } finally {
    stream.off('data', on);
  }
  const all = Buffer.concat(chunks);
  const fields: { oid: number; format: number }[] = [];
  const rows: Buffer[][] = [];
  for (let at = 0; at < all.length; ) {
    const type = String.fromCharCode(all[at]!);
    const end = at + 1 + all.readInt32BE(at + 1);
    const body = all.subarray(at + 5, end);
    if (type === 'T') {
      let p = 2;
      for (let i = 0; i < body.readInt16BE(0); i++) {
        p = body.indexOf(0, p) + 1;
        fields.push({ oid: body.readInt32BE(p + 6), format: body.readInt16BE(p + 16) });
        p += 18;
      }
    } else if (type === 'D') {
      const row: Buffer[] = [];
      let p = 2;
      for (let i = 0; i < body.readInt16BE(0); i++) {
        const len = body.readInt32BE(p);
        row.push(body.subarray(p + 4, p + 4 + len));
        p += 4 + Math.max(len, 0);
      }
      rows.push(row);
    }
    at = end;
  }
  return { fields, rows };
}

describe('the extended query protocol', () => {
  let gw: TestGateway;
  let acme: pg.Client;
  const js = () =>
    postgres({
      host: '127.0.0.1', port: gw.port, database: 'acme', username: 'acme', password: PW,
      ssl: { ca: fs.readFileSync(gw.caFile) }, max: 1, fetch_types: false, onnotice: () => undefined,
    });

  beforeAll(async () => {
    gw = await startGateway();
    await addTestTenant(gw.registry, 'acme', PW, {
      sql: [
        `CREATE TABLE orders AS SELECT i AS order_id, DATE '2024-01-01' + (i % 700)::INTEGER AS order_date,
           'acme widget' AS product, (i * 1.25)::DECIMAL(10,2) AS amount FROM range(${ROWS}) t(i)`,
      ],
    });
    acme = await pgConnect(gw, { tenant: 'acme', password: PW }, { types: rawTypes });
  });
  afterAll(async () => {
    await acme.end();
    await gw.stop();
  });

  describe('with node-postgres', () => {
    it('answers a statement DuckDB can type only once its values are bound', async () => {
      // len() of a parameter leaves DuckDB's prepared statement untyped: the columns are
      // learnt when the result opens, and described then (Describe of the portal).
      const r = await acme.query('SELECT order_id, 1 + 1, product FROM orders WHERE len($1::INTEGER[]) > 0 AND order_id < 2 ORDER BY 1', ['{7}']);
      expect(r.fields.map((f) => [f.name, f.dataTypeID])).toEqual([['order_id', 20], ['?column?', 23], ['product', 25]]);
      expect(r.rows).toEqual([{ order_id: '0', '?column?': '2', product: 'acme widget' }, { order_id: '1', '?column?': '2', product: 'acme widget' }]);
      expect((await acme.query('SELECT 1 AS ok')).rows).toEqual([{ ok: '1' }]);
    });

    it('binds parameters as values and infers their types', async () => {
      const c = await pgConnect(gw, { tenant: 'acme', password: PW });
      const r = await c.query('SELECT $1::int AS a, $2::text AS b', [1, 'x']);
      expect(r.rows).toEqual([{ a: 1, b: 'x' }]);
      expect(r.fields.map((f) => f.dataTypeID)).toEqual([23, 25]);
      const q = await c.query('SELECT count(*)::INTEGER AS n, sum(amount) AS total FROM orders WHERE order_id < $1 AND product = $2', [10, 'acme widget']);
      expect(q.rows).toEqual([{ n: 10, total: '56.25' }]);
      // A value is never SQL: quotes and semicolons are just characters.
      const inj = await c.query('SELECT count(*)::INTEGER AS n FROM orders WHERE product = $1', ["acme widget'; DROP TABLE orders; --"]);
      expect(inj.rows).toEqual([{ n: 0 }]);
      expect((await c.query('SELECT $1::text IS NULL AS isnull', [null])).rows).toEqual([{ isnull: true }]);
      await c.end();
    });

    it('reads every parameter type in PostgreSQL\'s text input syntax', async () => {
      const cases: [string, string, string, number][] = [
        ['int2', '-32768', '-32768', 21],
        ['int4', ' 42 ', '42', 23],
        ['int8', '9223372036854775807', '9223372036854775807', 20],
        ['float4', '1.5', '1.5', 700],
        ['float8', '-2.25e-3', '-0.00225', 701],
        ['bool', 'yes', 't', 16],
        ['numeric(10,4)', '123.45', '123.4500', 1700],
        ['date', '2024-02-29', '2024-02-29', 1082],
        ['time', '13:45:06.5', '13:45:06.5', 1083],
        ['timestamp', '2024-01-02T03:04:05.123456', '2024-01-02 03:04:05.123456', 1114],
        ['timestamptz', '2024-01-02 03:04:05+02', '2024-01-02 01:04:05+00', 1184],
        ['interval', '1 year 2 mons 3 days 04:05:06', '1 year 2 mons 3 days 04:05:06', 1186],
        ['uuid', '{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 2950],
        ['bytea', '\\x00ff', '\\x00ff', 17],
        ['text', "it's", "it's", 25],
        ['varchar', 'v', 'v', 25],
        ['json', '{"a":1}', '{"a":1}', 114],
      ];
      for (const [type, input, output, oid] of cases) {
        const r = await acme.query({ text: `SELECT $1::${type} AS v`, values: [input] });
        expect(r.rows, type).toEqual([{ v: output }]);
        expect(r.fields[0]!.dataTypeID, type).toBe(oid);
      }
      // Without a cast, the type comes from the context: here the column's.
      const d = await acme.query('SELECT count(*) AS n FROM orders WHERE order_date = $1 AND amount > $2', ['2024-01-02', '1.00']);
      expect(d.rows).toEqual([{ n: '2' }]);
    });

    it('reuses a named prepared statement, across transactions too', async () => {
      const text = 'SELECT count(*) AS n FROM orders WHERE order_id < $1';
      for (let i = 0; i < 50; i++) {
        expect((await acme.query({ name: 'q1', text, values: [i] })).rows).toEqual([{ n: String(i) }]);
      }
      await acme.query('BEGIN');
      expect((await acme.query({ name: 'q1', text, values: [7] })).rows).toEqual([{ n: '7' }]);
      await acme.query('COMMIT');
      expect((await acme.query({ name: 'q1', text, values: [8] })).rows).toEqual([{ n: '8' }]);
    });

    it('sends binary results that decode to the text path\'s values', async () => {
      for (const [expr, oid, decode] of BINARY) {
        const sql = `SELECT ${expr} AS v WHERE $1::int = 1`;
        const text = await acme.query({ text: sql, values: [1], rowMode: 'array' }).catch((e: Error) => {
          throw new Error(`${expr}: ${e.message}`);
        });
        const bin = await binaryResult(acme, { text: sql, values: [1], binary: true } as pg.QueryConfig);
        expect(bin.fields, expr).toEqual([{ oid, format: 1 }]);
        expect(decode(bin.rows[0]![0]!), expr).toBe(text.rows[0]![0]);
      }
      // A type without a binary form is refused before any row, and the session goes on.
      const e = await error(acme.query({ text: 'SELECT [1, 2] AS l WHERE $1::int = 1', values: [1], binary: true } as pg.QueryConfig));
      expect(e).toMatchObject({ code: '0A000', message: 'binary format is not supported for type int4[]' });
      expect((await acme.query('SELECT 1 AS one')).rows).toEqual([{ one: '1' }]);
    });

    it('reports errors at Parse, Bind and Execute, and the connection goes on', async () => {
      expect(await error(acme.query('SELEC $1', [1]))).toMatchObject({ code: '42601' });
      expect(await error(acme.query('DELETE FROM orders WHERE order_id = $1', [1]))).toMatchObject({ code: '25006' });
      expect(await error(acme.query('SELECT * FROM no_such_table WHERE x = $1', [1]))).toMatchObject({ code: '42P01' });
      expect(await error(acme.query('SELECT 1; SELECT $1', [1]))).toMatchObject({ code: '42601', message: 'cannot insert multiple commands into a prepared statement' });
      expect(await error(acme.query('SELECT $1::int', ['abc']))).toMatchObject({ code: '22P02', message: 'invalid input syntax for type integer: "abc"' });
      expect(await error(acme.query('SELECT $1::int2', ['40000']))).toMatchObject({ code: '22003' });
      expect(await error(acme.query('SELECT $2::int', [1, 2]))).toMatchObject({ code: '42P18', message: 'could not determine data type of parameter $1' });
      expect(await error(acme.query("SELECT error($1) FROM orders", ['boom']))).toMatchObject({ code: '22023' });
      expect(await error(acme.query('SELECT $1::int', [1, 2]))).toMatchObject({ code: '08P01' });
      // A simple Query has no values for parameters.
      expect(await error(acme.query('SELECT $1'))).toMatchObject({ code: '42P02', message: 'there is no parameter $1' });
      expect((await acme.query('SELECT $1::int AS one', [1])).rows).toEqual([{ one: '1' }]);
    });

    it('keeps a failed transaction block failed until ROLLBACK, through the extended protocol', async () => {
      await acme.query({ name: 'begin', text: 'BEGIN' });
      expect(await error(acme.query('SELECT $1::int', ['x']))).toMatchObject({ code: '22P02' });
      expect(await error(acme.query('SELECT $1::int', [1]))).toMatchObject({ code: '25P02' });
      expect(await error(acme.query({ name: 'one', text: 'SELECT 1' }))).toMatchObject({ code: '25P02' });
      await acme.query({ name: 'rollback', text: 'ROLLBACK' });
      expect((await acme.query('SELECT $1::int AS one', [1])).rows).toEqual([{ one: '1' }]);
    });

    it('answers session commands sent through Parse', async () => {
      await acme.query({ name: 'set-tz', text: "SET TimeZone = 'Asia/Kolkata'" });
      expect((await acme.query({ name: 'show-tz', text: 'SHOW TimeZone' })).rows).toEqual([{ timezone: 'Asia/Kolkata' }]);
      const r = await acme.query({ text: "SELECT TIMESTAMPTZ '2024-01-01 00:00:00+00' AS t WHERE $1::int = 1", values: [1] });
      expect(r.rows).toEqual([{ t: '2024-01-01 05:30:00+05:30' }]);
      // A timestamptz parameter without a zone is in the session's TimeZone.
      const p = await acme.query({ text: 'SELECT $1::timestamptz = TIMESTAMPTZ \'2023-12-31 18:30:00+00\' AS same', values: ['2024-01-01 00:00'] });
      expect(p.rows).toEqual([{ same: 't' }]);
      await acme.query({ name: 'reset-tz', text: 'RESET TimeZone' });
    });

    it('returns rows in batches with a row limit (PortalSuspended) and resumes', async () => {
      const seen: string[] = [];
      const names = await received(acme, async () => {
        const q = new pg.Query({ text: 'SELECT order_id FROM orders ORDER BY order_id LIMIT 25', rows: 10 } as pg.QueryConfig);
        q.on('row', (row: { order_id: string }) => void seen.push(row.order_id));
        await new Promise<void>((resolve, reject) => {
          q.on('end', () => resolve());
          q.on('error', reject);
          acme.query(q);
        });
      });
      expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => String(i)));
      expect(names.filter((n) => n === 'portalSuspended')).toHaveLength(2);
      expect(names.filter((n) => n === 'commandComplete')).toHaveLength(1);
    });
  });

  describe('with postgres.js in its default (extended) mode', () => {
    it('binds parameters of each type through tagged templates', async () => {
      const sql = js();
      try {
        const [r] = await sql`select ${1}::int as a, ${'x'} as b, ${true} as c, ${new Date(Date.UTC(2024, 0, 2, 3, 4, 5))} as d,
          ${12345678901234n as unknown as string} as e, ${Buffer.from([1, 2])} as f, ${null}::int as g, ${1.5}::float8 as h, ${'2024-02-29'}::date as i`;
        expect({ ...r }).toEqual({
          a: 1, b: 'x', c: true, d: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)), e: '12345678901234', f: Buffer.from([1, 2]),
          g: null, h: 1.5, i: new Date(Date.UTC(2024, 1, 29)),
        });
        const rows = await sql`select order_id from orders where order_id < ${3} and product = ${'acme widget'} order by 1`;
        expect(rows.map((x) => x.order_id)).toEqual(['0', '1', '2']);
        const [j] = await sql`select ${sql.json({ a: [1, 'two'] })}::json as j`;
        expect(j!.j).toEqual({ a: [1, 'two'] });
      } finally {
        await sql.end();
      }
    });

    it('reads a result in batches with .cursor(n)', async () => {
      const sql = js();
      try {
        const batches: number[] = [];
        const ids: string[] = [];
        for await (const rows of sql`select order_id from orders where order_id < ${95} order by order_id`.cursor(10)) {
          batches.push(rows.length);
          ids.push(...rows.map((r) => r.order_id as string));
        }
        expect(batches).toEqual([10, 10, 10, 10, 10, 10, 10, 10, 10, 5]);
        expect(ids).toEqual(Array.from({ length: 95 }, (_, i) => String(i)));
        // Leaving a cursor early closes the portal; the connection goes on.
        for await (const rows of sql`select order_id from orders order by order_id`.cursor(7)) {
          expect(rows).toHaveLength(7);
          break;
        }
        expect((await sql`select ${2}::int as two`)[0]).toEqual({ two: 2 });
      } finally {
        await sql.end();
      }
    });

    it('describes a statement: parameter types and columns', async () => {
      const sql = js();
      try {
        const d = await sql`select order_id, amount from orders where order_date = ${'x'} and order_id > ${1}`.describe();
        expect(d.types).toEqual([1082, 20]);
        expect(d.columns.map((c) => [c.name, c.type])).toEqual([['order_id', 20], ['amount', 1700]]);
      } finally {
        await sql.end();
      }
    });

    it('reports an error and runs the next query; transactions with sql.begin', async () => {
      const sql = js();
      try {
        expect(await error(sql`select ${'x'}::int`)).toMatchObject({ code: '22P02' });
        expect(await error(sql`delete from orders where order_id = ${1}`)).toMatchObject({ code: '25006' });
        expect([...(await sql`select ${5}::int as five`)]).toEqual([{ five: 5 }]);
        const n = await sql.begin(async (tx) => {
          const [a] = await tx`select count(*)::int as n from orders where order_id < ${10}`;
          return a!.n as number;
        });
        expect(n).toBe(10);
        await expect(sql.begin(async (tx) => {
          await tx`select ${1}::int`;
          await tx`select ${'nope'}::int`;
        })).rejects.toMatchObject({ code: '22P02' });
        expect([...(await sql`select ${6}::int as six`)]).toEqual([{ six: 6 }]);
      } finally {
        await sql.end();
      }
    });

    it('cancels a running Execute with 57014, and the session goes on', async () => {
      const sql = js();
      try {
        const q = sql.unsafe(LONG);
        const result = q.then(() => null, (e: postgres.PostgresError) => e);
        await until(() => gw.gateway.runningQueries === 1);
        await q.cancel();
        const e = await result;
        expect(e).toMatchObject({ code: '57014', message: 'canceling statement due to user request' });
        await until(() => gw.gateway.runningQueries === 0);
        expect([...(await sql`select ${5}::int as five`)]).toEqual([{ five: 5 }]);
      } finally {
        await sql.end();
      }
    });

    it('stops an Execute at statement_timeout with 57014', async () => {
      const sql = js();
      try {
        await sql`set statement_timeout = '300ms'`;
        expect(await error(sql.unsafe(LONG))).toMatchObject({ code: '57014', message: 'canceling statement due to statement timeout' });
        await sql`reset statement_timeout`;
        expect([...(await sql`select ${1}::int as one`)]).toEqual([{ one: 1 }]);
      } finally {
        await sql.end();
      }
    });
  });
});
