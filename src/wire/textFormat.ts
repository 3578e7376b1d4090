// DuckDB values -> the exact text PostgreSQL prints for the same value (the text result
// format of the wire protocol, DateStyle ISO, IntervalStyle postgres).
//
// textEncoderFor() is called once per result column and does all per-type work up front;
// the encoder it returns runs once per value and is the hot path of every query.
//
// The per-type text lives in ./text/: datetime.ts, float.ts, scalars.ts (numeric, interval,
// bytea, bit, uuid, geometry) and quoting.ts (array elements and record fields).
import {
  DuckDBArrayValue,
  DuckDBBitValue,
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBGeometryValue,
  DuckDBIntervalValue,
  DuckDBListValue,
  DuckDBMapValue,
  DuckDBStructValue,
  DuckDBTimeNSValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTimeTZValue,
  DuckDBTimeValue,
  DuckDBTypeId,
  DuckDBUnionValue,
  DuckDBUUIDValue,
  DuckDBVariantValue,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import {
  dateText,
  millisToMicros,
  nanosToMicros,
  offsetText,
  secondsToMicros,
  timeOfDayText,
  timestampMicrosText,
  timestampTZText,
  zoneFor,
  type Zone,
} from './text/datetime.js';
import { float4ShortestText, float8ShortestText, printfG } from './text/float.js';
import { neverNeedsQuotes, quoteArrayElement, quoteRecordField } from './text/quoting.js';
import { bitText, byteaText, decimalText, geometryText, hexLower, intervalText, uuidText } from './text/scalars.js';

export { isSupportedTimeZone } from './text/datetime.js';
export { float4ShortestText, float8ShortestText, printfG } from './text/float.js';
export { quoteArrayElement, quoteRecordField } from './text/quoting.js';
export { byteaText, decimalText, intervalText } from './text/scalars.js';

export interface TextFormatSettings {
  /** Session TimeZone: 'UTC' or an IANA zone name. */
  timeZone: string;
  /** Session extra_float_digits (PostgreSQL: -15..3, default 1). */
  extraFloatDigits: number;
}

/** Encodes one non-null value. SQL NULL is the caller's business. */
export type TextEncoder = (value: DuckDBValue) => string;

// ---------------------------------------------------------------------------------------
// Encoders

interface Ctx {
  readonly zone: Zone;
  readonly float8: (x: number) => string;
  readonly float4: (x: number) => string;
}

function makeCtx(settings: TextFormatSettings): Ctx {
  const requested = Number.isFinite(settings.extraFloatDigits) ? Math.trunc(settings.extraFloatDigits) : 1;
  const efd = Math.max(-15, Math.min(3, requested));
  const p8 = 15 + efd;
  const p4 = Math.max(1, 6 + efd);
  return {
    zone: zoneFor(settings.timeZone),
    float8: efd > 0 ? float8ShortestText : (x) => printfG(x, p8),
    float4: efd > 0 ? float4ShortestText : (x) => printfG(x, p4),
  };
}

/**
 * The encoder for one result column. Throws RangeError for an unknown TimeZone.
 *
 * Types without a PostgreSQL counterpart are sent as text (see pgFieldTypeFor):
 * - MAP: DuckDB's own layout `{key=value, key2=value2}`, keys and values in their
 *   PostgreSQL text form, NULL as `NULL`, nothing quoted. It reads the way DuckDB users
 *   expect and stays close to what DuckDB's own VARCHAR cast prints.
 * - UNION: the text of the member that is set (as DuckDB's VARCHAR cast does).
 * - VARIANT: the text of the value inside, by its runtime type (`null` for a JSON-style null).
 * - GEOMETRY: the WKB as upper-case hex, as PostGIS prints a geometry.
 * TIMESTAMP_NS and TIME_NS are truncated to microseconds, PostgreSQL's precision.
 */
export function textEncoderFor(type: DuckDBType, settings: TextFormatSettings): TextEncoder {
  return build(type, makeCtx(settings));
}

function build(type: DuckDBType, ctx: Ctx): TextEncoder {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return (v) => (v ? 't' : 'f');
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
    case DuckDBTypeId.INTEGER_LITERAL:
      return (v) => String(v);
    case DuckDBTypeId.FLOAT:
      return ctx.float4 as TextEncoder;
    case DuckDBTypeId.DOUBLE:
      return ctx.float8 as TextEncoder;
    case DuckDBTypeId.DECIMAL: {
      const scale = type.scale;
      return (v) => decimalText((v as DuckDBDecimalValue).value, scale);
    }
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.ENUM:
    case DuckDBTypeId.STRING_LITERAL:
      return (v) => v as string;
    case DuckDBTypeId.BLOB:
      return (v) => '\\x' + hexLower((v as DuckDBBlobValue).bytes);
    case DuckDBTypeId.DATE:
      return (v) => dateText((v as DuckDBDateValue).days);
    case DuckDBTypeId.TIME:
      return (v) => timeOfDayText(Number((v as DuckDBTimeValue).micros));
    case DuckDBTypeId.TIME_NS:
      return (v) => timeOfDayText(Number((v as DuckDBTimeNSValue).nanos / 1000n));
    case DuckDBTypeId.TIME_TZ:
      return (v) => timeOfDayText(Number((v as DuckDBTimeTZValue).micros)) + offsetText((v as DuckDBTimeTZValue).offset);
    case DuckDBTypeId.TIMESTAMP:
      return (v) => timestampMicrosText((v as DuckDBTimestampValue).micros);
    case DuckDBTypeId.TIMESTAMP_S:
      return (v) => timestampMicrosText(secondsToMicros((v as DuckDBTimestampSecondsValue).seconds));
    case DuckDBTypeId.TIMESTAMP_MS:
      return (v) => timestampMicrosText(millisToMicros((v as DuckDBTimestampMillisecondsValue).millis));
    case DuckDBTypeId.TIMESTAMP_NS:
      return (v) => timestampMicrosText(nanosToMicros((v as DuckDBTimestampNanosecondsValue).nanos));
    case DuckDBTypeId.TIMESTAMP_TZ: {
      const zone = ctx.zone;
      return (v) => timestampTZText((v as DuckDBTimestampTZValue).micros, zone);
    }
    case DuckDBTypeId.INTERVAL:
      return (v) => {
        const i = v as DuckDBIntervalValue;
        return intervalText(i.months, i.days, i.micros);
      };
    case DuckDBTypeId.UUID:
      return (v) => uuidText(v as DuckDBUUIDValue);
    case DuckDBTypeId.BIT:
      return (v) => bitText((v as DuckDBBitValue).data);
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return arrayEncoder(type.valueType, ctx);
    case DuckDBTypeId.STRUCT:
      return structEncoder(type.entryNames, type.entryTypes, ctx);
    case DuckDBTypeId.MAP: {
      const key = build(type.keyType, ctx);
      const val = build(type.valueType, ctx);
      return (v) => mapText(v as DuckDBMapValue, key, val);
    }
    case DuckDBTypeId.UNION: {
      const members: Record<string, TextEncoder> = Object.create(null);
      type.memberTags.forEach((tag, i) => (members[tag] = build(type.memberTypes[i]!, ctx)));
      return (v) => {
        const u = v as DuckDBUnionValue;
        if (u.value === null) return 'NULL';
        const enc = members[u.tag];
        return enc ? enc(u.value) : dynamicText(u.value, ctx);
      };
    }
    case DuckDBTypeId.GEOMETRY:
      return (v) => geometryText(v as DuckDBGeometryValue);
    default:
      // VARIANT, SQLNULL, ANY, INVALID: by the value's runtime type.
      return (v) => dynamicText(v, ctx);
  }
}

function mapText(m: DuckDBMapValue, key: TextEncoder, val: TextEncoder): string {
  let out = '{';
  const entries = m.entries;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (i > 0) out += ', ';
    out += (e.key === null ? 'NULL' : key(e.key)) + '=' + (e.value === null ? 'NULL' : val(e.value));
  }
  return out + '}';
}

function isListType(t: DuckDBType): boolean {
  return t.typeId === DuckDBTypeId.LIST || t.typeId === DuckDBTypeId.ARRAY;
}

/**
 * LIST/ARRAY -> PostgreSQL array text. A list of lists is written as a multi-dimensional
 * array, `{{1,2},{3,4}}`; PostgreSQL only allows rectangular ones, so a ragged DuckDB list
 * comes out as the same nesting of braces, which PostgreSQL itself would not produce.
 */
function arrayEncoder(elementType: DuckDBType, ctx: Ctx): TextEncoder {
  const nested = isListType(elementType);
  const elem = build(elementType, ctx);
  const quote = !nested && !neverNeedsQuotes(elementType);
  return (v) => {
    const items = (v as DuckDBListValue | DuckDBArrayValue).items;
    const n = items.length;
    if (n === 0) return '{}';
    let out = '{';
    for (let i = 0; i < n; i++) {
      if (i > 0) out += ',';
      const it = items[i];
      if (it === null || it === undefined) out += 'NULL';
      else out += quote ? quoteArrayElement(elem(it)) : elem(it);
    }
    return out + '}';
  };
}

/** STRUCT -> PostgreSQL record text `(1,abc)`: NULL fields are empty. */
function structEncoder(names: readonly string[], types: readonly DuckDBType[], ctx: Ctx): TextEncoder {
  const encs = types.map((t) => build(t, ctx));
  const quote = types.map((t) => !neverNeedsQuotes(t));
  const n = names.length;
  return (v) => {
    const entries = (v as DuckDBStructValue).entries;
    let out = '(';
    for (let i = 0; i < n; i++) {
      if (i > 0) out += ',';
      const x = entries[names[i]!];
      if (x === null || x === undefined) continue;
      const t = encs[i]!(x);
      out += quote[i] ? quoteRecordField(t) : t;
    }
    return out + ')';
  };
}

/** Text of a value known only at run time (VARIANT contents, unusual types). */
function dynamicText(v: DuckDBValue, ctx: Ctx): string {
  switch (typeof v) {
    case 'boolean':
      return v ? 't' : 'f';
    case 'number':
      return Number.isInteger(v) && !Object.is(v, -0) ? String(v) : ctx.float8(v);
    case 'bigint':
      return String(v);
    case 'string':
      return v;
  }
  if (v === null) return 'NULL';
  if (v instanceof DuckDBVariantValue) {
    if (v.value === null) return 'null';
    if (v.type) return build(v.type, ctx)(v.value);
    return dynamicText(v.value, ctx);
  }
  if (v instanceof DuckDBListValue || v instanceof DuckDBArrayValue) {
    let out = '{';
    v.items.forEach((it, i) => {
      if (i > 0) out += ',';
      if (it === null) out += 'NULL';
      else if (it instanceof DuckDBListValue || it instanceof DuckDBArrayValue) out += dynamicText(it, ctx);
      else out += quoteArrayElement(dynamicText(it, ctx));
    });
    return out + '}';
  }
  if (v instanceof DuckDBStructValue) {
    let out = '(';
    let first = true;
    for (const key of Object.keys(v.entries)) {
      if (!first) out += ',';
      first = false;
      const x = v.entries[key];
      if (x !== null && x !== undefined) out += quoteRecordField(dynamicText(x, ctx));
    }
    return out + ')';
  }
  if (v instanceof DuckDBMapValue) {
    const any: TextEncoder = (x) => dynamicText(x, ctx);
    return mapText(v, any, any);
  }
  if (v instanceof DuckDBDecimalValue) return decimalText(v.value, v.scale);
  if (v instanceof DuckDBDateValue) return dateText(v.days);
  if (v instanceof DuckDBTimestampTZValue) return timestampTZText(v.micros, ctx.zone);
  if (v instanceof DuckDBTimestampValue) return timestampMicrosText(v.micros);
  if (v instanceof DuckDBTimestampSecondsValue) return timestampMicrosText(secondsToMicros(v.seconds));
  if (v instanceof DuckDBTimestampMillisecondsValue) return timestampMicrosText(millisToMicros(v.millis));
  if (v instanceof DuckDBTimestampNanosecondsValue) return timestampMicrosText(nanosToMicros(v.nanos));
  if (v instanceof DuckDBTimeTZValue) return timeOfDayText(Number(v.micros)) + offsetText(v.offset);
  if (v instanceof DuckDBTimeValue) return timeOfDayText(Number(v.micros));
  if (v instanceof DuckDBTimeNSValue) return timeOfDayText(Number(v.nanos / 1000n));
  if (v instanceof DuckDBIntervalValue) return intervalText(v.months, v.days, v.micros);
  if (v instanceof DuckDBBlobValue) return byteaText(v.bytes);
  if (v instanceof DuckDBUUIDValue) return uuidText(v);
  if (v instanceof DuckDBBitValue) return bitText(v.data);
  if (v instanceof DuckDBUnionValue) return v.value === null ? 'NULL' : dynamicText(v.value, ctx);
  if (v instanceof DuckDBGeometryValue) return geometryText(v);
  return String(v);
}
