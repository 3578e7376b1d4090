// Each case is evaluated twice: in DuckDB, then encoded by textFormat.ts, and in a real
// PostgreSQL, whose own text output is the expected answer. The type OID pgTypes.ts maps
// the DuckDB column to is checked against the one PostgreSQL reports.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgFieldTypeFor } from '../src/wire/pgTypes.js';
import { textEncoderFor } from '../src/wire/textFormat.js';
import { pgClusterSkipReason, startPgCluster, type PgCluster } from './support/pgCluster.js';

interface Case {
  /** DuckDB expression. */
  duck: string;
  /** The same value in PostgreSQL syntax (defaults to `duck`). */
  pg?: string;
  zone?: string;
  extraFloatDigits?: number;
  /** Compare the OID (default true). */
  oid?: boolean;
  /** Also compare the typmod. */
  typmod?: boolean;
}

const same = (...exprs: string[]): Case[] => exprs.map((duck) => ({ duck }));
const cast = (duckType: string, pgType: string, ...literals: string[]): Case[] =>
  literals.map((l) => ({ duck: `${l}::${duckType}`, pg: `${l}::${pgType}` }));

const TZ_VALUES = [
  '2024-07-01 12:00:00+00',
  '2024-01-15 08:30:00.123456+00',
  '2021-03-14 06:59:59.999999+00',
  '2021-03-14 07:00:00+00',
  '2021-11-07 05:59:59+00',
  '2021-11-07 06:00:00+00',
  '1970-01-01 00:00:00+00',
  '1800-01-01 00:00:00+00',
  '1883-11-18 16:59:59+00',
  '1883-11-18 17:00:00+00',
  '1900-01-01 00:00:00+00',
  '1942-09-01 00:00:00.5+00',
  '0001-01-01 00:00:00+00',
  '2038-06-01 12:00:00+00',
  '2500-01-01 00:00:00.000001+00',
  '1600-06-01 12:00:00.000001+00',
  'infinity',
  '-infinity',
];
const ZONES = ['UTC', 'America/New_York', 'Asia/Kolkata', 'Australia/Adelaide', 'Asia/Kathmandu'];

const CASES: Case[] = [
  // bool
  ...same('true', 'false', 'NULL::boolean'),
  // integers
  ...cast('tinyint', 'int2', '(-128)', '127'),
  ...cast('smallint', 'int2', '(-32768)', '32767', '0'),
  ...cast('integer', 'int4', '(-2147483648)', '2147483647'),
  ...cast('bigint', 'int8', '(-9223372036854775808)', '9223372036854775807'),
  ...cast('utinyint', 'int2', '255'),
  ...cast('usmallint', 'int4', '65535'),
  ...cast('uinteger', 'int8', '4294967295'),
  ...cast('ubigint', 'numeric', '18446744073709551615'),
  ...cast('hugeint', 'numeric', '(-170141183460469231731687303715884105728)', '170141183460469231731687303715884105727', '0'),
  ...cast('uhugeint', 'numeric', '340282366920938463463374607431768211455'),
  ...cast('bignum', 'numeric', "'-123456789012345678901234567890123456789012345'"),
  // float8
  ...cast(
    'double',
    'float8',
    '0.1',
    '1e-7',
    '1e15',
    '1e16',
    '1e20',
    '1.5e300',
    "'-0'",
    "'NaN'",
    "'Infinity'",
    "'-Infinity'",
    '123456789.125',
    '0.0001',
    '0.00001',
    '100',
    '1e14',
    '123456789012345.6',
    '999999999999999.9',
    '5e-324',
    '1.7976931348623157e308',
    '2.2250738585072014e-308',
    '9007199254740993',
    '(-1.5e-10)',
    '(-123.456)',
    '0.30000000000000004',
  ),
  { duck: '1/3', pg: '1/3::float8' },
  { duck: '2/3', pg: '2/3::float8' },
  // float4
  ...cast(
    'float',
    'float4',
    '0.1',
    '1e-7',
    '1e15',
    '1e16',
    '1e20',
    "'-0'",
    "'NaN'",
    "'Infinity'",
    "'-Infinity'",
    '123456789.125',
    '3.4028235e38',
    '1e-45',
    '1.17549435e-38',
    '16777217',
    '123456.7',
    '1234567',
    '0.3',
    '2.5',
    '1e-5',
    '0.0001',
    '0.0009765625',
    '1073741824',
    '1.2676506e30',
    '7.888609e-31',
    '3.14159274',
    '(-2.7182817)',
    '9.999999e-5',
    '7.006492e-45',
    '0.33333334',
  ),
  { duck: '(1/3)::float', pg: '(1/3::float8)::float4' },
  { duck: '0.1::float * 3::float', pg: '0.1::float4 * 3::float4' },
  // extra_float_digits <= 0: printf %g
  ...[0, -3, -14, 3].flatMap((efd) =>
    [
      { duck: '0.1::double', pg: '0.1::float8' },
      { duck: '1/3', pg: '1/3::float8' },
      { duck: '1e16::double', pg: '1e16::float8' },
      { duck: '123456789.125::double', pg: '123456789.125::float8' },
      { duck: '2.5::double', pg: '2.5::float8' },
      { duck: '0.125::double', pg: '0.125::float8' },
      { duck: '1234567890123455::double', pg: '1234567890123455::float8' },
      { duck: '1234567890123465::double', pg: '1234567890123465::float8' },
      { duck: '1e-5::double', pg: '1e-5::float8' },
      { duck: "'-0'::double", pg: "'-0'::float8" },
      { duck: '0.1::float', pg: '0.1::float4' },
      { duck: '123456.7::float', pg: '123456.7::float4' },
      { duck: '(1/3)::float', pg: '(1/3::float8)::float4' },
      { duck: '2.5::float', pg: '2.5::float4' },
    ].map((c) => ({ ...c, extraFloatDigits: efd })),
  ),
  // numeric
  ...[
    ['1.50', '10,2'],
    ['(-1.5)', '4,2'],
    ['0.00', '5,2'],
    ['0', '5,0'],
    ['(-0.001)', '10,3'],
    ['0.000001', '18,6'],
    ['12345678901234567890.123', '38,3'],
    ['99999999999999999999999999999999999999', '38,0'],
    ['(-0.00000000000000000000000000000000000001)', '38,38'],
    ['123.4', '9,4'],
  ].map(([v, ps]) => ({ duck: `${v}::decimal(${ps})`, pg: `${v}::numeric(${ps})`, typmod: true })),
  ...same('1.5', '(-0.25)', '3.14159265358979323846'),
  // date
  ...same(
    "DATE '2024-02-29'",
    "DATE '0001-01-01'",
    "DATE '1970-01-01'",
    "DATE '1969-12-31'",
    "DATE '1582-10-10'",
    "DATE '9999-12-31'",
    "DATE '12345-06-07'",
    "DATE 'infinity'",
    "DATE '-infinity'",
    'NULL::date',
  ),
  { duck: "DATE '0001-12-31 (BC)'", pg: "DATE '0001-12-31 BC'" },
  { duck: "DATE '0044-03-15 (BC)'", pg: "DATE '0044-03-15 BC'" },
  { duck: "DATE '4713-01-01 (BC)'", pg: "DATE '4713-01-01 BC'" },
  // time, timetz
  ...same(
    "TIME '00:00:00'",
    "TIME '13:45:30'",
    "TIME '13:45:30.5'",
    "TIME '23:59:59.999999'",
    "TIME '00:00:00.000001'",
    "TIME '24:00:00'",
    "TIMETZ '01:02:03+05:30'",
    "TIMETZ '13:14:15.25-08'",
    "TIMETZ '00:00:00+00'",
    "TIMETZ '12:00:00+05:21:10'",
    "TIMETZ '23:59:59.999999-15:59'",
  ),
  { duck: "'01:02:03.123456789'::TIME_NS", pg: "TIME '01:02:03.123456'" },
  // timestamp
  ...same(
    "TIMESTAMP '2024-02-29 13:45:30'",
    "TIMESTAMP '2024-02-29 13:45:30.123456'",
    "TIMESTAMP '2024-02-29 13:45:30.5'",
    "TIMESTAMP '1970-01-01 00:00:00'",
    "TIMESTAMP '1969-12-31 23:59:59.999999'",
    "TIMESTAMP '0001-01-01 00:00:00'",
    "TIMESTAMP '12345-01-01 00:00:00'",
    "TIMESTAMP '2500-01-01 00:00:00.000001'",
    "TIMESTAMP '1600-01-01 12:00:00.000001'",
    "TIMESTAMP 'infinity'",
    "TIMESTAMP '-infinity'",
  ),
  { duck: "TIMESTAMP '0000-12-31 23:59:59.5'", pg: "TIMESTAMP '0001-12-31 23:59:59.5 BC'" },
  { duck: "TIMESTAMP '-0099-03-01 00:00:00'", pg: "TIMESTAMP '0100-03-01 00:00:00 BC'" },
  { duck: "TIMESTAMP_S '2020-01-01 00:00:01'", pg: "TIMESTAMP '2020-01-01 00:00:01'" },
  { duck: "TIMESTAMP_MS '2020-01-01 00:00:01.5'", pg: "TIMESTAMP '2020-01-01 00:00:01.5'" },
  { duck: "TIMESTAMP_NS '2020-01-01 00:00:00.123456789'", pg: "TIMESTAMP '2020-01-01 00:00:00.123456'" },
  { duck: "TIMESTAMP_NS '1969-12-31 23:59:59.999999999'", pg: "TIMESTAMP '1969-12-31 23:59:59.999999'" },
  // timestamptz in several session time zones
  ...ZONES.flatMap((zone) =>
    TZ_VALUES.map((v) => ({ duck: `TIMESTAMPTZ '${v}'`, pg: `TIMESTAMPTZ '${v}'`, zone })),
  ),
  ...ZONES.map((zone) => ({ duck: "TIMESTAMPTZ '0000-06-01 00:00:00+00'", pg: "TIMESTAMPTZ '0001-06-01 00:00:00+00 BC'", zone })),
  // interval
  ...same(
    "INTERVAL '1 year 2 months 3 days 04:05:06.5'",
    "INTERVAL '0 seconds'",
    "INTERVAL '1 mon -1 days'",
    "INTERVAL '-1 year -2 mons'",
    "INTERVAL '-3 days -04:05:06'",
    "INTERVAL '1 microsecond'",
    "INTERVAL '-1 microsecond'",
    "INTERVAL '100 hours'",
    "INTERVAL '1000000 hours'",
    "INTERVAL '1 year -1 mons'",
    "INTERVAL '-1 year 2 mons'",
    "INTERVAL '1 day'",
    "INTERVAL '2 days'",
    "INTERVAL '1 mon'",
    "INTERVAL '-1 mon'",
    "INTERVAL '1 year'",
    "INTERVAL '2 years'",
    "INTERVAL '-2 years'",
    "INTERVAL '1 year 1 day'",
    "INTERVAL '12:34:56.789'",
    "INTERVAL '-12:34:56.789'",
    "INTERVAL '1 mon 00:00:01'",
    "INTERVAL '3 years -4 mons 5 days -06:07:08.000009'",
  ),
  { duck: 'INTERVAL (-1) DAY + INTERVAL 2 HOUR', pg: "INTERVAL '-1 days +02:00:00'" },
  { duck: 'INTERVAL (-1) MONTH + INTERVAL 1 DAY', pg: "INTERVAL '-1 mon 1 day'" },
  { duck: 'INTERVAL (-1) MONTH + INTERVAL (-1) DAY + INTERVAL 1 SECOND', pg: "INTERVAL '-1 mon -1 day +00:00:01'" },
  { duck: 'to_microseconds(9223372036854775806)', pg: "INTERVAL '2562047788:00:54.775806'" },
  { duck: 'to_microseconds(-9223372036854775806)', pg: "INTERVAL '-2562047788:00:54.775806'" },
  // uuid
  ...cast(
    'uuid',
    'uuid',
    "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'",
    "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'",
    "'00000000-0000-0000-0000-000000000000'",
    "'ffffffff-ffff-ffff-ffff-ffffffffffff'",
    "'7fffffff-ffff-ffff-ffff-ffffffffffff'",
    "'80000000-0000-0000-0000-000000000000'",
  ),
  // bytea
  { duck: "'\\xDE\\xAD\\xBE\\xEF'::blob", pg: "'\\xdeadbeef'::bytea" },
  { duck: "'\\x00\\xFF'::blob", pg: "'\\x00ff'::bytea" },
  ...cast('blob', 'bytea', "''", "'abc'"),
  // text
  ...cast(
    'varchar',
    'text',
    "'héllo wörld ✓ 😀'",
    "'a' || chr(10) || 'b' || chr(9) || 'c' || chr(13)",
    "'it''s \"quoted\" \\ back'",
    "''",
    'NULL',
  ),
  { duck: "'b'::ENUM('a', 'b')", pg: "'b'::text" },
  // json
  ...cast('json', 'json', `'{"a":[1,2,{"b":null}],"c":"x y"}'`, `'{"a": 1,  "b" : "ü"}'`, `'[1, "two", true]'`, "'42'"),
  // bit strings
  ...['10110', '1', '0000000011111111', '101010101', '00000000'].map((b) => ({ duck: `'${b}'::bit`, pg: `B'${b}'::varbit` })),
  // lists -> arrays
  { duck: '[1, 2, NULL]', pg: 'ARRAY[1, 2, NULL]' },
  { duck: '[]::integer[]', pg: "'{}'::int4[]" },
  { duck: '[true, false, NULL]', pg: 'ARRAY[true, false, NULL]' },
  { duck: '[1::bigint, -1]', pg: 'ARRAY[1::int8, -1]' },
  { duck: '[1::smallint]', pg: 'ARRAY[1::int2]' },
  { duck: "[0.1::double, 1e20, 'NaN'::double, '-Infinity'::double]", pg: "ARRAY[0.1::float8, 1e20::float8, 'NaN'::float8, '-Infinity'::float8]" },
  { duck: '[0.1::float, 1e-7::float]', pg: 'ARRAY[0.1::float4, 1e-7::float4]' },
  { duck: '[1.50::decimal(10,2), NULL, (-0.5)::decimal(10,2)]', pg: 'ARRAY[1.50::numeric(10,2), NULL, (-0.5)::numeric(10,2)]' },
  { duck: '[170141183460469231731687303715884105727::hugeint]', pg: 'ARRAY[170141183460469231731687303715884105727::numeric]' },
  {
    duck: "['a b', 'c,d', 'e\"f', 'g\\h', '{x}', '', 'NULL', 'null', 'Null', 'plain', NULL, 'tab' || chr(9), 'ünï', 'a(b)c', 'x=y']",
    pg: "ARRAY['a b', 'c,d', 'e\"f', 'g\\h', '{x}', '', 'NULL', 'null', 'Null', 'plain', NULL, 'tab' || chr(9), 'ünï', 'a(b)c', 'x=y']",
  },
  { duck: '[[1, 2], [3, 4]]', pg: 'ARRAY[[1, 2], [3, 4]]' },
  { duck: "[['a', 'b c'], ['d', NULL]]", pg: "ARRAY[['a', 'b c'], ['d', NULL]]" },
  { duck: '[[[1]], [[2]]]', pg: 'ARRAY[[[1]], [[2]]]' },
  { duck: '[[1, NULL], [NULL, 4]]', pg: 'ARRAY[[1, NULL], [NULL, 4]]' },
  { duck: "[DATE '2020-01-01', DATE '0001-12-31 (BC)', DATE 'infinity']", pg: "ARRAY[DATE '2020-01-01', DATE '0001-12-31 BC', DATE 'infinity']" },
  { duck: "[TIMESTAMP '2020-01-01 00:00:00', NULL]", pg: "ARRAY[TIMESTAMP '2020-01-01 00:00:00', NULL]" },
  ...['UTC', 'America/New_York'].map((zone) => ({
    duck: "[TIMESTAMPTZ '2020-01-01 00:00:00+00', TIMESTAMPTZ '2020-07-01 00:00:00.5+00']",
    pg: "ARRAY[TIMESTAMPTZ '2020-01-01 00:00:00+00', TIMESTAMPTZ '2020-07-01 00:00:00.5+00']",
    zone,
  })),
  { duck: "[TIME '01:02:03', TIME '04:05:06.7']", pg: "ARRAY[TIME '01:02:03', TIME '04:05:06.7']" },
  { duck: "[TIMETZ '01:02:03+05:30']", pg: "ARRAY[TIMETZ '01:02:03+05:30']" },
  { duck: "[INTERVAL '1 day', INTERVAL '00:00:01', INTERVAL '1 year -1 mons']", pg: "ARRAY[INTERVAL '1 day', INTERVAL '00:00:01', INTERVAL '1 year -1 mons']" },
  { duck: "['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid]", pg: "ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid]" },
  { duck: "['abc'::blob, ''::blob]", pg: "ARRAY['abc'::bytea, ''::bytea]" },
  { duck: `['{"a":1}'::json, '[1, 2]'::json, 'null'::json]`, pg: `ARRAY['{"a":1}'::json, '[1, 2]'::json, 'null'::json]` },
  { duck: "['101'::bit, '0'::bit]", pg: "ARRAY[B'101'::varbit, B'0'::varbit]" },
  { duck: '[1, 2, 3]::integer[3]', pg: 'ARRAY[1, 2, 3]' },
  { duck: "[{'a': 1, 'b': 'x y'}, NULL]", pg: "ARRAY[ROW(1, 'x y'::text), NULL]" },
  { duck: '[NULL::integer]', pg: 'ARRAY[NULL::int4]' },
  // structs -> records
  { duck: "{'a': 1, 'b': 'abc'}", pg: "ROW(1, 'abc'::text)" },
  {
    duck: "{'a': 'x y', 'b': '', 'c': NULL::varchar, 'd': 'q\"b', 'e': 'b\\s', 'f': '(p)', 'g': 'a,b', 'h': 'NULL', 'i': 'ok', 'j': '{z}', 'k': chr(10)}",
    pg: "ROW('x y'::text, ''::text, NULL::text, 'q\"b'::text, 'b\\s'::text, '(p)'::text, 'a,b'::text, 'NULL'::text, 'ok'::text, '{z}'::text, chr(10))",
  },
  { duck: "{'a': {'b': 1, 'c': 'd e'}}", pg: "ROW(ROW(1, 'd e'::text))" },
  { duck: "{'a': [1, 2], 'b': ['x y']}", pg: "ROW(ARRAY[1, 2], ARRAY['x y'])" },
  {
    duck: "{'t': TIMESTAMP '2020-01-01 00:00:00', 'd': DATE '2020-01-01', 'f': 0.1::double, 'n': 1.50::decimal(10,2), 'b': true, 'i': INTERVAL '1 day', 'x': 'ab'::blob, 'u': 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid}",
    pg: "ROW(TIMESTAMP '2020-01-01 00:00:00', DATE '2020-01-01', 0.1::float8, 1.50::numeric(10,2), true, INTERVAL '1 day', 'ab'::bytea, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid)",
  },
  { duck: "{'a': NULL::integer, 'b': NULL::integer}", pg: 'ROW(NULL::int4, NULL::int4)' },
  { duck: "{'a': TIMESTAMPTZ '2020-07-01 00:00:00+00'}", pg: "ROW(TIMESTAMPTZ '2020-07-01 00:00:00+00')", zone: 'Asia/Kolkata' },
  { duck: "{'a': {'b': 'q\"\\'}}", pg: "ROW(ROW('q\"\\'::text))" },
  // NULL of other types
  ...same('NULL::integer', 'NULL::date', 'NULL::interval'),
];

const skipReason = pgClusterSkipReason();

describe.skipIf(skipReason !== undefined)(`DuckDB text output matches PostgreSQL${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let cluster: PgCluster;
  let client: pg.Client;
  let instance: DuckDBInstance;
  let duck: DuckDBConnection;
  let pgZone = '';
  let pgEfd = NaN;

  beforeAll(async () => {
    cluster = await startPgCluster();
    client = new pg.Client({
      host: cluster.host,
      port: cluster.port,
      user: cluster.user,
      database: 'postgres',
      types: { getTypeParser: (() => (v: string) => v) as unknown as typeof pg.types.getTypeParser },
    });
    await client.connect();
    instance = await DuckDBInstance.create(':memory:');
    duck = await instance.connect();
    await duck.run("SET TimeZone = 'UTC'");
  });

  afterAll(async () => {
    await client?.end();
    duck?.closeSync();
    instance?.closeSync();
    await cluster?.stop();
  });

  async function fromPg(c: Case): Promise<{ text: string | null; oid: number; typmod: number }> {
    const zone = c.zone ?? 'UTC';
    const efd = c.extraFloatDigits ?? 1;
    if (zone !== pgZone || efd !== pgEfd) {
      await client.query(`SET TimeZone = '${zone}'; SET extra_float_digits = ${efd}`);
      pgZone = zone;
      pgEfd = efd;
    }
    const r = await client.query({ text: `SELECT ${c.pg ?? c.duck} AS v`, rowMode: 'array' });
    const f = r.fields[0]!;
    return { text: (r.rows[0] as (string | null)[])[0] ?? null, oid: f.dataTypeID, typmod: f.dataTypeModifier };
  }

  async function fromDuck(c: Case): Promise<{ text: string | null; oid: number; typmod: number }> {
    const result = await duck.stream(`SELECT ${c.duck} AS v`);
    const type = result.columnType(0);
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount !== 1) throw new Error(`expected one row from ${c.duck}`);
    const value = chunk.getColumnVector(0).getItem(0);
    const encode = textEncoderFor(type, { timeZone: c.zone ?? 'UTC', extraFloatDigits: c.extraFloatDigits ?? 1 });
    const field = pgFieldTypeFor(type);
    return { text: value === null ? null : encode(value), oid: field.oid, typmod: field.typmod };
  }

  const label = (c: Case): string =>
    `${c.duck}${c.zone ? ` [TimeZone ${c.zone}]` : ''}${c.extraFloatDigits !== undefined ? ` [extra_float_digits ${c.extraFloatDigits}]` : ''}`;

  it.each(CASES.map((c) => [label(c), c] as const))('%s', async (_name, c) => {
    const expected = await fromPg(c);
    const actual = await fromDuck(c);
    expect(actual.text).toBe(expected.text);
    if (c.oid !== false) expect(actual.oid).toBe(expected.oid);
    if (c.typmod) expect(actual.typmod).toBe(expected.typmod);
  });

  // ---- randomized: many values per query, deterministic seed ----

  async function pgColumn(sql: string, values: unknown[], zone = 'UTC', efd = 1): Promise<(string | null)[]> {
    await client.query(`SET TimeZone = '${zone}'; SET extra_float_digits = ${efd}`);
    pgZone = zone;
    pgEfd = efd;
    const r = await client.query({ text: sql, values, rowMode: 'array' });
    return r.rows.map((row) => (row as (string | null)[])[0] ?? null);
  }

  async function duckColumn(sql: string, zone = 'UTC', efd = 1): Promise<(string | null)[]> {
    const result = await duck.stream(sql);
    const encode = textEncoderFor(result.columnType(0), { timeZone: zone, extraFloatDigits: efd });
    const out: (string | null)[] = [];
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const vector = chunk.getColumnVector(0);
      for (let i = 0; i < chunk.rowCount; i++) {
        const v = vector.getItem(i);
        out.push(v === null ? null : encode(v));
      }
    }
    return out;
  }

  /** Pairs each input with both outputs, so a failure names the input. */
  function expectSame(inputs: string[], ours: (string | null)[], theirs: (string | null)[]): void {
    expect(ours.length).toBe(inputs.length);
    expect(theirs.length).toBe(inputs.length);
    const diffs = inputs
      .map((input, i) => ({ input, ours: ours[i], postgres: theirs[i] }))
      .filter((d) => d.ours !== d.postgres);
    expect(diffs.slice(0, 10)).toEqual([]);
  }

  const random = mulberry32(20240601);
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  const f64 = new Float64Array(1);
  const u64 = new Uint32Array(f64.buffer);

  const float4Inputs: string[] = [];
  const float8Inputs: string[] = [];
  for (let i = 0; i < 3000; i++) {
    do u32[0] = random(); while (!Number.isFinite(f32[0]!));
    float4Inputs.push(f32[0]!.toPrecision(9));
    do {
      u64[0] = random();
      u64[1] = random();
    } while (!Number.isFinite(f64[0]!));
    float8Inputs.push(f64[0]!.toPrecision(17));
    // values with few significant bits: exact ties and interval bounds live here
    const few = ((random() % 100000) + (random() % 8) / 8) * 2 ** ((random() % 80) - 40);
    float4Inputs.push(Math.fround(few).toPrecision(9));
    float8Inputs.push(few.toPrecision(17));
    float8Inputs.push((2 ** (45 + (random() % 20)) + (random() % 1024) / 8).toPrecision(17));
  }
  for (let e = -149; e <= 127; e++) float4Inputs.push((2 ** e).toPrecision(9));
  for (let e = -1074; e <= 1023; e += 3) float8Inputs.push((2 ** e).toPrecision(17));

  for (const efd of [1, 0]) {
    it(`random float4 and float8 values [extra_float_digits ${efd}]`, async () => {
      for (const [inputs, pgType, duckType] of [
        [float4Inputs, 'float4', 'FLOAT'],
        [float8Inputs, 'float8', 'DOUBLE'],
      ] as const) {
        const theirs = await pgColumn(
          `SELECT v FROM unnest($1::${pgType}[]) WITH ORDINALITY t(v, i) ORDER BY i`,
          [`{${inputs.join(',')}}`],
          'UTC',
          efd,
        );
        const ours = await duckColumn(`SELECT unnest(string_split('${inputs.join(',')}', ',')::${duckType}[])`, 'UTC', efd);
        expectSame(inputs, ours, theirs);
      }
    });
  }

  it('random timestamps, timestamptz in several zones, dates', async () => {
    const secs: number[] = [];
    const micros: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const r = random() % 10;
      const [from, to] = r < 6 ? [1850, 2100] : r < 8 ? [1, 3000] : [-4000, 200000];
      const year = from + (random() % (to - from));
      secs.push(Math.round((year - 1970) * 365.2425 * 86400 + (random() % (366 * 86400))));
      micros.push(random() % 3 === 0 ? 0 : random() % 1_000_000);
    }
    const totals = secs.map((s, i) => (BigInt(s) * 1_000_000n + BigInt(micros[i]!)).toString());
    const params = [`{${secs.join(',')}}`, `{${micros.join(',')}}`];
    const instant =
      "('epoch'::timestamp + (s / 86400) * interval '1 day' + (s % 86400) * interval '1 second' + u * interval '1 microsecond')";
    const from = 'FROM unnest($1::int8[], $2::int8[]) WITH ORDINALITY t(s, u, i) ORDER BY i';
    const duckFrom = `FROM (SELECT unnest(string_split('${totals.join(',')}', ',')::BIGINT[]) x)`;
    expectSame(totals, await duckColumn(`SELECT make_timestamp(x) ${duckFrom}`), await pgColumn(`SELECT ${instant} ${from}`, params));
    expectSame(totals, await duckColumn(`SELECT make_timestamp(x)::DATE ${duckFrom}`), await pgColumn(`SELECT ${instant}::date ${from}`, params));
    for (const zone of ['UTC', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe']) {
      expectSame(
        totals,
        await duckColumn(`SELECT make_timestamp(x)::TIMESTAMPTZ ${duckFrom}`, zone),
        await pgColumn(`SELECT ${instant} AT TIME ZONE 'UTC' ${from}`, params, zone),
      );
    }
  });

  it('random intervals', async () => {
    const months: number[] = [];
    const days: number[] = [];
    const micros: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const zero = random() % 8;
      months.push(zero & 1 ? 0 : (random() % 2001) - 1000);
      days.push(zero & 2 ? 0 : (random() % 2001) - 1000);
      const t = (BigInt(random() % 2_000_000) * BigInt(random() % 100_000_000)) / BigInt(1 + (random() % 1000));
      micros.push(zero & 4 ? '0' : String(random() % 2 ? t : -t));
    }
    const inputs = months.map((m, i) => `${m} months ${days[i]} days ${micros[i]} us`);
    const theirs = await pgColumn(
      "SELECT make_interval(months => m::int, days => d::int) + t * interval '1 microsecond' FROM unnest($1::int8[], $2::int8[], $3::int8[]) WITH ORDINALITY x(m, d, t, i) ORDER BY i",
      [`{${months.join(',')}}`, `{${days.join(',')}}`, `{${micros.join(',')}}`],
    );
    const list = (xs: (string | number)[]): string => `string_split('${xs.join(',')}', ',')::BIGINT[]`;
    const ours = await duckColumn(
      `SELECT to_months(m::INTEGER) + to_days(d::INTEGER) + to_microseconds(t) FROM (SELECT unnest(${list(months)}) m, unnest(${list(days)}) d, unnest(${list(micros)}) t)`,
    );
    expectSame(inputs, ours, theirs);
  });

  it('random decimals', async () => {
    const inputs: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const digits = String(random()) + String(random());
      const v = digits.slice(0, 1 + (random() % 18));
      const scaled = v.length > 6 ? `${v.slice(0, -6)}.${v.slice(-6)}` : `0.${v.padStart(6, '0')}`;
      inputs.push(random() % 2 ? `-${scaled}` : scaled);
    }
    const theirs = await pgColumn('SELECT v FROM unnest($1::numeric(18,6)[]) WITH ORDINALITY t(v, i) ORDER BY i', [`{${inputs.join(',')}}`]);
    const ours = await duckColumn(`SELECT unnest(string_split('${inputs.join(',')}', ',')::DECIMAL(18,6)[])`);
    expectSame(inputs, ours, theirs);
  });

  it('random strings quoted inside arrays and records', async () => {
    const alphabet = ['a', 'b', ' ', ',', '"', '\\', '{', '}', '(', ')', 'N', 'U', 'L', 'n', 'u', 'l', '\t', '\n', 'é', '=', "'"];
    const rows: (string | null)[][] = [];
    for (let i = 0; i < 1500; i++) {
      const row: (string | null)[] = [];
      for (let j = 0; j < 3; j++) {
        if (random() % 10 === 0) row.push(null);
        else if (random() % 8 === 0) row.push(['NULL', 'null', 'Null', ''][random() % 4]!);
        else row.push(Array.from({ length: random() % 5 }, () => alphabet[random() % alphabet.length]).join(''));
      }
      rows.push(row);
    }
    const json = JSON.stringify(rows);
    const inputs = rows.map((r) => JSON.stringify(r));
    const duckRows = `(SELECT unnest('${json.replaceAll("'", "''")}'::JSON::VARCHAR[][]) AS x)`;
    expectSame(
      inputs,
      await duckColumn(`SELECT x FROM ${duckRows}`),
      await pgColumn(
        'SELECT (SELECT array_agg(e ORDER BY j) FROM json_array_elements_text(a) WITH ORDINALITY AS t(e, j)) FROM json_array_elements($1::json) WITH ORDINALITY AS r(a, i) ORDER BY i',
        [json],
      ),
    );
    expectSame(
      inputs,
      await duckColumn(`SELECT {'a': x[1], 'b': x[2], 'c': x[3]} FROM ${duckRows}`),
      await pgColumn('SELECT ROW(a->>0, a->>1, a->>2) FROM json_array_elements($1::json) WITH ORDINALITY AS r(a, i) ORDER BY i', [json]),
    );
  });
});

/** Small deterministic PRNG (mulberry32): unsigned 32-bit integers. */
function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return (t ^ (t >>> 14)) >>> 0;
  };
}
