import {
  ARRAY,
  BIGINT,
  BIGNUM,
  BIT,
  BLOB,
  BOOLEAN,
  DATE,
  DECIMAL,
  DOUBLE,
  DuckDBBitValue,
  DuckDBUUIDValue,
  DuckDBVarCharType,
  ENUM,
  FLOAT,
  GEOMETRY,
  HUGEINT,
  INTEGER,
  INTERVAL,
  LIST,
  MAP,
  SMALLINT,
  SQLNULL,
  STRUCT,
  TIME,
  TIME_NS,
  TIMESTAMP,
  TIMESTAMP_MS,
  TIMESTAMP_NS,
  TIMESTAMP_S,
  TIMESTAMPTZ,
  TIMETZ,
  TINYINT,
  UBIGINT,
  UHUGEINT,
  UINTEGER,
  UNION,
  USMALLINT,
  UTINYINT,
  UUID,
  VARCHAR,
  VARIANT,
  arrayValue,
  blobValue,
  dateValue,
  decimalValue,
  geometryValue,
  intervalValue,
  listValue,
  mapValue,
  structValue,
  timeNSValue,
  timeTZValue,
  timeValue,
  timestampMillisValue,
  timestampNanosValue,
  timestampSecondsValue,
  timestampTZValue,
  timestampValue,
  unionValue,
  variantValue,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { PG_OID, PG_TYPES, pgFieldTypeFor, pgTypeByOid } from './pgTypes.js';
import {
  decimalText,
  float4ShortestText,
  float8ShortestText,
  intervalText,
  textEncoderFor,
  type TextFormatSettings,
} from './textFormat.js';

const UTC: TextFormatSettings = { timeZone: 'UTC', extraFloatDigits: 1 };
const enc = (type: DuckDBType, value: DuckDBValue, settings: TextFormatSettings = UTC): string =>
  textEncoderFor(type, settings)(value);
const JSON_TYPE = DuckDBVarCharType.create('JSON');
const INT64_MAX = 2n ** 63n - 1n;

describe('pgFieldTypeFor', () => {
  it.each([
    [BOOLEAN, 16, 1],
    [TINYINT, 21, 2],
    [SMALLINT, 21, 2],
    [UTINYINT, 21, 2],
    [INTEGER, 23, 4],
    [USMALLINT, 23, 4],
    [BIGINT, 20, 8],
    [UINTEGER, 20, 8],
    [HUGEINT, 1700, -1],
    [UBIGINT, 1700, -1],
    [UHUGEINT, 1700, -1],
    [BIGNUM, 1700, -1],
    [FLOAT, 700, 4],
    [DOUBLE, 701, 8],
    [VARCHAR, 25, -1],
    [JSON_TYPE, 114, -1],
    [ENUM(['a', 'b']), 25, -1],
    [BLOB, 17, -1],
    [DATE, 1082, 4],
    [TIME, 1083, 8],
    [TIME_NS, 1083, 8],
    [TIMETZ, 1266, 12],
    [TIMESTAMP, 1114, 8],
    [TIMESTAMP_S, 1114, 8],
    [TIMESTAMP_MS, 1114, 8],
    [TIMESTAMP_NS, 1114, 8],
    [TIMESTAMPTZ, 1184, 8],
    [INTERVAL, 1186, 16],
    [UUID, 2950, 16],
    [BIT, 1562, -1],
    [STRUCT({ a: INTEGER }), 2249, -1],
    [MAP(VARCHAR, INTEGER), 25, -1],
    [UNION({ a: INTEGER }), 25, -1],
    [VARIANT, 25, -1],
    [GEOMETRY, 25, -1],
    [SQLNULL, 25, -1],
  ] as [DuckDBType, number, number][])('%s -> oid %i', (type, oid, typlen) => {
    const f = pgFieldTypeFor(type);
    expect(f.oid).toBe(oid);
    expect(f.typlen).toBe(typlen);
    expect(f.name).toBe(pgTypeByOid(oid)!.name);
  });

  it('gives numeric its precision and scale as typmod', () => {
    expect(pgFieldTypeFor(DECIMAL(10, 2))).toEqual({ oid: 1700, typlen: -1, typmod: (10 << 16) + 2 + 4, name: 'numeric' });
    expect(pgFieldTypeFor(DECIMAL(38, 38)).typmod).toBe((38 << 16) + 38 + 4);
    expect(pgFieldTypeFor(INTEGER).typmod).toBe(-1);
  });

  it.each([
    [LIST(BOOLEAN), 1000],
    [LIST(SMALLINT), 1005],
    [LIST(INTEGER), 1007],
    [LIST(BIGINT), 1016],
    [LIST(VARCHAR), 1009],
    [LIST(FLOAT), 1021],
    [LIST(DOUBLE), 1022],
    [LIST(HUGEINT), 1231],
    [LIST(DATE), 1182],
    [LIST(TIME), 1183],
    [LIST(TIMESTAMP), 1115],
    [LIST(TIMESTAMPTZ), 1185],
    [LIST(INTERVAL), 1187],
    [LIST(UUID), 2951],
    [LIST(BLOB), 1001],
    [LIST(JSON_TYPE), 199],
    [LIST(BIT), 1563],
    [LIST(TIMETZ), 1270],
    [LIST(LIST(INTEGER)), 1007],
    [ARRAY(LIST(ARRAY(DOUBLE, 2)), 3), 1022],
    [LIST(STRUCT({ a: INTEGER })), 2287],
    [LIST(MAP(VARCHAR, VARCHAR)), 1009],
    [LIST(ENUM(['x'])), 1009],
  ] as [DuckDBType, number][])('%s -> array oid %i', (type, oid) => {
    expect(pgFieldTypeFor(type).oid).toBe(oid);
    expect(pgFieldTypeFor(type).typlen).toBe(-1);
  });

  it('keeps the element typmod on arrays of numeric', () => {
    expect(pgFieldTypeFor(LIST(DECIMAL(10, 2)))).toEqual({ oid: 1231, typlen: -1, typmod: 655366, name: '_numeric' });
  });
});

describe('PG_TYPES', () => {
  it('has unique oids and names, and consistent array links', () => {
    expect(new Set(PG_TYPES.map((t) => t.oid)).size).toBe(PG_TYPES.length);
    expect(new Set(PG_TYPES.map((t) => t.name)).size).toBe(PG_TYPES.length);
    for (const t of PG_TYPES) {
      if (t.arrayOid !== 0) {
        const arr = pgTypeByOid(t.arrayOid);
        expect(arr, `${t.name}[]`).toBeDefined();
        expect(arr!.elementOid).toBe(t.oid);
        expect(arr!.name).toBe(`_${t.name}`);
      }
    }
  });

  it('holds the catalogue types clients ask about', () => {
    for (const [name, oid] of Object.entries({
      name: 19, oid: 26, char: 18, regclass: 2205, regtype: 2206, regproc: 24, int2vector: 22,
      oidvector: 30, unknown: 705, void: 2278, varchar: 1043, bpchar: 1042, record: 2249,
    })) {
      expect(PG_OID[name as keyof typeof PG_OID]).toBe(oid);
    }
    expect(pgTypeByOid(19)).toMatchObject({ typlen: 64, category: 'S', elementOid: 18 });
  });
});

describe('floats', () => {
  it.each([
    [0.1, '0.1'],
    [1 / 3, '0.3333333333333333'],
    [1e-7, '1e-07'],
    [1e15, '1e+15'],
    [1e16, '1e+16'],
    [1e20, '1e+20'],
    [1.5e300, '1.5e+300'],
    [123456789.125, '123456789.125'],
    [-0, '-0'],
    [0, '0'],
    [NaN, 'NaN'],
    [Infinity, 'Infinity'],
    [-Infinity, '-Infinity'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [5e-324, '5e-324'],
    [999999999999999.9, '999999999999999.9'],
    // Ryu never uses an exact midpoint: JS would print 2.406293892447319e+16 here
    [-24062938924473192, '-2.4062938924473192e+16'],
  ])('float8 %d -> %s', (x, text) => {
    expect(float8ShortestText(x)).toBe(text);
    expect(enc(DOUBLE, x)).toBe(text);
  });

  it.each([
    [0.1, '0.1'],
    [1 / 3, '0.33333334'],
    [1e-7, '1e-07'],
    [1e16, '1e+16'],
    [123456.7, '123456.7'],
    [1234567, '1.234567e+06'],
    [123456789.125, '1.2345679e+08'],
    [3.4028234663852886e38, '3.4028235e+38'],
    [1e-45, '1e-45'],
    [0.0009765625, '0.0009765625'],
    [-0, '-0'],
    [NaN, 'NaN'],
    // an exact tie between two 8-digit candidates: PostgreSQL picks the even one
    [1583254.25, '1.5832542e+06'],
    // the shortest candidate would be an exact midpoint: PostgreSQL takes one more digit
    [77700176, '7.7700176e+07'],
  ])('float4 %d -> %s', (x, text) => {
    expect(float4ShortestText(Math.fround(x))).toBe(text);
    expect(enc(FLOAT, Math.fround(x))).toBe(text);
  });

  it('uses printf %g with extra_float_digits <= 0', () => {
    const efd0 = { timeZone: 'UTC', extraFloatDigits: 0 };
    expect(enc(DOUBLE, 1 / 3, efd0)).toBe('0.333333333333333');
    expect(enc(FLOAT, Math.fround(1 / 3), efd0)).toBe('0.333333');
    expect(enc(FLOAT, Math.fround(1 / 3), { timeZone: 'UTC', extraFloatDigits: -3 })).toBe('0.333');
    expect(enc(DOUBLE, -0, efd0)).toBe('-0');
  });
});

describe('integers and numeric', () => {
  it('prints integers of every width', () => {
    expect(enc(TINYINT, -128)).toBe('-128');
    expect(enc(UINTEGER, 4294967295)).toBe('4294967295');
    expect(enc(BIGINT, -(2n ** 63n))).toBe('-9223372036854775808');
    expect(enc(UHUGEINT, 2n ** 128n - 1n)).toBe('340282366920938463463374607431768211455');
    expect(enc(BIGNUM, -(10n ** 50n))).toBe('-1' + '0'.repeat(50));
  });

  it.each([
    [150n, 2, '1.50'],
    [-150n, 2, '-1.50'],
    [0n, 2, '0.00'],
    [0n, 0, '0'],
    [-1n, 3, '-0.001'],
    [5n, 1, '0.5'],
    [-(10n ** 37n), 38, '-0.10000000000000000000000000000000000000'],
    [12345678901234567890123n, 3, '12345678901234567890.123'],
  ])('decimal %s scale %i -> %s', (value, scale, text) => {
    expect(decimalText(value, scale)).toBe(text);
    expect(enc(DECIMAL(38, scale), decimalValue(value, 38, scale))).toBe(text);
  });
});

describe('dates and times', () => {
  it('prints dates, BC dates, big years and infinities', () => {
    expect(enc(DATE, dateValue(0))).toBe('1970-01-01');
    expect(enc(DATE, dateValue(-719162))).toBe('0001-01-01');
    expect(enc(DATE, dateValue(-719163))).toBe('0001-12-31 BC');
    expect(enc(DATE, dateValue(-735160))).toBe('0044-03-15 BC');
    expect(enc(DATE, dateValue(3789391))).toBe('12345-01-01');
    expect(enc(DATE, dateValue(2 ** 31 - 1))).toBe('infinity');
    expect(enc(DATE, dateValue(-(2 ** 31 - 1)))).toBe('-infinity');
  });

  it('prints times', () => {
    expect(enc(TIME, timeValue(0n))).toBe('00:00:00');
    expect(enc(TIME, timeValue(45_930_500_000n))).toBe('12:45:30.5');
    expect(enc(TIME, timeValue(86_399_999_999n))).toBe('23:59:59.999999');
    expect(enc(TIME, timeValue(86_400_000_000n))).toBe('24:00:00');
    expect(enc(TIME_NS, timeNSValue(3_723_123_456_789n))).toBe('01:02:03.123456');
    expect(enc(TIMETZ, timeTZValue(3_723_000_000n, 19800))).toBe('01:02:03+05:30');
    expect(enc(TIMETZ, timeTZValue(0n, -8 * 3600))).toBe('00:00:00-08');
    expect(enc(TIMETZ, timeTZValue(0n, 19270))).toBe('00:00:00+05:21:10');
    expect(enc(TIMETZ, timeTZValue(0n, 0))).toBe('00:00:00+00');
  });

  it('prints timestamps of every precision', () => {
    expect(enc(TIMESTAMP, timestampValue(0n))).toBe('1970-01-01 00:00:00');
    expect(enc(TIMESTAMP, timestampValue(-1n))).toBe('1969-12-31 23:59:59.999999');
    expect(enc(TIMESTAMP, timestampValue(1_709_214_330_120_000n))).toBe('2024-02-29 13:45:30.12');
    expect(enc(TIMESTAMP, timestampValue(-62_135_596_801_000_000n))).toBe('0001-12-31 23:59:59 BC');
    expect(enc(TIMESTAMP, timestampValue(327_403_382_400_000_000n))).toBe('12345-01-01 00:00:00');
    expect(enc(TIMESTAMP, timestampValue(INT64_MAX))).toBe('infinity');
    expect(enc(TIMESTAMP, timestampValue(-INT64_MAX))).toBe('-infinity');
    expect(enc(TIMESTAMP_S, timestampSecondsValue(1_577_836_801n))).toBe('2020-01-01 00:00:01');
    expect(enc(TIMESTAMP_S, timestampSecondsValue(INT64_MAX))).toBe('infinity');
    expect(enc(TIMESTAMP_MS, timestampMillisValue(1_577_836_801_500n))).toBe('2020-01-01 00:00:01.5');
    expect(enc(TIMESTAMP_MS, timestampMillisValue(-INT64_MAX))).toBe('-infinity');
    expect(enc(TIMESTAMP_NS, timestampNanosValue(1_577_836_800_123_456_789n))).toBe('2020-01-01 00:00:00.123456');
    expect(enc(TIMESTAMP_NS, timestampNanosValue(-1n))).toBe('1969-12-31 23:59:59.999999');
  });

  it('prints timestamptz in the session time zone', () => {
    const ny = { timeZone: 'America/New_York', extraFloatDigits: 1 };
    const kolkata = { timeZone: 'Asia/Kolkata', extraFloatDigits: 1 };
    const t = (iso: string): bigint => BigInt(Date.parse(iso)) * 1000n;
    expect(enc(TIMESTAMPTZ, timestampTZValue(t('2020-01-01T00:00:00.5Z')))).toBe('2020-01-01 00:00:00.5+00');
    expect(enc(TIMESTAMPTZ, timestampTZValue(t('2021-03-14T06:59:59Z')), ny)).toBe('2021-03-14 01:59:59-05');
    expect(enc(TIMESTAMPTZ, timestampTZValue(t('2021-03-14T07:00:00Z')), ny)).toBe('2021-03-14 03:00:00-04');
    expect(enc(TIMESTAMPTZ, timestampTZValue(t('1800-01-01T00:00:00Z')), ny)).toBe('1799-12-31 19:03:58-04:56:02');
    expect(enc(TIMESTAMPTZ, timestampTZValue(-62_135_596_800_000_000n), ny)).toBe('0001-12-31 19:03:58-04:56:02 BC');
    expect(enc(TIMESTAMPTZ, timestampTZValue(t('2024-07-01T12:00:00Z')), kolkata)).toBe('2024-07-01 17:30:00+05:30');
    expect(enc(TIMESTAMPTZ, timestampTZValue(INT64_MAX), kolkata)).toBe('infinity');
  });

  it('rejects a time zone it cannot use', () => {
    expect(() => textEncoderFor(TIMESTAMPTZ, { timeZone: 'Mars/Olympus_Mons', extraFloatDigits: 1 })).toThrow(RangeError);
  });
});

describe('intervals', () => {
  const H = 3_600_000_000n;
  it.each([
    [14, 3, 4n * H + 306_500_000n, '1 year 2 mons 3 days 04:05:06.5'],
    [0, -1, 2n * H, '-1 days +02:00:00'],
    [0, 0, 0n, '00:00:00'],
    [1, -1, 0n, '1 mon -1 days'],
    [-14, 0, 0n, '-1 years -2 mons'],
    [0, -3, -(4n * H + 306_000_000n), '-3 days -04:05:06'],
    [0, 0, 1n, '00:00:00.000001'],
    [0, 0, -1n, '-00:00:00.000001'],
    [0, 0, 100n * H, '100:00:00'],
    [11, 0, 0n, '11 mons'],
    [12, 1, 0n, '1 year 1 day'],
    [-1, 1, 0n, '-1 mons +1 day'],
    [-1, -1, 1_000_000n, '-1 mons -1 days +00:00:01'],
    [1, 0, -1_000_000n, '1 mon -00:00:01'],
    [0, 0, 9_223_372_036_854_775_806n, '2562047788:00:54.775806'],
  ])('%i months %i days %s us -> %s', (months, days, micros, text) => {
    expect(intervalText(months, days, micros)).toBe(text);
    expect(enc(INTERVAL, intervalValue(months, days, micros))).toBe(text);
  });
});

describe('other scalars', () => {
  it('prints bytea as lower-case hex', () => {
    expect(enc(BLOB, blobValue(new Uint8Array([0xde, 0xad, 0x00, 0x0f])))).toBe('\\xdead000f');
    expect(enc(BLOB, blobValue(new Uint8Array(0)))).toBe('\\x');
  });

  it('prints uuids, booleans, bits, text and json as they are', () => {
    expect(enc(UUID, DuckDBUUIDValue.fromUint128(0xa0eebc999c0b4ef8bb6d6bb9bd380a11n))).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    expect(enc(UUID, DuckDBUUIDValue.fromUint128(0n))).toBe('00000000-0000-0000-0000-000000000000');
    expect(enc(BOOLEAN, true)).toBe('t');
    expect(enc(BOOLEAN, false)).toBe('f');
    expect(enc(BIT, DuckDBBitValue.fromString('10110'))).toBe('10110');
    expect(enc(BIT, DuckDBBitValue.fromString('0000000011111111'))).toBe('0000000011111111');
    expect(enc(VARCHAR, 'a\n"b"')).toBe('a\n"b"');
    expect(enc(JSON_TYPE, '{"a": 1}')).toBe('{"a": 1}');
    expect(enc(ENUM(['x', 'y']), 'y')).toBe('y');
  });
});

describe('arrays and records', () => {
  it('prints lists as PostgreSQL arrays', () => {
    expect(enc(LIST(INTEGER), listValue([1, 2, null]))).toBe('{1,2,NULL}');
    expect(enc(LIST(INTEGER), listValue([]))).toBe('{}');
    expect(enc(LIST(VARCHAR), listValue(['a b', '', 'NULL', null, 'x"y', 'p\\q', 'ok']))).toBe(
      '{"a b","","NULL",NULL,"x\\"y","p\\\\q",ok}',
    );
    expect(enc(LIST(LIST(INTEGER)), listValue([listValue([1, 2]), listValue([3, 4])]))).toBe('{{1,2},{3,4}}');
    expect(enc(ARRAY(INTEGER, 2), arrayValue([5, 6]))).toBe('{5,6}');
    expect(enc(LIST(TIMESTAMP), listValue([timestampValue(0n)]))).toBe('{"1970-01-01 00:00:00"}');
    expect(enc(LIST(DATE), listValue([dateValue(-719163), dateValue(0)]))).toBe('{"0001-12-31 BC",1970-01-01}');
    expect(enc(LIST(BLOB), listValue([blobValue(new Uint8Array([1]))]))).toBe('{"\\\\x01"}');
    expect(enc(LIST(DOUBLE), listValue([0.1, NaN, -Infinity]))).toBe('{0.1,NaN,-Infinity}');
    expect(enc(LIST(STRUCT({ a: INTEGER, b: VARCHAR })), listValue([structValue({ a: 1, b: 'x y' })]))).toBe('{"(1,\\"x y\\")"}');
  });

  it('prints structs as PostgreSQL records', () => {
    const type = STRUCT({ a: INTEGER, b: VARCHAR, c: VARCHAR, d: LIST(INTEGER), e: STRUCT({ f: VARCHAR }) });
    expect(enc(type, structValue({ a: 1, b: 'x y', c: null, d: listValue([1, 2]), e: structValue({ f: 'q"' }) }))).toBe(
      '(1,"x y",,"{1,2}","(""q"""""")")',
    );
    expect(enc(STRUCT({ a: INTEGER, b: INTEGER }), structValue({ a: null, b: null }))).toBe('(,)');
    expect(enc(STRUCT({ s: VARCHAR }), structValue({ s: '' }))).toBe('("")');
  });
});

describe('types without a PostgreSQL counterpart', () => {
  it('prints maps as {key=value, ...}', () => {
    const type = MAP(VARCHAR, LIST(INTEGER));
    expect(enc(type, mapValue([{ key: 'a', value: listValue([1]) }, { key: 'b c', value: null }]))).toBe('{a={1}, b c=NULL}');
    expect(enc(type, mapValue([]))).toBe('{}');
  });

  it('prints the member of a union', () => {
    const type = UNION({ n: INTEGER, d: DATE });
    expect(enc(type, unionValue('n', 42))).toBe('42');
    expect(enc(type, unionValue('d', dateValue(0)))).toBe('1970-01-01');
  });

  it('prints variants by their inner type', () => {
    expect(enc(VARIANT, variantValue(1, INTEGER))).toBe('1');
    expect(enc(VARIANT, variantValue(listValue([1, 2]), LIST(INTEGER)))).toBe('{1,2}');
    expect(enc(VARIANT, variantValue(Math.fround(0.1), FLOAT))).toBe('0.1');
    expect(enc(VARIANT, variantValue('x y'))).toBe('x y');
    expect(enc(VARIANT, variantValue(structValue({ a: 'b c' })))).toBe('("b c")');
    expect(enc(VARIANT, variantValue(null))).toBe('null');
  });

  it('prints geometry as upper-case hex WKB', () => {
    expect(enc(GEOMETRY, geometryValue(new Uint8Array([1, 0xab])))).toBe('01AB');
  });
});
