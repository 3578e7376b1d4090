import { describe, expect, it } from 'vitest';
import { DECIMAL, INTEGER, VARCHAR } from '@duckdb/node-api';
import { castForDeclaredType, castForInferredType, castsForValues, decodeParam, type ParamValue } from './params.js';
import { PG_OID as O } from './pgTypes.js';

const ctx = { timeZone: 'UTC' };
const text = (oid: number, s: string, timeZone = 'UTC') => decodeParam(oid, 0, Buffer.from(s, 'utf8'), 1, { timeZone });
const binary = (oid: number, hex: string) => decodeParam(oid, 1, Buffer.from(hex.replace(/\s+/g, ''), 'hex'), 1, ctx);

/** The value in a comparable form: bigints and DuckDB value fields as strings. */
function plain(p: ParamValue): unknown {
  if (p.type === 'null') return null;
  const v = p.value as unknown;
  if (typeof v !== 'object' || v === null) return typeof v === 'bigint' ? `${v}n` : v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  const o = v as { toString(): string } & Record<string, unknown>;
  if ('days' in o && !('months' in o)) return { days: o.days };
  if ('micros' in o && !('months' in o)) return { micros: String(o.micros) };
  if ('months' in o) return { months: o.months, days: o.days, micros: String(o.micros) };
  if ('width' in o) return { value: String(o.value), width: o.width, scale: o.scale };
  return o.toString();
}
const expectValue = (p: ParamValue, type: string, value: unknown) => {
  expect(p.type).toBe(type);
  expect(plain(p)).toEqual(value);
};

async function code(f: () => unknown): Promise<string> {
  try {
    f();
  } catch (e) {
    return (e as { code: string }).code;
  }
  return 'no error';
}

describe('text parameters, in PostgreSQL\'s input syntax', () => {
  it('bool', async () => {
    for (const s of ['t', 'TRUE', ' yes ', 'on', '1', 'y', 'tr']) expectValue(text(O.bool, s), 'boolean', true);
    for (const s of ['f', 'false', 'no', 'off', '0', 'of', 'n']) expectValue(text(O.bool, s), 'boolean', false);
    for (const s of ['o', '', 'maybe', '2']) expect(await code(() => text(O.bool, s))).toBe('22P02');
  });

  it('int2, int4, int8 with ranges, spaces, underscores and 0x/0o/0b', async () => {
    expectValue(text(O.int2, ' -32768 '), 'smallint', -32768);
    expectValue(text(O.int4, '2147483647'), 'integer', 2147483647);
    expectValue(text(O.int4, '1_000'), 'integer', 1000);
    expectValue(text(O.int4, '0x1F'), 'integer', 31);
    expectValue(text(O.int4, '-0o17'), 'integer', -15);
    expectValue(text(O.int4, '0b101'), 'integer', 5);
    expectValue(text(O.int8, '-9223372036854775808'), 'bigint', '-9223372036854775808n');
    expect(await code(() => text(O.int2, '32768'))).toBe('22003');
    expect(await code(() => text(O.int4, '2147483648'))).toBe('22003');
    expect(await code(() => text(O.int8, '9223372036854775808'))).toBe('22003');
    for (const s of ['1.5', 'abc', '', '1__0', '_1', '1 2']) expect(await code(() => text(O.int4, s)), s).toBe('22P02');
  });

  it('float4, float8 with NaN and the infinities', async () => {
    expectValue(text(O.float8, '1.5e3'), 'double', 1500);
    expectValue(text(O.float8, '-Infinity'), 'double', -Infinity);
    expectValue(text(O.float8, 'inf'), 'double', Infinity);
    expect(Number.isNaN(plain(text(O.float8, 'NaN')))).toBe(true);
    expectValue(text(O.float4, '0.1'), 'float', Math.fround(0.1));
    expect(await code(() => text(O.float8, '1e400'))).toBe('22003');
    expect(await code(() => text(O.float4, '1e39'))).toBe('22003');
    for (const s of ['', 'x', '0x10', '1e']) expect(await code(() => text(O.float8, s)), s).toBe('22P02');
  });

  it('numeric: a DECIMAL of the digits given, NaN and infinities as double', async () => {
    expectValue(text(O.numeric, '123.450'), 'decimal', { value: '123450', width: 6, scale: 3 });
    expectValue(text(O.numeric, '-0.05'), 'decimal', { value: '-5', width: 2, scale: 2 });
    expectValue(text(O.numeric, '1.5e3'), 'decimal', { value: '1500', width: 4, scale: 0 });
    expectValue(text(O.numeric, '12e-3'), 'decimal', { value: '12', width: 3, scale: 3 });
    expectValue(text(O.numeric, '.5'), 'decimal', { value: '5', width: 1, scale: 1 });
    expectValue(text(O.numeric, '0'), 'decimal', { value: '0', width: 1, scale: 0 });
    // 40 significant digits: the fraction is rounded to fit DuckDB's 38.
    expectValue(text(O.numeric, '1.234567890123456789012345678901234567891'), 'decimal', {
      value: '12345678901234567890123456789012345679', width: 38, scale: 37,
    });
    expectValue(text(O.numeric, 'Infinity'), 'double', Infinity);
    expect(await code(() => text(O.numeric, '1'.repeat(39)))).toBe('22003');
    for (const s of ['', '.', '1.2.3', 'e5', '1e']) expect(await code(() => text(O.numeric, s)), s).toBe('22P02');
  });

  it('date: days since 1970-01-01, BC, infinities', async () => {
    expectValue(text(O.date, '2024-01-02'), 'date', { days: 19724 });
    expectValue(text(O.date, '1970-01-01'), 'date', { days: 0 });
    expectValue(text(O.date, '0001-01-01 BC'), 'date', { days: -719528 });
    expectValue(text(O.date, 'infinity'), 'date', { days: 2 ** 31 - 1 });
    expectValue(text(O.date, '-infinity'), 'date', { days: -(2 ** 31 - 1) });
    expectValue(text(O.date, '2024-02-29 13:00'), 'date', { days: 19782 });
    expect(await code(() => text(O.date, '2023-02-29'))).toBe('22008');
    expect(await code(() => text(O.date, '2024-13-01'))).toBe('22008');
    expect(await code(() => text(O.date, 'yesterday-ish'))).toBe('22P02');
  });

  it('time: microseconds since midnight', async () => {
    expectValue(text(O.time, '01:02:03.5'), 'time', { micros: '3723500000' });
    expectValue(text(O.time, '24:00:00'), 'time', { micros: '86400000000' });
    expectValue(text(O.time, '2024-01-02 04:05'), 'time', { micros: String(4 * 3600e6 + 5 * 60e6) });
    expect(await code(() => text(O.time, '25:00'))).toBe('22008');
    expect(await code(() => text(O.time, '12:60'))).toBe('22008');
  });

  it('timestamp: the zone in the text is ignored', () => {
    const micros = String(19724n * 86_400_000_000n + 3_723_000_001n);
    expectValue(text(O.timestamp, '2024-01-02 01:02:03.000001'), 'timestamp', { micros });
    expectValue(text(O.timestamp, '2024-01-02T01:02:03.000001+05'), 'timestamp', { micros });
    expectValue(text(O.timestamp, 'infinity'), 'timestamp', { micros: String(2n ** 63n - 1n) });
  });

  it('timestamptz: offsets, zone names, and the session TimeZone when none is given', () => {
    const utc = 19724n * 86_400_000_000n + 3_723_000_000n; // 2024-01-02 01:02:03 UTC
    const at = (s: string, zone = 'UTC') => plain(text(O.timestamptz, s, zone));
    expect(at('2024-01-02 01:02:03+00')).toEqual({ micros: String(utc) });
    expect(at('2024-01-02T01:02:03Z')).toEqual({ micros: String(utc) });
    expect(at('2024-01-02T01:02:03.000Z')).toEqual({ micros: String(utc) });
    expect(at('2024-01-02 03:02:03+02:00')).toEqual({ micros: String(utc) });
    expect(at('2024-01-02 06:32:03+0530')).toEqual({ micros: String(utc) });
    expect(at('2024-01-01 20:02:03-05')).toEqual({ micros: String(utc) });
    expect(at('2024-01-02 02:02:03 Europe/Paris')).toEqual({ micros: String(utc) });
    expect(at('2024-01-02 02:02:03', 'Europe/Paris')).toEqual({ micros: String(utc) });
    // PostgreSQL: a time skipped by a jump forward takes the offset from before it
    // (02:30 EST = 07:30 UTC); an ambiguous one the offset after it (01:30 EST = 06:30 UTC).
    const ny = (s: string) => BigInt((at(s, 'America/New_York') as { micros: string }).micros);
    expect(ny('2024-03-10 02:30')).toBe(BigInt(Date.UTC(2024, 2, 10, 7, 30)) * 1000n);
    expect(ny('2024-11-03 01:30')).toBe(BigInt(Date.UTC(2024, 10, 3, 6, 30)) * 1000n);
    expect(ny('2024-07-01 12:00')).toBe(BigInt(Date.UTC(2024, 6, 1, 16, 0)) * 1000n);
  });

  it('interval: postgres style, ISO 8601, ago, fractions', async () => {
    expectValue(text(O.interval, '1 year 2 mons 3 days 04:05:06.7'), 'interval', { months: 14, days: 3, micros: String(14706700000) });
    expectValue(text(O.interval, '-1 days +02:00:00'), 'interval', { months: 0, days: -1, micros: String(7200e6) });
    expectValue(text(O.interval, '@ 3 hours ago'), 'interval', { months: 0, days: 0, micros: String(-3 * 3600e6) });
    expectValue(text(O.interval, 'P1Y2M3DT4H5M6S'), 'interval', { months: 14, days: 3, micros: String(14706e6) });
    expectValue(text(O.interval, '1.5 days'), 'interval', { months: 0, days: 1, micros: String(12 * 3600e6) });
    expectValue(text(O.interval, '1 12:00:00'), 'interval', { months: 0, days: 1, micros: String(12 * 3600e6) });
    expectValue(text(O.interval, '90'), 'interval', { months: 0, days: 0, micros: String(90e6) });
    expectValue(text(O.interval, '2 weeks'), 'interval', { months: 0, days: 14, micros: '0' });
    for (const s of ['', 'soon', '1 fortnight', 'P', 'PT']) expect(await code(() => text(O.interval, s)), s).toBe('22P02');
  });

  it('uuid, bytea, and text as it is', async () => {
    const u = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
    for (const s of [u, u.toUpperCase(), `{${u}}`, u.replace(/-/g, ''), 'a0eebc999c0b4ef8-bb6d-6bb9-bd38-0a11']) {
      expectValue(text(O.uuid, s), 'uuid', u);
    }
    expect(await code(() => text(O.uuid, 'a0eebc99-9c0b'))).toBe('22P02');
    expectValue(text(O.bytea, '\\x00ff 10'), 'blob', '00ff10');
    expectValue(text(O.bytea, 'a\\\\b\\001'), 'blob', '615c6201');
    expect(await code(() => text(O.bytea, '\\x0'))).toBe('22023');
    expectValue(text(O.text, 'it\'s'), 'varchar', 'it\'s');
    expectValue(text(O.json, '{"a":1}'), 'varchar', '{"a":1}');
    expectValue(text(O.timetz, '01:02:03+02'), 'varchar', '01:02:03+02');
    expect(decodeParam(O.int4, 0, null, 1, ctx)).toEqual({ type: 'null' });
  });
});

describe('array parameters, in PostgreSQL\'s array input syntax', () => {
  const list = (oid: number, s: string) => {
    const p = text(oid, s);
    if (p.type !== 'list') throw new Error(`not a list: ${p.type}`);
    return { type: p.listType.toString(), items: JSON.parse(JSON.stringify(p.value.items, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))) as unknown };
  };

  it('decodes elements by the element type, NULL and quoting included', async () => {
    expect(list(O._int4, '{1, 2,NULL , -3}')).toEqual({ type: 'INTEGER[]', items: [1, 2, null, -3] });
    expect(list(O._int8, '{"1","2"}')).toEqual({ type: 'BIGINT[]', items: ['1n', '2n'] });
    expect(list(O._text, '{a,"b c","d\\"e",\\,x,"NULL",NULL,y}')).toEqual({
      type: 'VARCHAR[]', items: ['a', 'b c', 'd"e', ',x', 'NULL', null, 'y'],
    });
    expect(list(O._int4, '{{1,2},{3,4}}')).toEqual({ type: 'INTEGER[][]', items: [{ items: [1, 2] }, { items: [3, 4] }] });
    expect(list(O._int4, '[0:1]={5,6}')).toEqual({ type: 'INTEGER[]', items: [5, 6] });
    expect(list(O._numeric, '{1.5,2.25,3}')).toEqual({
      type: 'DECIMAL(38,2)[]',
      items: [{ width: 38, scale: 2, value: '150n' }, { width: 38, scale: 2, value: '225n' }, { width: 38, scale: 2, value: '300n' }],
    });
    expect(list(O._int4, '{}')).toEqual({ type: 'INTEGER[]', items: [] });
    for (const bad of ['{1,2', '1,2}', '{1,,2}', '{{1},2}', '{1}x', '{"a}']) expect(await code(() => text(O._int4, bad)), bad).toBe('22P02');
    expect(await code(() => text(O._int4, '{1,x}'))).toBe('22P02');
    expect(list(O._int4, '{{{{{{1}}}}}}').type).toBe('INTEGER[][][][][][]');
    expect(await code(() => text(O._int4, '{{{{{{{1}}}}}}}'))).toBe('54000');
    // Refused before it is parsed: a parser that recursed a level per brace would overflow its stack.
    expect(() => text(O._int4, '{'.repeat(200_000) + '1' + '}'.repeat(200_000))).toThrow('number of array dimensions (7) exceeds the maximum allowed (6)');
    expect(list(O._text, '{"{{{{{{{",a' + '\\{'.repeat(7) + '}')).toEqual({ type: 'VARCHAR[]', items: ['{{{{{{{', 'a{{{{{{{'] });
  });
});

describe('binary array parameters, in array_recv\'s format', () => {
  const int32 = (...ns: number[]) => ns.map((n) => (n >>> 0).toString(16).padStart(8, '0')).join('');
  const list = (oid: number, hex: string) => {
    const p = binary(oid, hex);
    if (p.type !== 'list') throw new Error(`not a list: ${p.type}`);
    return { type: p.listType.toString(), items: JSON.parse(JSON.stringify(p.value.items, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))) as unknown };
  };

  it('decodes dimensions, NULLs and elements in their binary format', () => {
    // ndim, has-NULLs, element OID, (size, lower bound) per dimension, then (length, bytes) per element.
    expect(list(O._int4, int32(1, 0, 23, 3, 1, 4, 1, 4, 2, 4, 3))).toEqual({ type: 'INTEGER[]', items: [1, 2, 3] });
    expect(list(O._int4, int32(2, 1, 23, 2, 1, 2, 0, 4, 1, -1, 4, 3, 4, 4))).toEqual({ type: 'INTEGER[][]', items: [{ items: [1, null] }, { items: [3, 4] }] });
    expect(list(O._int4, int32(0, 0, 23))).toEqual({ type: 'INTEGER[]', items: [] });
    expect(list(O._int4, int32(2, 0, 23, 0, 1, 3, 1))).toEqual({ type: 'INTEGER[]', items: [] });
    expect(list(O._text, int32(1, 1, 25, 2, 1, 2) + '6869' + int32(-1))).toEqual({ type: 'VARCHAR[]', items: ['hi', null] });
    expect(list(O._int8, int32(1, 0, 20, 1, 1, 8) + 'fffffffffffffffe')).toEqual({ type: 'BIGINT[]', items: ['-2n'] });
    // numeric elements 1.5 (dscale 1) and 2.25 (dscale 2): one scale for the list.
    expect(list(O._numeric, int32(1, 0, 1700, 2, 1, 12) + '0002000000000001' + '00011388' + int32(12) + '0002000000000002' + '000209c4')).toEqual({
      type: 'DECIMAL(38,2)[]',
      items: [{ width: 38, scale: 2, value: '150n' }, { width: 38, scale: 2, value: '225n' }],
    });
    expect(castsForValues(['INTEGER[]'], [binary(O._int4, int32(2, 0, 23, 1, 1, 1, 1, 4, 7))])).toEqual(['INTEGER[][]']);
  });

  it('refuses what array_recv refuses, with its SQLSTATEs', async () => {
    expect(await code(() => binary(O._int4, int32(1, 0, 20, 1, 1, 8, 0, 1)))).toBe('42804'); // int8 elements for int4[]
    expect(await code(() => binary(O._int4, int32(7, 0, 23, ...Array(14).fill(1))))).toBe('54000');
    expect(await code(() => binary(O._int4, int32(-1, 0, 23)))).toBe('22P03');
    expect(await code(() => binary(O._int4, int32(1, 2, 23, 1, 1, 4, 1)))).toBe('22P03'); // flags
    expect(await code(() => binary(O._int4, int32(1, 0, 23, 1000000, 1, 4, 1)))).toBe('22P03'); // more elements than bytes
    expect(await code(() => binary(O._int4, int32(1, 0, 23, 1, 1, 4, 1, 0)))).toBe('22P03'); // trailing bytes
    expect(await code(() => binary(O._int4, int32(1, 0, 23, 1, 1, 2) + '0001'))).toBe('22P03'); // a 2-byte int4
    expect(await code(() => binary(O._int4, int32(1, 0, 23, 2, 2147483647, 4, 1, 4, 2)))).toBe('22003'); // upper bound past int4
    expect(await code(() => binary(O._int4, '00'))).toBe('22P03');
  });
});

describe('the casts of declared parameters', () => {
  it('casts scalars to their type, numeric to DECIMAL(38,0) until a value is bound, arrays to lists of the element\'s cast', () => {
    expect([O.int4, O.timestamptz, O.text, O.varchar, O.json, O.timetz, O.unknown].map(castForDeclaredType)).toEqual([
      'INTEGER', 'TIMESTAMP WITH TIME ZONE', null, null, null, null, null,
    ]);
    expect([O.numeric, O._numeric, O._int4, O._text, O._timestamptz, O._bytea, O._json, O._timetz, O._oid].map(castForDeclaredType)).toEqual([
      'DECIMAL(38,0)', 'DECIMAL(38,0)[]', 'INTEGER[]', 'VARCHAR[]', 'TIMESTAMP WITH TIME ZONE[]', 'BLOB[]', 'VARCHAR[]', 'VARCHAR[]', 'VARCHAR[]',
    ]);
    // int2vector and oidvector are arrays in pg_type, but not of the array input syntax.
    expect([O.int2vector, O.oidvector].map(castForDeclaredType)).toEqual([null, null]);
  });

  it('types an undeclared parameter DuckDB cannot type as text, and one it reads as a DECIMAL as numeric', () => {
    expect([null, DECIMAL(12, 4), INTEGER, VARCHAR].map(castForInferredType)).toEqual(['VARCHAR', 'DECIMAL(38,0)', null, null]);
  });

  it('follows the bound value: a numeric\'s scale, an array\'s dimensions and element scale', () => {
    const parse = ['DECIMAL(38,0)', 'DECIMAL(38,0)', 'DECIMAL(38,0)', 'INTEGER[]', 'INTEGER[]', 'DECIMAL(38,0)[]', 'DECIMAL(38,0)[]', 'VARCHAR[]', 'INTEGER', null, 'VARCHAR'];
    const values = [
      text(O.numeric, '1.50'), text(O.numeric, 'NaN'), decodeParam(O.numeric, 0, null, 1, ctx), text(O._int4, '{{1},{2}}'), decodeParam(O._int4, 0, null, 1, ctx),
      text(O._numeric, '{1.5,2.125}'), text(O._numeric, '{1,Infinity}'), text(O._text, '{}'), text(O.int4, '1'), text(O.text, 'x'), text(O.text, 'y'),
    ];
    expect(castsForValues(parse, values)).toEqual([
      'DECIMAL(38,2)', 'DOUBLE', 'DECIMAL(38,0)', 'INTEGER[][]', 'INTEGER[]', 'DECIMAL(38,3)[]', 'DOUBLE[]', 'VARCHAR[]', 'INTEGER', null, 'VARCHAR',
    ]);
    expect(castsForValues(['DECIMAL(38,0)'], [binary(O.numeric, '0003 0001 4000 0003 000c 0d80 1ed2')])).toEqual(['DECIMAL(38,3)']);
  });
});

describe('binary parameters, in PostgreSQL\'s *_recv formats', () => {
  it('decodes each supported type from bytes written out by hand', () => {
    expectValue(binary(O.bool, '01'), 'boolean', true);
    expectValue(binary(O.int2, 'fffe'), 'smallint', -2);
    expectValue(binary(O.int4, '01020304'), 'integer', 0x01020304);
    expectValue(binary(O.int8, 'fffffffffffffffe'), 'bigint', '-2n');
    expectValue(binary(O.float4, '3fc00000'), 'float', 1.5);
    expectValue(binary(O.float8, 'c004000000000000'), 'double', -2.5);
    expectValue(binary(O.numeric, '0003 0001 4000 0003 000c 0d80 1ed2'), 'decimal', { value: '-123456789', width: 9, scale: 3 });
    expectValue(binary(O.numeric, '0001 0001 0000 0000 0001'), 'decimal', { value: '10000', width: 5, scale: 0 });
    expectValue(binary(O.numeric, '0000 0000 0000 0002'), 'decimal', { value: '0', width: 2, scale: 2 });
    expectValue(binary(O.numeric, '0000 0000 c000 0000'), 'double', NaN);
    expectValue(binary(O.numeric, '0000 0000 f000 0000'), 'double', -Infinity);
    expectValue(binary(O.date, '0000223f'), 'date', { days: 19724 });
    expectValue(binary(O.date, '7fffffff'), 'date', { days: 2 ** 31 - 1 });
    expectValue(binary(O.time, '00000000dde878c1'), 'time', { micros: '3723000001' });
    expectValue(binary(O.timestamp, '0000000000000001'), 'timestamp', { micros: '946684800000001' });
    expectValue(binary(O.timestamptz, 'fffca2fec4c82000'), 'timestamptz', { micros: '0' });
    expectValue(binary(O.timestamptz, '8000000000000000'), 'timestamptz', { micros: String(-(2n ** 63n - 1n)) });
    expectValue(binary(O.interval, '00000000003d0905 00000003 0000000e'), 'interval', { months: 14, days: 3, micros: '4000005' });
    expectValue(binary(O.uuid, '0123456789abcdeffedcba9876543210'), 'uuid', '01234567-89ab-cdef-fedc-ba9876543210');
    expectValue(binary(O.bytea, '00ff'), 'blob', '00ff');
    expectValue(binary(O.text, '68c3a9'), 'varchar', 'hé');
    expectValue(binary(O.varchar, '61'), 'varchar', 'a');
    expectValue(binary(O.jsonb, '01 7b7d'), 'varchar', '{}');
  });

  it('refuses a wrong length (22P03) and a type without a binary input here (0A000)', async () => {
    expect(await code(() => binary(O.int4, '0001'))).toBe('22P03');
    expect(await code(() => binary(O.int8, '01'))).toBe('22P03');
    expect(await code(() => binary(O.numeric, '0002 0000 0000 0000 0001'))).toBe('22P03');
    expect(await code(() => binary(O.timetz, '00'))).toBe('0A000');
    expect(await code(() => binary(O._timetz, '00'))).toBe('0A000');
    expect(await code(() => binary(O.text, 'ff'))).toBe('08P01');
  });
});
