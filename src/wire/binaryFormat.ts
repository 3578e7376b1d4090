// The binary result format (format code 1) of the PostgreSQL types clients commonly read
// in binary, byte for byte as PostgreSQL's *_send functions write them.
//
// binaryEncoderFor() is called once per result column; it returns null for a type that
// has no binary form here. The protocol has no fallback to text for a column whose
// binary format was asked for, so the caller refuses such a request (0A000).
import {
  DuckDBTypeId,
  type DuckDBBlobValue,
  type DuckDBDateValue,
  type DuckDBDecimalValue,
  type DuckDBIntervalValue,
  type DuckDBTimeNSValue,
  type DuckDBTimestampMillisecondsValue,
  type DuckDBTimestampNanosecondsValue,
  type DuckDBTimestampSecondsValue,
  type DuckDBTimestampTZValue,
  type DuckDBTimestampValue,
  type DuckDBTimeValue,
  type DuckDBType,
  type DuckDBUUIDValue,
  type DuckDBValue,
} from '@duckdb/node-api';
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import { millisToMicros, nanosToMicros, secondsToMicros } from './text/datetime.js';

/** Encodes one non-null value. SQL NULL is the caller's business. */
export type BinaryEncoder = (value: DuckDBValue) => Uint8Array;

/** Days and microseconds from 1970-01-01 (DuckDB's epoch) to 2000-01-01 (PostgreSQL's). */
export const POSTGRES_EPOCH_DAYS = 10_957;
export const POSTGRES_EPOCH_MICROS = 946_684_800_000_000n;

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
/** DuckDB's infinities: INT64_MAX and -INT64_MAX for timestamps, ±(2^31 - 1) for dates. */
const DUCK_TS_NEG_INF = -INT64_MAX;
const DATE_INF = 2 ** 31 - 1;

export const NUMERIC_POS = 0x0000;
export const NUMERIC_NEG = 0x4000;
export const NUMERIC_NAN = 0xc000;
export const NUMERIC_PINF = 0xd000;
export const NUMERIC_NINF = 0xf000;

export function int16Binary(n: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeInt16BE(n);
  return b;
}

export function int32Binary(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n);
  return b;
}

export function int64Binary(n: bigint): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64BE(n);
  return b;
}

export function float4Binary(x: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeFloatBE(x);
  return b;
}

export function float8Binary(x: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeDoubleBE(x);
  return b;
}

/**
 * numeric_send: Int16 ndigits, Int16 weight, UInt16 sign, Int16 dscale, then ndigits
 * base-10000 digits, most significant first. The value is sum(digit[i] * 10000^(weight - i));
 * leading and trailing zero digits are not sent, and zero has no digits and weight 0.
 */
export function numericBinary(unscaled: bigint, scale: number): Buffer {
  const neg = unscaled < 0n;
  let text = (neg ? -unscaled : unscaled).toString();
  if (text.length <= scale) text = '0'.repeat(scale - text.length + 1) + text;
  const intPart = text.slice(0, text.length - scale);
  const fracPart = text.slice(text.length - scale);
  // Align both parts on the decimal point in groups of four digits.
  const ints = '0'.repeat((4 - (intPart.length % 4)) % 4) + intPart;
  const fracs = fracPart + '0'.repeat((4 - (fracPart.length % 4)) % 4);
  const all = ints + fracs;
  const groups: number[] = [];
  for (let i = 0; i < all.length; i += 4) groups.push(Number(all.slice(i, i + 4)));
  let weight = ints.length / 4 - 1;
  let first = 0;
  while (first < groups.length && groups[first] === 0) {
    first++;
    weight--;
  }
  let last = groups.length;
  while (last > first && groups[last - 1] === 0) last--;
  const n = last - first;
  const b = Buffer.allocUnsafe(8 + 2 * n);
  b.writeInt16BE(n, 0);
  b.writeInt16BE(n === 0 ? 0 : weight, 2);
  b.writeUInt16BE(n !== 0 && neg ? NUMERIC_NEG : NUMERIC_POS, 4);
  b.writeInt16BE(scale, 6);
  for (let i = 0; i < n; i++) b.writeInt16BE(groups[first + i]!, 8 + 2 * i);
  return b;
}

/** date_send: days since 2000-01-01; the infinities are INT32_MAX and INT32_MIN. */
export function dateBinary(duckDays: number): Buffer {
  if (duckDays === DATE_INF) return int32Binary(2 ** 31 - 1);
  if (duckDays === -DATE_INF) return int32Binary(-(2 ** 31));
  return int32Binary(duckDays - POSTGRES_EPOCH_DAYS);
}

/** timestamp_send / timestamptz_send: microseconds since 2000-01-01 00:00 UTC; infinities are INT64_MAX and INT64_MIN. */
export function timestampBinary(duckMicros: bigint): Buffer {
  if (duckMicros === INT64_MAX) return int64Binary(INT64_MAX);
  if (duckMicros === DUCK_TS_NEG_INF) return int64Binary(INT64_MIN);
  const pg = duckMicros - POSTGRES_EPOCH_MICROS;
  if (pg <= INT64_MIN || pg >= INT64_MAX) throw new PgError(SqlState.DatetimeFieldOverflow, 'timestamp out of range');
  return int64Binary(pg);
}

/** interval_send: Int64 microseconds, Int32 days, Int32 months. */
export function intervalBinary(months: number, days: number, micros: bigint): Buffer {
  const b = Buffer.allocUnsafe(16);
  b.writeBigInt64BE(micros, 0);
  b.writeInt32BE(days, 8);
  b.writeInt32BE(months, 12);
  return b;
}

/** uuid_send: the 16 bytes in order. */
export function uuidBinary(v: DuckDBUUIDValue): Buffer {
  const u = v.toUint128();
  const b = Buffer.allocUnsafe(16);
  b.writeBigUInt64BE(u >> 64n, 0);
  b.writeBigUInt64BE(u & 0xffff_ffff_ffff_ffffn, 8);
  return b;
}

const utf8 = (v: DuckDBValue) => Buffer.from(v as string, 'utf8');
const ts = (micros: bigint) => timestampBinary(micros);

/**
 * The binary encoder for one result column, for the PostgreSQL type pgFieldTypeFor
 * describes it as; null when that type is sent in text only (timetz, varbit, arrays,
 * records, and the types described as text because PostgreSQL has no counterpart).
 */
export function binaryEncoderFor(type: DuckDBType): BinaryEncoder | null {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return (v) => Buffer.from([v ? 1 : 0]);
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.UTINYINT:
      return (v) => int16Binary(v as number);
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.USMALLINT:
      return (v) => int32Binary(v as number);
    case DuckDBTypeId.BIGINT:
      return (v) => int64Binary(v as bigint);
    case DuckDBTypeId.UINTEGER:
      return (v) => int64Binary(BigInt(v as number));
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
      return (v) => numericBinary(BigInt(v as bigint), 0);
    case DuckDBTypeId.FLOAT:
      return (v) => float4Binary(v as number);
    case DuckDBTypeId.DOUBLE:
      return (v) => float8Binary(v as number);
    case DuckDBTypeId.DECIMAL: {
      const scale = type.scale;
      return (v) => numericBinary((v as DuckDBDecimalValue).value, scale);
    }
    case DuckDBTypeId.VARCHAR: // text, and json: json_send is the text's UTF-8 bytes
    case DuckDBTypeId.ENUM:
      return utf8;
    case DuckDBTypeId.BLOB:
      return (v) => (v as DuckDBBlobValue).bytes;
    case DuckDBTypeId.DATE:
      return (v) => dateBinary((v as DuckDBDateValue).days);
    case DuckDBTypeId.TIME:
      return (v) => int64Binary((v as DuckDBTimeValue).micros);
    case DuckDBTypeId.TIME_NS:
      return (v) => int64Binary((v as DuckDBTimeNSValue).nanos / 1000n);
    case DuckDBTypeId.TIMESTAMP:
      return (v) => ts((v as DuckDBTimestampValue).micros);
    case DuckDBTypeId.TIMESTAMP_S:
      return (v) => ts(secondsToMicros((v as DuckDBTimestampSecondsValue).seconds));
    case DuckDBTypeId.TIMESTAMP_MS:
      return (v) => ts(millisToMicros((v as DuckDBTimestampMillisecondsValue).millis));
    case DuckDBTypeId.TIMESTAMP_NS:
      return (v) => ts(nanosToMicros((v as DuckDBTimestampNanosecondsValue).nanos));
    case DuckDBTypeId.TIMESTAMP_TZ:
      return (v) => ts((v as DuckDBTimestampTZValue).micros);
    case DuckDBTypeId.INTERVAL:
      return (v) => {
        const i = v as DuckDBIntervalValue;
        return intervalBinary(i.months, i.days, i.micros);
      };
    case DuckDBTypeId.UUID:
      return (v) => uuidBinary(v as DuckDBUUIDValue);
    default:
      return null;
  }
}
