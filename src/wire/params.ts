// Parameter values of a Bind message, decoded by the PostgreSQL type of the parameter
// (declared by the client in Parse, or inferred): text in PostgreSQL's input syntax,
// binary in PostgreSQL's *_recv format. The result is a typed value for DuckDB to bind,
// never SQL text.
import {
  BIGINT,
  BLOB,
  BOOLEAN,
  DATE,
  DECIMAL,
  DOUBLE,
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBListValue,
  FLOAT,
  INTEGER,
  INTERVAL,
  LIST,
  SMALLINT,
  TIME,
  TIMESTAMP,
  TIMESTAMPTZ,
  UUID,
  VARCHAR,
  DuckDBTypeId,
  type DuckDBDecimalType,
  type DuckDBListType,
  type DuckDBType,
  type DuckDBValue,
  DuckDBIntervalValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTimeValue,
  DuckDBUUIDValue,
} from '@duckdb/node-api';
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import { NUMERIC_NAN, NUMERIC_NEG, NUMERIC_NINF, NUMERIC_PINF, NUMERIC_POS, POSTGRES_EPOCH_DAYS, POSTGRES_EPOCH_MICROS } from './binaryFormat.js';
import { pgTypeByOid, PG_OID } from './pgTypes.js';
import { parseArray, type ArrayItem } from './text/arrayInput.js';
import { DATE_INFINITY, parseDate, parseInterval, parseTime, parseTimestamp, TIMESTAMP_INFINITY } from './text/datetimeInput.js';
import { MAX_DECIMAL_WIDTH, parseBool, parseBytea, parseFloat, parseInteger, parseNumeric, parseUuid } from './text/input.js';

/** A decoded parameter: what DuckDB is given to bind, by type. */
export type ParamValue =
  | { type: 'null' }
  | { type: 'boolean'; value: boolean }
  | { type: 'smallint' | 'integer' | 'float' | 'double'; value: number }
  | { type: 'bigint'; value: bigint }
  | { type: 'decimal'; value: DuckDBDecimalValue }
  | { type: 'date'; value: DuckDBDateValue }
  | { type: 'time'; value: DuckDBTimeValue }
  | { type: 'timestamp'; value: DuckDBTimestampValue }
  | { type: 'timestamptz'; value: DuckDBTimestampTZValue }
  | { type: 'interval'; value: DuckDBIntervalValue }
  | { type: 'uuid'; value: DuckDBUUIDValue }
  | { type: 'blob'; value: Uint8Array }
  | { type: 'varchar'; value: string }
  | { type: 'list'; value: DuckDBListValue; listType: DuckDBListType };

export interface ParamContext {
  /** The session's TimeZone: a timestamptz written without a zone is in it. */
  timeZone: string;
}

const O = PG_OID;

/** PostgreSQL's limit on array dimensions (MAXDIM). */
const MAX_ARRAY_DIMS = 6;

/**
 * The DuckDB type a declared parameter type stands for, for the gate to cast `$n` to, so
 * that a declared type decides the expression's type as in PostgreSQL. Text-like
 * parameters get no cast: a text value is bound as VARCHAR and DuckDB reads it as an
 * untyped literal (as PostgreSQL's `unknown`).
 */
const CASTS: ReadonlyMap<number, string> = new Map([
  [O.bool, 'BOOLEAN'], [O.int2, 'SMALLINT'], [O.int4, 'INTEGER'], [O.int8, 'BIGINT'],
  [O.float4, 'FLOAT'], [O.float8, 'DOUBLE'], [O.date, 'DATE'], [O.time, 'TIME'],
  [O.timestamp, 'TIMESTAMP'], [O.timestamptz, 'TIMESTAMP WITH TIME ZONE'], [O.interval, 'INTERVAL'],
  [O.uuid, 'UUID'], [O.bytea, 'BLOB'],
]);

/**
 * PostgreSQL's numeric keeps the scale of each value (`1.50` stays `1.50`, exact to any
 * number of digits); a DuckDB DECIMAL has one scale per type. So a numeric parameter is
 * cast to the widest DECIMAL, DECIMAL(38, s), with s the scale of the value bound
 * (castsForValues): the statement is checked and prepared again at Bind for each scale,
 * its result prints every digit as sent, and it compares by value with DECIMAL columns of
 * any width (a value out of a column's range just matches nothing). Until a value is
 * bound (Parse, Describe of the statement, a NULL) the scale is 0; the columns whose type
 * can follow the bound scale are described without a typmod, as PostgreSQL describes
 * numeric (engine/parameters.ts). NaN and the infinities, which no DECIMAL holds, are DOUBLE.
 */
const NUMERIC_CAST = decimalCast(0);

function decimalCast(scale: number): string {
  return `DECIMAL(${MAX_DECIMAL_WIDTH},${scale})`;
}

/** The cast of an array element type (scalar types without a cast of their own: VARCHAR, as they are decoded). */
function elementCast(elementOid: number): string {
  return elementOid === O.numeric ? NUMERIC_CAST : (CASTS.get(elementOid) ?? 'VARCHAR');
}

/**
 * The cast of a parameter declared with this type at Parse, or null for none. An array
 * type (`_int4`, `_text`, ...) is a LIST of its element's cast: the value is decoded into a
 * DuckDB LIST (decodeArray) and read back as a PostgreSQL array of that type.
 */
export function castForDeclaredType(oid: number): string | null {
  if (oid === O.numeric) return NUMERIC_CAST;
  const t = pgTypeByOid(oid);
  if (t?.category === 'A' && t.name.startsWith('_')) return `${elementCast(t.elementOid)}[]`;
  return CASTS.get(oid) ?? null;
}

/**
 * The cast of a parameter the client did not declare, from the type DuckDB inferred for
 * it: text where DuckDB cannot tell (as PostgreSQL resolves an unknown parameter), and
 * numeric where it inferred a DECIMAL (PostgreSQL infers numeric without a typmod, so the
 * value is compared as it is, never first rounded to a column's scale).
 */
export function castForInferredType(type: DuckDBType | null): string | null {
  if (type === null) return 'VARCHAR';
  return type.typeId === DuckDBTypeId.DECIMAL ? NUMERIC_CAST : null;
}

/** The cast names of the DuckDB element types decodeArray makes. */
const LIST_ELEMENT_CASTS: ReadonlyMap<DuckDBTypeId, string> = new Map([
  [DuckDBTypeId.BOOLEAN, 'BOOLEAN'], [DuckDBTypeId.SMALLINT, 'SMALLINT'], [DuckDBTypeId.INTEGER, 'INTEGER'],
  [DuckDBTypeId.BIGINT, 'BIGINT'], [DuckDBTypeId.FLOAT, 'FLOAT'], [DuckDBTypeId.DOUBLE, 'DOUBLE'],
  [DuckDBTypeId.DATE, 'DATE'], [DuckDBTypeId.TIME, 'TIME'], [DuckDBTypeId.TIMESTAMP, 'TIMESTAMP'],
  [DuckDBTypeId.TIMESTAMP_TZ, 'TIMESTAMP WITH TIME ZONE'], [DuckDBTypeId.INTERVAL, 'INTERVAL'],
  [DuckDBTypeId.UUID, 'UUID'], [DuckDBTypeId.BLOB, 'BLOB'], [DuckDBTypeId.VARCHAR, 'VARCHAR'],
]);

/** The cast of exactly the list type a value was decoded into (its dimensions, its numeric scale). */
function listCastOf(type: DuckDBListType): string {
  let dims = 0;
  let t: DuckDBType = type;
  while (t.typeId === DuckDBTypeId.LIST) {
    dims++;
    t = (t as DuckDBListType).valueType;
  }
  const element = t.typeId === DuckDBTypeId.DECIMAL ? decimalCast((t as DuckDBDecimalType).scale) : LIST_ELEMENT_CASTS.get(t.typeId);
  if (element === undefined) throw PgError.internal(`no cast for a list of ${t.toString()}`);
  return element + '[]'.repeat(dims);
}

/**
 * Each parameter's cast at Bind, from the cast made at Parse and the value bound: a
 * numeric gets its value's scale (DOUBLE for NaN and the infinities), an array its
 * value's dimensions (and for numeric[], the scale its elements share). Any other cast,
 * and any cast of a NULL, stays as it was made at Parse.
 */
export function castsForValues(parseCasts: readonly (string | null)[], values: readonly ParamValue[]): (string | null)[] {
  return parseCasts.map((c, i) => {
    const v = values[i];
    if (c === null || !v) return c;
    if (c.endsWith('[]')) return v.type === 'list' ? listCastOf(v.listType) : c;
    if (c === NUMERIC_CAST) return v.type === 'decimal' ? decimalCast(v.value.scale) : v.type === 'double' ? 'DOUBLE' : c;
    return c;
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function textOf(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new PgError(SqlState.ProtocolViolation, 'invalid byte sequence for encoding "UTF8"');
  }
}

const typeName = (oid: number) => pgTypeByOid(oid)?.name ?? `with OID ${oid}`;

/** Decodes one parameter; `index` is 1-based, for messages. */
export function decodeParam(oid: number, format: number, bytes: Uint8Array | null, index: number, ctx: ParamContext): ParamValue {
  if (bytes === null) return { type: 'null' };
  if (format === 1) return decodeBinary(oid, bytes, index);
  return decodeText(oid, textOf(bytes), ctx);
}

function decimal(unscaled: bigint, width: number, scale: number): ParamValue {
  return { type: 'decimal', value: new DuckDBDecimalValue(unscaled, width, scale) };
}

function decodeText(oid: number, text: string, ctx: ParamContext): ParamValue {
  switch (oid) {
    case O.bool:
      return { type: 'boolean', value: parseBool(text) };
    case O.int2:
      return { type: 'smallint', value: Number(parseInteger(text, 'smallint')) };
    case O.int4:
      return { type: 'integer', value: Number(parseInteger(text, 'integer')) };
    case O.int8:
      return { type: 'bigint', value: parseInteger(text, 'bigint') };
    case O.float4:
      return { type: 'float', value: parseFloat(text, 'real') };
    case O.float8:
      return { type: 'double', value: parseFloat(text, 'double precision') };
    case O.numeric: {
      const n = parseNumeric(text);
      return n.kind === 'special' ? { type: 'double', value: n.value } : decimal(n.unscaled, n.width, n.scale);
    }
    case O.date:
      return { type: 'date', value: new DuckDBDateValue(parseDate(text)) };
    case O.time:
      return { type: 'time', value: new DuckDBTimeValue(parseTime(text)) };
    case O.timestamp:
      return { type: 'timestamp', value: new DuckDBTimestampValue(parseTimestamp(text, false, ctx.timeZone)) };
    case O.timestamptz:
      return { type: 'timestamptz', value: new DuckDBTimestampTZValue(parseTimestamp(text, true, ctx.timeZone)) };
    case O.interval: {
      const i = parseInterval(text);
      return { type: 'interval', value: new DuckDBIntervalValue(i.months, i.days, i.micros) };
    }
    case O.uuid:
      return { type: 'uuid', value: DuckDBUUIDValue.fromUint128(parseUuid(text)) };
    case O.bytea:
      return { type: 'blob', value: parseBytea(text) };
    default: {
      const element = arrayElement(oid);
      if (element !== null) return decodeArray(element, text, ctx);
      // text, varchar, json, unknown, and types read by DuckDB's own cast (timetz, varbit, ...).
      return { type: 'varchar', value: text };
    }
  }
}

/** The element type of an array type (`_int4` -> int4), or null for a type that is not an array. */
function arrayElement(oid: number): number | null {
  const t = pgTypeByOid(oid);
  return t?.category === 'A' ? t.elementOid : null;
}

/** The DuckDB type of an array element of this PostgreSQL type, as decodeText decodes it. */
function elementType(oid: number): DuckDBType {
  switch (oid) {
    case O.bool: return BOOLEAN;
    case O.int2: return SMALLINT;
    case O.int4: return INTEGER;
    case O.int8: return BIGINT;
    case O.float4: return FLOAT;
    case O.float8: return DOUBLE;
    case O.date: return DATE;
    case O.time: return TIME;
    case O.timestamp: return TIMESTAMP;
    case O.timestamptz: return TIMESTAMPTZ;
    case O.interval: return INTERVAL;
    case O.uuid: return UUID;
    case O.bytea: return BLOB;
    default: return VARCHAR;
  }
}

/** Decoded array elements, nested as the array's dimensions. */
type ElementTree = (ParamValue | ElementTree)[];

const NULL_VALUE: ParamValue = { type: 'null' };

/** An array in PostgreSQL's input syntax (array_in). */
function decodeArray(elementOid: number, text: string, ctx: ParamContext): ParamValue {
  // array_in stops at the 7th level of braces; so must we, before a parser that recurses per level.
  if (braceDepth(text) > MAX_ARRAY_DIMS) throw tooManyDims(MAX_ARRAY_DIMS + 1);
  const decodeItems = (items: ArrayItem[]): ElementTree =>
    items.map((x) => (Array.isArray(x) ? decodeItems(x) : x === null ? NULL_VALUE : decodeText(elementOid, x, ctx)));
  return listOf(elementOid, decodeItems(parseArray(text)));
}

/**
 * Decoded array elements as a DuckDB LIST of the element type (a list of lists for more
 * dimensions). numeric elements share one DECIMAL(38, s), s the largest scale among them,
 * or become DOUBLE when one of them is NaN or infinite.
 */
function listOf(elementOid: number, tree: ElementTree): ParamValue {
  const leaves: ParamValue[] = [];
  const collect = (t: ElementTree): void => {
    for (const x of t) {
      if (Array.isArray(x)) collect(x);
      else leaves.push(x);
    }
  };
  collect(tree);
  let element = elementType(elementOid);
  let leafValue = (p: ParamValue): DuckDBValue => (p.type === 'null' ? null : p.type === 'blob' ? new DuckDBBlobValue(p.value) : (p.value as DuckDBValue));
  if (elementOid === O.numeric) {
    if (leaves.some((p) => p.type === 'double')) {
      element = DOUBLE;
      leafValue = (p) => (p.type === 'double' ? p.value : p.type === 'decimal' ? Number(p.value.toDouble()) : null);
    } else {
      const scale = Math.max(0, ...leaves.map((p) => (p.type === 'decimal' ? p.value.scale : 0)));
      element = DECIMAL(MAX_DECIMAL_WIDTH, scale);
      leafValue = (p) => {
        if (p.type !== 'decimal') return null;
        const unscaled = p.value.value * 10n ** BigInt(scale - p.value.scale);
        if (String(unscaled < 0n ? -unscaled : unscaled).length > MAX_DECIMAL_WIDTH) {
          throw new PgError(SqlState.NumericValueOutOfRange, 'numeric array element has more digits than DuckDB holds');
        }
        return new DuckDBDecimalValue(unscaled, MAX_DECIMAL_WIDTH, scale);
      };
    }
  }
  let depth = 1;
  for (let t: unknown = tree[0]; Array.isArray(t); t = t[0]) depth++;
  if (depth > MAX_ARRAY_DIMS) throw tooManyDims(depth);
  let listType = LIST(element);
  for (let d = 1; d < depth; d++) listType = LIST(listType);
  const build = (items: ElementTree): DuckDBListValue =>
    new DuckDBListValue(items.map((x) => (Array.isArray(x) ? build(x) : leafValue(x))));
  return { type: 'list', value: build(tree), listType };
}

/** The deepest nesting of `{` outside double quotes (a backslash escapes the next character anywhere). */
function braceDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22) quoted = !quoted;
    else if (!quoted && c === 0x7b) max = Math.max(max, ++depth);
    else if (!quoted && c === 0x7d) depth--;
  }
  return max;
}

function tooManyDims(n: number): PgError {
  return new PgError(SqlState.ProgramLimitExceeded, `number of array dimensions (${n}) exceeds the maximum allowed (${MAX_ARRAY_DIMS})`);
}

function badBinary(index: number): PgError {
  return new PgError(SqlState.InvalidBinaryRepresentation, `incorrect binary data format in bind parameter ${index}`);
}

/** The binary types a parameter may be sent in. */
const BINARY_PARAM_TYPES: ReadonlySet<number> = new Set([
  O.bool, O.int2, O.int4, O.int8, O.float4, O.float8, O.numeric, O.date, O.time, O.timestamp,
  O.timestamptz, O.interval, O.text, O.varchar, O.bpchar, O.name, O.json, O.jsonb, O.unknown, O.bytea, O.uuid,
]);

function decodeBinary(oid: number, bytes: Uint8Array, index: number): ParamValue {
  const element = arrayElement(oid);
  if (element !== null && BINARY_PARAM_TYPES.has(element) && pgTypeByOid(oid)!.name.startsWith('_')) {
    return arrayRecv(element, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), index);
  }
  if (!BINARY_PARAM_TYPES.has(oid)) {
    throw new PgError(SqlState.FeatureNotSupported, `binary format is not supported for parameters of type ${typeName(oid)}`, {
      hint: 'Send this parameter in text format.',
    });
  }
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = (n: number) => {
    if (b.length !== n) throw badBinary(index);
  };
  switch (oid) {
    case O.bool:
      size(1);
      return { type: 'boolean', value: b[0] !== 0 };
    case O.int2:
      size(2);
      return { type: 'smallint', value: b.readInt16BE(0) };
    case O.int4:
      size(4);
      return { type: 'integer', value: b.readInt32BE(0) };
    case O.int8:
      size(8);
      return { type: 'bigint', value: b.readBigInt64BE(0) };
    case O.float4:
      size(4);
      return { type: 'float', value: b.readFloatBE(0) };
    case O.float8:
      size(8);
      return { type: 'double', value: b.readDoubleBE(0) };
    case O.numeric:
      return numericRecv(b, index);
    case O.date: {
      size(4);
      const d = b.readInt32BE(0);
      const days = d === 2 ** 31 - 1 ? DATE_INFINITY : d === -(2 ** 31) ? -DATE_INFINITY : d + POSTGRES_EPOCH_DAYS;
      return { type: 'date', value: new DuckDBDateValue(days) };
    }
    case O.time: {
      size(8);
      const t = b.readBigInt64BE(0);
      if (t < 0n || t > 86_400_000_000n) throw new PgError(SqlState.DatetimeFieldOverflow, 'time out of range');
      return { type: 'time', value: new DuckDBTimeValue(t) };
    }
    case O.timestamp:
    case O.timestamptz: {
      size(8);
      const t = b.readBigInt64BE(0);
      const max = 2n ** 63n - 1n;
      const micros = t === max ? TIMESTAMP_INFINITY : t === -max - 1n ? -TIMESTAMP_INFINITY : t + POSTGRES_EPOCH_MICROS;
      if ((micros >= max || micros <= -max) && t !== max && t !== -max - 1n) {
        throw new PgError(SqlState.DatetimeFieldOverflow, 'timestamp out of range'); // never DuckDB's infinity by accident
      }
      return oid === O.timestamp
        ? { type: 'timestamp', value: new DuckDBTimestampValue(micros) }
        : { type: 'timestamptz', value: new DuckDBTimestampTZValue(micros) };
    }
    case O.interval:
      size(16);
      return { type: 'interval', value: new DuckDBIntervalValue(b.readInt32BE(12), b.readInt32BE(8), b.readBigInt64BE(0)) };
    case O.uuid:
      size(16);
      return { type: 'uuid', value: DuckDBUUIDValue.fromUint128((b.readBigUInt64BE(0) << 64n) | b.readBigUInt64BE(8)) };
    case O.bytea:
      return { type: 'blob', value: Uint8Array.from(b) };
    case O.jsonb:
      if (b[0] !== 1) throw new PgError(SqlState.InvalidBinaryRepresentation, `unsupported jsonb version number ${b[0] ?? 0}`);
      return { type: 'varchar', value: textOf(b.subarray(1)) };
    default:
      return { type: 'varchar', value: textOf(b) };
  }
}

/**
 * array_recv: the number of dimensions, a has-NULLs flag, the element type's OID, then the
 * size and lower bound of each dimension, then each element (row-major) as a length (-1:
 * NULL) and its bytes in the element type's binary format. The element type must be the
 * declared array's (42804); lower bounds are not kept (as in the text form).
 */
function arrayRecv(elementOid: number, b: Buffer, index: number): ParamValue {
  if (b.length < 12) throw badBinary(index);
  const ndim = b.readInt32BE(0);
  const flags = b.readInt32BE(4);
  const sent = b.readUInt32BE(8);
  if (ndim < 0) throw new PgError(SqlState.InvalidBinaryRepresentation, `invalid number of dimensions: ${ndim}`);
  if (ndim > MAX_ARRAY_DIMS) throw tooManyDims(ndim);
  if (flags !== 0 && flags !== 1) throw new PgError(SqlState.InvalidBinaryRepresentation, 'invalid array flags');
  if (sent !== elementOid) {
    throw new PgError(SqlState.DatatypeMismatch, `binary data has array element type ${sent} (${typeName(sent)}) instead of expected ${elementOid} (${typeName(elementOid)})`);
  }
  if (b.length < 12 + 8 * ndim) throw badBinary(index);
  const dims: number[] = [];
  let count = ndim === 0 ? 0 : 1;
  for (let d = 0; d < ndim; d++) {
    const size = b.readInt32BE(12 + 8 * d);
    const lower = b.readInt32BE(16 + 8 * d);
    if (size < 0 || lower + size - 1 > 2 ** 31 - 1) throw new PgError(SqlState.NumericValueOutOfRange, 'integer out of range');
    dims.push(size);
    count *= size;
  }
  // Every element takes at least its 4-byte length: a count beyond that is a lie, not an allocation to make.
  let at = 12 + 8 * ndim;
  if (count > (b.length - at) / 4) throw new PgError(SqlState.InvalidBinaryRepresentation, 'insufficient data left in message');
  const items: ParamValue[] = [];
  for (let i = 0; i < count; i++) {
    const len = b.readInt32BE(at);
    at += 4;
    if (len === -1) {
      items.push(NULL_VALUE);
      continue;
    }
    if (len < -1 || len > b.length - at) throw new PgError(SqlState.InvalidBinaryRepresentation, 'insufficient data left in message');
    items.push(decodeBinary(elementOid, b.subarray(at, at + len), index));
    at += len;
  }
  if (at !== b.length) throw badBinary(index);
  // Row-major elements, nested by the dimensions (none, or one of size 0: an empty array).
  const nest = (d: number, from: number): ElementTree => {
    if (d === dims.length - 1) return items.slice(from, from + dims[d]!);
    const stride = dims.slice(d + 1).reduce((x, y) => x * y, 1);
    return Array.from({ length: dims[d]! }, (_, k) => nest(d + 1, from + k * stride));
  };
  return listOf(elementOid, count === 0 ? [] : nest(0, 0));
}

/** numeric_recv: the format numericBinary writes. */
function numericRecv(b: Buffer, index: number): ParamValue {
  if (b.length < 8) throw badBinary(index);
  const n = b.readInt16BE(0);
  const weight = b.readInt16BE(2);
  const sign = b.readUInt16BE(4);
  const dscale = b.readInt16BE(6);
  if (n < 0 || b.length !== 8 + 2 * n || dscale < 0) throw badBinary(index);
  if (sign === NUMERIC_NAN) return { type: 'double', value: NaN };
  if (sign === NUMERIC_PINF) return { type: 'double', value: Infinity };
  if (sign === NUMERIC_NINF) return { type: 'double', value: -Infinity };
  if (sign !== NUMERIC_POS && sign !== NUMERIC_NEG) throw new PgError(SqlState.InvalidBinaryRepresentation, 'invalid sign in external "numeric" value');
  let digits = '';
  for (let i = 0; i < n; i++) {
    const d = b.readInt16BE(8 + 2 * i);
    if (d < 0 || d > 9999) throw new PgError(SqlState.InvalidBinaryRepresentation, 'invalid digit in external "numeric" value');
    digits += String(d).padStart(4, '0');
  }
  // digits holds the value * 10000^(n - 1 - weight); bring it to dscale fractional digits.
  const fracDigits = 4 * (n - 1 - weight);
  let unscaled = BigInt(digits || '0');
  if (fracDigits > dscale) unscaled /= 10n ** BigInt(fracDigits - dscale);
  else if (fracDigits < dscale) unscaled *= 10n ** BigInt(dscale - fracDigits);
  const text = String(unscaled);
  const intDigits = Math.max(0, text.length - dscale);
  if (intDigits > MAX_DECIMAL_WIDTH) throw new PgError(SqlState.NumericValueOutOfRange, `numeric value has more than ${MAX_DECIMAL_WIDTH} digits before the decimal point`);
  let scale = dscale;
  if (intDigits + scale > MAX_DECIMAL_WIDTH) {
    const drop = 10n ** BigInt(intDigits + scale - MAX_DECIMAL_WIDTH);
    unscaled = (unscaled + drop / 2n) / drop;
    scale = MAX_DECIMAL_WIDTH - intDigits;
  }
  const width = Math.min(MAX_DECIMAL_WIDTH, Math.max(1, scale, String(unscaled).length));
  return decimal(sign === NUMERIC_NEG ? -unscaled : unscaled, width, scale);
}
