// Byte-exact tests of the binary result encoders. Every expected value is written out as
// bytes by hand from PostgreSQL's *_send formats, never produced by the code under test.
import {
  BIGINT,
  BIGNUM,
  BLOB,
  BOOLEAN,
  DATE,
  DECIMAL,
  DOUBLE,
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBIntervalValue,
  DuckDBTimeNSValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTimeValue,
  DuckDBUUIDValue,
  DuckDBVarCharType,
  ENUM,
  FLOAT,
  HUGEINT,
  INTEGER,
  INTERVAL,
  LIST,
  MAP,
  SMALLINT,
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
  UINTEGER,
  USMALLINT,
  UTINYINT,
  UUID,
  VARCHAR,
  BIT,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { binaryEncoderFor } from './binaryFormat.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
function enc(type: DuckDBType, v: DuckDBValue): string {
  const e = binaryEncoderFor(type);
  if (!e) throw new Error(`no binary encoder for ${type.toString()}`);
  return Buffer.from(e(v)).toString('hex');
}
const expectBytes = (type: DuckDBType, v: DuckDBValue, bytes: string) => expect(enc(type, v)).toBe(hex(bytes).toString('hex'));

describe('binary result encoders', () => {
  it('bool: one byte, 1 or 0', () => {
    expectBytes(BOOLEAN, true, '01');
    expectBytes(BOOLEAN, false, '00');
  });

  it('int2, int4, int8: big-endian two\'s complement, unsigned types widened', () => {
    expectBytes(SMALLINT, 1, '0001');
    expectBytes(SMALLINT, -2, 'fffe');
    expectBytes(TINYINT, -128, 'ff80');
    expectBytes(UTINYINT, 255, '00ff');
    expectBytes(INTEGER, 0x01020304, '01020304');
    expectBytes(INTEGER, -1, 'ffffffff');
    expectBytes(USMALLINT, 65535, '0000ffff');
    expectBytes(BIGINT, -9223372036854775808n, '8000000000000000');
    expectBytes(BIGINT, 258n, '0000000000000102');
    expectBytes(UINTEGER, 4294967295, '00000000ffffffff');
  });

  it('float4, float8: IEEE 754 big-endian, NaN and infinities included', () => {
    expectBytes(FLOAT, 1.5, '3fc00000');
    expectBytes(FLOAT, -0, '80000000');
    expectBytes(FLOAT, Infinity, '7f800000');
    expectBytes(DOUBLE, 1, '3ff0000000000000');
    expectBytes(DOUBLE, -2.5, 'c004000000000000');
    expectBytes(DOUBLE, -Infinity, 'fff0000000000000');
    expectBytes(DOUBLE, NaN, '7ff8000000000000');
  });

  it('numeric: ndigits, weight, sign, dscale, base-10000 digits', () => {
    // 1.50 = 1 * 10000^0 + 5000 * 10000^-1, dscale 2
    expectBytes(DECIMAL(10, 2), new DuckDBDecimalValue(150n, 10, 2), '0002 0000 0000 0002 0001 1388');
    // zero: no digits, weight 0, positive, dscale kept
    expectBytes(DECIMAL(10, 2), new DuckDBDecimalValue(0n, 10, 2), '0000 0000 0000 0002');
    // -123456.789 = -(12 * 10000 + 3456 + 7890 / 10000)
    expectBytes(DECIMAL(12, 3), new DuckDBDecimalValue(-123456789n, 12, 3), '0003 0001 4000 0003 000c 0d80 1ed2');
    // 0.0000005 = 50 * 10000^-2
    expectBytes(DECIMAL(9, 7), new DuckDBDecimalValue(5n, 9, 7), '0001 fffe 0000 0007 0032');
    // 10000 = 1 * 10000^1: the trailing zero digit is not sent
    expectBytes(DECIMAL(18, 0), new DuckDBDecimalValue(10000n, 18, 0), '0001 0001 0000 0000 0001');
    // 1.0000 (scale 4): one digit, dscale 4
    expectBytes(DECIMAL(5, 4), new DuckDBDecimalValue(10000n, 5, 4), '0001 0000 0000 0004 0001');
    // HUGEINT / UBIGINT / BIGNUM become numeric with dscale 0: 1844 6744 0737 0955 1615
    expectBytes(UBIGINT, 18446744073709551615n, '0005 0004 0000 0000 0734 1a58 02e1 03bb 064f');
    expectBytes(HUGEINT, -170141183460469231731687303715884105728n, HUGE_MIN);
    expectBytes(BIGNUM, 12345678n, '0002 0001 0000 0000 04d2 162e');
  });

  it('text, varchar, json and enum: the UTF-8 bytes', () => {
    expectBytes(VARCHAR, 'héllo', '68 c3a9 6c6c6f');
    expectBytes(new DuckDBVarCharType('JSON'), '{"a":1}', '7b 22 61 22 3a 31 7d');
    expectBytes(ENUM(['x', 'y']), 'y', '79');
    expectBytes(VARCHAR, '', '');
  });

  it('bytea: the bytes as they are', () => {
    expectBytes(BLOB, new DuckDBBlobValue(new Uint8Array([0, 1, 0xfe, 0xff])), '0001feff');
  });

  it('date: days since 2000-01-01, infinities as INT32_MAX / INT32_MIN', () => {
    expectBytes(DATE, new DuckDBDateValue(10957), '00000000'); // 2000-01-01
    expectBytes(DATE, new DuckDBDateValue(0), 'ffffd533'); // 1970-01-01 = -10957
    expectBytes(DATE, new DuckDBDateValue(19724), '0000223f'); // 2024-01-02 = 8767
    expectBytes(DATE, new DuckDBDateValue(2 ** 31 - 1), '7fffffff');
    expectBytes(DATE, new DuckDBDateValue(-(2 ** 31 - 1)), '80000000');
  });

  it('time: microseconds since midnight (TIME_NS truncated to microseconds)', () => {
    expectBytes(TIME, new DuckDBTimeValue(3_723_000_001n), '00000000dde878c1'); // 01:02:03.000001 = 3723000001
    expectBytes(TIME_NS, new DuckDBTimeNSValue(3_723_000_001_999n), '00000000dde878c1');
  });

  it('timestamp and timestamptz: microseconds since 2000-01-01 00:00 UTC, infinities as INT64_MAX / INT64_MIN', () => {
    expectBytes(TIMESTAMP, new DuckDBTimestampValue(946_684_800_000_000n), '0000000000000000');
    expectBytes(TIMESTAMP, new DuckDBTimestampValue(0n), 'fffc a2fe c4c8 2000'); // -946684800000000
    expectBytes(TIMESTAMPTZ, new DuckDBTimestampTZValue(946_684_800_000_001n), '0000000000000001');
    expectBytes(TIMESTAMP, new DuckDBTimestampValue(2n ** 63n - 1n), '7fffffffffffffff');
    expectBytes(TIMESTAMPTZ, new DuckDBTimestampTZValue(-(2n ** 63n - 1n)), '8000000000000000');
    expectBytes(TIMESTAMP_S, new DuckDBTimestampSecondsValue(946_684_801n), '00000000000f4240'); // +1 s
    expectBytes(TIMESTAMP_MS, new DuckDBTimestampMillisecondsValue(946_684_800_002n), '00000000000007d0'); // +2 ms
    expectBytes(TIMESTAMP_NS, new DuckDBTimestampNanosecondsValue(946_684_800_000_003_999n), '0000000000000003');
  });

  it('interval: microseconds, days, months', () => {
    expectBytes(INTERVAL, new DuckDBIntervalValue(14, 3, 4_000_005n), '00000000003d0905 00000003 0000000e');
    expectBytes(INTERVAL, new DuckDBIntervalValue(-1, -2, -1n), 'ffffffffffffffff fffffffe ffffffff');
  });

  it('uuid: the 16 bytes in order', () => {
    const u = DuckDBUUIDValue.fromUint128(0x0123456789abcdeffedcba9876543210n);
    expectBytes(UUID, u, '0123456789abcdef fedcba9876543210');
    expectBytes(UUID, DuckDBUUIDValue.fromUint128(0xffffffffffffffffffffffffffffffffn), 'ff'.repeat(16));
  });

  it('has no binary form for the types sent in text only', () => {
    for (const t of [TIMETZ, BIT, LIST(INTEGER), STRUCT({ a: INTEGER }), MAP(VARCHAR, INTEGER)]) {
      expect(binaryEncoderFor(t), t.toString()).toBeNull();
    }
  });
});

// -170141183460469231731687303715884105728 in base-10000 digits, grouped from the right:
// 170 1411 8346 0469 2317 3168 7303 7158 8410 5728 (weight 9, negative)
const HUGE_MIN = '000a 0009 4000 0000 00aa 0583 209a 01d5 090d 0c60 1c87 1bf6 20da 1660';
