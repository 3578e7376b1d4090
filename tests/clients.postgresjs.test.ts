/**
 * postgres.js (npm `postgres`) with the options tenants leave at their defaults: TLS with
 * the CA, prepared (named) statements, and fetch_types, which loads array types from
 * pg_catalog.pg_type on connect. Parameters of each JavaScript type, bare (PostgreSQL
 * infers them) and cast, the JavaScript types of the values that come back, the same
 * with prepare: false (unnamed statements), dynamic IN lists, savepoints.
 */
import fs from 'node:fs';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVER_TABLES_SQL } from './support/clients.js';
import { addTestTenant, startGateway, type TestGateway } from './support/gateway.js';

const PW = 'postgresjs-test-password';

/** Each value as [its JavaScript type, a printable form], so that tests assert both. */
function typed(rows: readonly object[]): Record<string, [string, unknown]>[] {
  const kind = (v: unknown): [string, unknown] => {
    if (v === null) return ['null', null];
    if (v instanceof Date) return ['Date', v.toISOString()];
    if (Buffer.isBuffer(v)) return ['Buffer', v.toString('hex')];
    if (Array.isArray(v)) return ['Array', v];
    return [typeof v, v];
  };
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, kind(v)])));
}

const UUID = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';

/** postgres.js sends a bigint as int8; its typings only admit declared custom types. */
const big = (n: bigint) => n as unknown as string;

/** The one row of `typed` as postgres.js reads it: int8 and numeric stay strings, date is a Date at UTC midnight. */
const TYPED_ROW = {
  i: ['number', 42], l: ['string', '9007199254740993'], s: ['number', -7], d: ['number', 2.5], f: ['number', 1.25],
  b: ['boolean', true], n: ['string', '12345.6789'], t: ['string', 'Grüße, ☕'], dt: ['Date', '2024-02-29T00:00:00.000Z'],
  ts: ['Date', '2024-01-02T03:04:05.123Z'], bin: ['Buffer', '00ff'], u: ['string', UUID], nothing: ['null', null],
};

describe('postgres.js', () => {
  let gw: TestGateway;
  const connect = (opts: Partial<postgres.Options<Record<string, postgres.PostgresType>>> = {}) =>
    postgres({
      host: '127.0.0.1', port: gw.port, database: 'acme', username: 'acme', password: PW,
      ssl: { ca: fs.readFileSync(gw.caFile) }, max: 1, onnotice: () => undefined, ...opts,
    });
  let sql: postgres.Sql;

  beforeAll(async () => {
    gw = await startGateway();
    await addTestTenant(gw.registry, 'acme', PW, { sql: DRIVER_TABLES_SQL });
    sql = connect();
  });
  afterAll(async () => {
    await sql?.end();
    await gw?.stop();
  });

  /** The queries of the parameter tests, for one connection. */
  const queries = (db: postgres.Sql) => ({
    bare: () => db`select ${42} as int, ${2.5} as float, ${'x'} as str, ${true} as bool, ${big(12345678901234n)} as bigint,
      ${new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 123))} as date, ${Buffer.from([0, 255])} as buf, ${null} as nul`,
    cast: () => db`select ${42}::int4 as i, ${big(9007199254740993n)}::int8 as l, ${-7}::int2 as s, ${2.5}::float8 as d,
      ${1.25}::float4 as f, ${'12345.6789'}::numeric(12,4) as n, ${'2024-02-29'}::date as dt,
      ${'2024-01-02 03:04:05.123456'}::timestamp as ts, ${UUID}::uuid as u, ${db.json({ a: [1, 'two'] })}::json as j,
      ${[1, 2, 3]}::int4[] as arr, ${'1 day 02:03:04'}::interval as iv`,
    table: () => db`select * from typed`,
  });

  it('binds a parameter of each JavaScript type: numbers and strings go untyped, booleans, bigints, Dates and Buffers typed', async () => {
    expect(typed(await queries(sql).bare())).toEqual([{
      // An untyped bare parameter is text in PostgreSQL, so a number comes back as a string.
      int: ['string', '42'], float: ['string', '2.5'], str: ['string', 'x'], bool: ['boolean', true],
      bigint: ['string', '12345678901234'], date: ['Date', '2024-01-02T03:04:05.123Z'], buf: ['Buffer', '00ff'], nul: ['null', null],
    }]);
  });

  it('reads parameters cast to each type as postgres.js\'s JavaScript types (arrays through fetch_types)', async () => {
    expect(typed(await queries(sql).cast())).toEqual([{
      i: ['number', 42], l: ['string', '9007199254740993'], s: ['number', -7], d: ['number', 2.5], f: ['number', 1.25],
      n: ['string', '12345.6789'], dt: ['Date', '2024-02-29T00:00:00.000Z'], ts: ['Date', '2024-01-02T03:04:05.123Z'],
      u: ['string', UUID], j: ['object', { a: [1, 'two'] }], arr: ['Array', [1, 2, 3]], iv: ['string', '1 day 02:03:04'],
    }]);
  });

  it('reads every column type', async () => {
    expect(typed(await queries(sql).table())).toEqual([TYPED_ROW]);
  });

  it('gives the same answers with prepare: false (unnamed statements)', async () => {
    const unnamed = connect({ prepare: false });
    try {
      for (const [name, q] of Object.entries(queries(unnamed))) {
        expect(typed(await q()), name).toEqual(typed(await queries(sql)[name as keyof ReturnType<typeof queries>]()));
      }
    } finally {
      await unnamed.end();
    }
  });

  it('compares a parameter of each type with its column, typed by the column', async () => {
    const counts = {
      i: await sql`select count(*)::int as n from typed where i = ${42}`,
      l: await sql`select count(*)::int as n from typed where l = ${big(9007199254740993n)}`,
      s: await sql`select count(*)::int as n from typed where s = ${-7}`,
      d: await sql`select count(*)::int as n from typed where d = ${2.5}`,
      f: await sql`select count(*)::int as n from typed where f = ${1.25}`,
      b: await sql`select count(*)::int as n from typed where b = ${true}`,
      n: await sql`select count(*)::int as n from typed where n = ${'12345.6789'}`,
      t: await sql`select count(*)::int as n from typed where t = ${'Grüße, ☕'}`,
      dt: await sql`select count(*)::int as n from typed where dt = ${'2024-02-29'}`,
      bin: await sql`select count(*)::int as n from typed where bin = ${Buffer.from([0, 255])}`,
      u: await sql`select count(*)::int as n from typed where u = ${UUID}`,
    };
    expect(Object.fromEntries(Object.entries(counts).map(([k, r]) => [k, r[0]!.n]))).toEqual(
      { i: 1, l: 1, s: 1, d: 1, f: 1, b: 1, n: 1, t: 1, dt: 1, bin: 1, u: 1 },
    );
  });

  it('reads arrays as JavaScript arrays with fetch_types, as PostgreSQL text without', async () => {
    // (postgres.js's array parser reads a NULL element as the string 'NULL' or NaN, with PostgreSQL too.)
    expect([...(await sql`select array[1, 2, 3]::int4[] as a, array['x', 'y z']::text[] as t`)]).toEqual([{ a: [1, 2, 3], t: ['x', 'y z'] }]);
    const plain = connect({ fetch_types: false });
    try {
      expect([...(await plain`select array[1, 2, null]::int4[] as a, array['x', null, 'NULL', 'y z']::text[] as t`)]).toEqual([
        { a: '{1,2,NULL}', t: '{x,NULL,"NULL","y z"}' },
      ]);
    } finally {
      await plain.end();
    }
  });

  it('expands a dynamic IN list, sql([...]), into one parameter per value', async () => {
    const rows = await sql`select order_id from orders where order_id in ${sql([1, 2, 3])} order by 1`;
    expect(rows.map((r) => r.order_id)).toEqual(['1', '2', '3']);
  });

  it('sends an array parameter, sql.array([...]), and reads an array back', async () => {
    // postgres.js declares the parameter text[] (OID 1009); PostgreSQL returns it as text[].
    expect([...(await sql`select ${sql.array([1, 2, 3])} as arr`)]).toEqual([{ arr: ['1', '2', '3'] }]);
  });

  it('rolls back to a savepoint inside sql.begin, and the transaction goes on', async () => {
    const out = await sql.begin(async (tx) => {
      const before = (await tx`select count(*)::int as n from orders where order_id < ${10}`)[0]!.n as number;
      const failed = await tx.savepoint(async (sp) => {
        await sp`select * from no_such_table where x = ${1}`;
      }).then(() => null, (e: postgres.PostgresError) => ({ code: e.code, message: e.message }));
      const after = (await tx`select ${5}::int as five`)[0]!.five as number;
      return { before, failed, after };
    });
    expect(out).toEqual({ before: 10, failed: { code: '42P01', message: 'relation "no_such_table" does not exist' }, after: 5 });
  });

  it('reports a bad parameter value with 22P02, and the connection goes on', async () => {
    const e = await sql`select ${'abc'}::int as v`.then(() => null, (err: postgres.PostgresError) => err);
    expect(e).toMatchObject({ code: '22P02', severity: 'ERROR', message: 'invalid input syntax for type integer: "abc"' });
    expect([...(await sql`select ${6}::int as six`)]).toEqual([{ six: 6 }]);
  });
});
