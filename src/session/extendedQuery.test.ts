/**
 * Parameters of declared (and inferred) numeric and array types through a real gateway,
 * from a raw client: the values, type OIDs and typmods PostgreSQL 15 gives for the same
 * messages (the expected answers were read from PostgreSQL 15).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTestTenant, startGateway, type TestGateway } from '../../tests/support/gateway.js';
import { dataRow, dataRowBytes, errorFields, fe, RawClient, type BackendMessage } from '../../tests/support/rawClient.js';
import { numericTypmod, PG_OID as O } from '../wire/pgTypes.js';

const PW = 'parameter-types-password';

interface Field {
  name: string;
  oid: number;
  typmod: number;
}

function rowDescription(m: BackendMessage): Field[] {
  const b = m.body;
  const out: Field[] = [];
  let at = 2;
  for (let i = 0; i < b.readInt16BE(0); i++) {
    const end = b.indexOf(0, at);
    const name = b.toString('utf8', at, end);
    at = end + 1;
    out.push({ name, oid: b.readUInt32BE(at + 6), typmod: b.readInt32BE(at + 12) });
    at += 18;
  }
  return out;
}

function parameterDescription(m: BackendMessage): number[] {
  return Array.from({ length: m.body.readInt16BE(0) }, (_, i) => m.body.readUInt32BE(2 + 4 * i));
}

describe('numeric and array parameters', () => {
  let gw: TestGateway;
  let c: RawClient;

  beforeAll(async () => {
    gw = await startGateway({ allowPlaintext: true });
    await addTestTenant(gw.registry, 'acme', PW, { sql: ['CREATE TABLE t AS SELECT 12345.6789::DECIMAL(12,4) AS n'] });
    c = await RawClient.connect(gw.port, { database: 'acme', user: 'acme', password: PW });
    c.send(fe.query("SET TimeZone = 'UTC'"));
    await c.until('Z');
  });
  afterAll(async () => {
    c.end();
    await gw.stop();
  });

  /** Parse (unnamed), Bind, Describe of the portal, Execute, Sync. */
  async function run(sql: string, oids: number[], values: (Buffer | string | null)[], resultFormats: number[] = [], paramFormats: number[] = []) {
    c.send(fe.parse('', sql, oids), fe.bind('', '', values, { resultFormats, paramFormats }), fe.describe('P', ''), fe.execute(''), fe.sync());
    const ms = await c.until('Z');
    const e = ms.find((m) => m.type === 'E');
    if (e) return { error: errorFields(e) };
    const t = ms.find((m) => m.type === 'T');
    const rows = ms.filter((m) => m.type === 'D');
    return { fields: t ? rowDescription(t) : [], rows: rows.map(dataRow), bytes: rows.map(dataRowBytes) };
  }

  /** Parse (named) and Describe of the statement, before any value is bound. */
  async function describeStatement(sql: string, oids: number[]) {
    c.send(fe.parse('s', sql, oids), fe.describe('S', 's'), fe.close('S', 's'), fe.sync());
    const ms = await c.until('Z');
    const e = ms.find((m) => m.type === 'E');
    if (e) throw new Error(errorFields(e).message);
    const t = ms.find((m) => m.type === 'T');
    return { params: parameterDescription(ms.find((m) => m.type === 't')!), fields: t ? rowDescription(t) : [] };
  }

  it('returns a numeric parameter with the digits and scale it was sent with, as numeric without a typmod', async () => {
    const sql = 'SELECT $1 AS v, $1 * 2 AS m';
    const cases: [string | null, string | null, string | null][] = [
      ['1.50', '1.50', '3.00'],
      ['12345.6789', '12345.6789', '24691.3578'],
      ['123456789012345678901.5', '123456789012345678901.5', '246913578024691357803.0'],
      ['-0.000', '0.000', '0.000'],
      ['1e3', '1000', '2000'],
      ['1.5e-3', '0.0015', '0.0030'],
      [null, null, null],
    ];
    for (const [input, v, m] of cases) {
      const r = await run(sql, [O.numeric], [input]);
      expect(r.rows, String(input)).toEqual([[v, m]]);
      expect(r.fields, String(input)).toEqual([{ name: 'v', oid: O.numeric, typmod: -1 }, { name: 'm', oid: O.numeric, typmod: -1 }]);
    }
    // Described before a value is bound: the same types, no typmod that a value's scale could contradict.
    expect(await describeStatement(sql, [O.numeric])).toEqual({
      params: [O.numeric],
      fields: [{ name: 'v', oid: O.numeric, typmod: -1 }, { name: 'm', oid: O.numeric, typmod: -1 }],
    });
    // numeric_send of 1.50: 2 digits, weight 0, positive, dscale 2, digits 1 and 5000.
    const bin = await run('SELECT $1 AS v', [O.numeric], ['1.50'], [1]);
    expect(bin.bytes?.[0]?.[0]?.toString('hex')).toBe('000200000000000200011388');
  });

  it('compares a numeric parameter with a narrower DECIMAL column by value, declared or not', async () => {
    const sql = 'SELECT count(*)::INTEGER AS c FROM t WHERE n = $1';
    for (const oids of [[O.numeric], []]) {
      for (const [value, count] of [['12345.6789', '1'], ['12345.67890', '1'], ['12345.67891', '0'], ['123456789012345678901.5', '0']] as const) {
        expect((await run(sql, oids, [value])).rows, `${value} ${oids.join()}`).toEqual([[count]]);
      }
    }
    expect((await describeStatement(sql, [])).params).toEqual([O.numeric]);
  });

  it('computes with a numeric parameter; an explicit numeric(p,s) keeps its typmod', async () => {
    const r = await run('SELECT $1 + n AS s, $1::numeric(10,2) AS c, n FROM t', [O.numeric], ['1.50']);
    expect(r.rows).toEqual([['12347.1789', '1.50', '12345.6789']]);
    expect(r.fields).toEqual([
      { name: 's', oid: O.numeric, typmod: -1 },
      { name: 'c', oid: O.numeric, typmod: numericTypmod(10, 2) },
      { name: 'n', oid: O.numeric, typmod: numericTypmod(12, 4) },
    ]);
    // Without a numeric parameter a DECIMAL column keeps its typmod.
    expect((await run('SELECT n FROM t WHERE $1::int = 1', [], ['1'])).fields).toEqual([{ name: 'n', oid: O.numeric, typmod: numericTypmod(12, 4) }]);
  });

  it('reads NaN and the infinities of a numeric parameter as float8', async () => {
    const r = await run('SELECT $1 AS v', [O.numeric], ['NaN']);
    expect(r.rows).toEqual([['NaN']]);
    expect(r.fields).toEqual([{ name: 'v', oid: O.float8, typmod: -1 }]);
  });

  it('binds an array parameter as a list of its element type and returns it as that array type', async () => {
    const cases: [number, string, string][] = [
      [O._int4, '{1,2,3}', '{1,2,3}'],
      [O._int4, '{{1,2},{3,4}}', '{{1,2},{3,4}}'],
      [O._int4, '{}', '{}'],
      [O._int4, '{1,NULL}', '{1,NULL}'],
      [O._text, '{a,"b c",NULL,"NULL","","x\\\\y"}', '{a,"b c",NULL,"NULL","","x\\\\y"}'],
      [O._numeric, '{1.50,2.25,3.00}', '{1.50,2.25,3.00}'],
      [O._float8, '{1.5,-2,NaN,Infinity}', '{1.5,-2,NaN,Infinity}'],
      [O._float4, '{1.25}', '{1.25}'],
      [O._int8, '{9223372036854775807}', '{9223372036854775807}'],
      [O._int2, '{-32768}', '{-32768}'],
      [O._bool, '{t,f,NULL}', '{t,f,NULL}'],
      [O._date, '{2024-02-29,infinity}', '{2024-02-29,infinity}'],
      [O._time, '{13:45:06.5}', '{13:45:06.5}'],
      [O._timestamp, '{"2024-01-02 03:04:05.5"}', '{"2024-01-02 03:04:05.5"}'],
      [O._timestamptz, '{"2024-01-02 03:04:05+02"}', '{"2024-01-02 01:04:05+00"}'],
      [O._interval, '{"1 day 02:00:00","-1 mons"}', '{"1 day 02:00:00","-1 mons"}'],
      [O._uuid, '{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}'],
      [O._bytea, '{"\\\\x00ff",NULL}', '{"\\\\x00ff",NULL}'],
    ];
    for (const [oid, input, output] of cases) {
      const r = await run('SELECT $1 AS arr', [oid], [input]);
      expect(r, `${oid} ${input}`).toEqual({ fields: [{ name: 'arr', oid, typmod: -1 }], rows: [[output]], bytes: expect.anything() });
    }
    // DuckDB has one string type: varchar[] is text[], as a varchar parameter is text.
    expect((await run('SELECT $1 AS arr', [O._varchar], ['{a,b}'])).fields).toEqual([{ name: 'arr', oid: O._text, typmod: -1 }]);
    expect((await describeStatement('SELECT $1 AS arr', [O._int4])).fields).toEqual([{ name: 'arr', oid: O._int4, typmod: -1 }]);
    // Element lookups work on the list.
    const any = async (v: string | null) => (await run('SELECT 2 = ANY($1) AS has2', [O._int4], [v])).rows;
    expect([await any('{1,2,3}'), await any('{4}'), await any('{1,NULL}'), await any(null)]).toEqual([[['t']], [['f']], [[null]], [[null]]]);
  });

  it('reads an array parameter sent in binary (array_recv), as pgjdbc sends createArrayOf arrays', async () => {
    const int32 = (...ns: number[]) => Buffer.concat(ns.map((n) => Buffer.from((n >>> 0).toString(16).padStart(8, '0'), 'hex')));
    // int4[] {1,NULL,3}: 1 dimension, has NULLs, element int4; 3 elements from 1.
    const r = await run('SELECT $1 AS arr, 3 = ANY($1) AS has3', [O._int4], [int32(1, 1, 23, 3, 1, 4, 1, -1, 4, 3)], [], [1]);
    expect(r).toEqual({ fields: [{ name: 'arr', oid: O._int4, typmod: -1 }, { name: 'has3', oid: O.bool, typmod: -1 }], rows: [['{1,NULL,3}', 't']], bytes: expect.anything() });
    // text[] {"a b"}.
    const t = await run('SELECT $1 AS arr', [O._text], [Buffer.concat([int32(1, 0, 25, 1, 1, 3), Buffer.from('a b')])], [], [1]);
    expect(t.rows).toEqual([['{"a b"}']]);
    const e = await run('SELECT $1 AS arr', [O._int4], [int32(1, 0, 20, 1, 1, 8, 0, 1)], [], [1]);
    expect(e.error).toMatchObject({ code: '42804', message: 'binary data has array element type 20 (int8) instead of expected 23 (int4)' });
  });

  it('refuses an array of more than 6 dimensions, as PostgreSQL does', async () => {
    const r = await run('SELECT $1 AS arr', [O._int4], ['{{{{{{{1}}}}}}}']);
    expect(r.error).toMatchObject({ code: '54000', message: 'number of array dimensions (7) exceeds the maximum allowed (6)' });
  });
});
