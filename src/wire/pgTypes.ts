// PostgreSQL type catalogue, and the mapping from a DuckDB result column type to what a
// RowDescription field needs (type OID, typlen, typmod).
import { DuckDBTypeId, type DuckDBType } from '@duckdb/node-api';

/**
 * The PostgreSQL types this gateway can describe, with their real pg_type values
 * (PostgreSQL 15/16): typname, oid, typarray, typlen, typbyval, typtype, typcategory, typelem.
 * Array types are rows of their own (typcategory 'A'), as in pg_type.
 */
export const PG_TYPES = [
  // base and pseudo types
  { name: 'bool', oid: 16, arrayOid: 1000, typlen: 1, byval: true, typtype: 'b', category: 'B', elementOid: 0 },
  { name: 'bytea', oid: 17, arrayOid: 1001, typlen: -1, byval: false, typtype: 'b', category: 'U', elementOid: 0 },
  { name: 'char', oid: 18, arrayOid: 1002, typlen: 1, byval: true, typtype: 'b', category: 'Z', elementOid: 0 },
  { name: 'name', oid: 19, arrayOid: 1003, typlen: 64, byval: false, typtype: 'b', category: 'S', elementOid: 18 },
  { name: 'int8', oid: 20, arrayOid: 1016, typlen: 8, byval: true, typtype: 'b', category: 'N', elementOid: 0 },
  { name: 'int2', oid: 21, arrayOid: 1005, typlen: 2, byval: true, typtype: 'b', category: 'N', elementOid: 0 },
  { name: 'int2vector', oid: 22, arrayOid: 1006, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 21 },
  { name: 'int4', oid: 23, arrayOid: 1007, typlen: 4, byval: true, typtype: 'b', category: 'N', elementOid: 0 },
  { name: 'regproc', oid: 24, arrayOid: 1008, typlen: 4, byval: true, typtype: 'b', category: 'N', elementOid: 0 },
  { name: 'text', oid: 25, arrayOid: 1009, typlen: -1, byval: false, typtype: 'b', category: 'S', elementOid: 0 },
  { name: 'oid', oid: 26, arrayOid: 1028, typlen: 4, byval: true, typtype: 'b', category: 'N', elementOid: 0 },
  { name: 'oidvector', oid: 30, arrayOid: 1013, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 26 },
  { name: 'json', oid: 114, arrayOid: 199, typlen: -1, byval: false, typtype: 'b', category: 'U', elementOid: 0 },
  { name: 'float4', oid: 700, arrayOid: 1021, typlen: 4, byval: true, typtype: 'b', category: 'N', elementOid: 0 },
  { name: 'float8', oid: 701, arrayOid: 1022, typlen: 8, byval: true, typtype: 'b', category: 'N', elementOid: 0 },
  { name: 'unknown', oid: 705, arrayOid: 0, typlen: -2, byval: false, typtype: 'p', category: 'X', elementOid: 0 },
  { name: 'bpchar', oid: 1042, arrayOid: 1014, typlen: -1, byval: false, typtype: 'b', category: 'S', elementOid: 0 },
  { name: 'varchar', oid: 1043, arrayOid: 1015, typlen: -1, byval: false, typtype: 'b', category: 'S', elementOid: 0 },
  { name: 'date', oid: 1082, arrayOid: 1182, typlen: 4, byval: true, typtype: 'b', category: 'D', elementOid: 0 },
  { name: 'time', oid: 1083, arrayOid: 1183, typlen: 8, byval: true, typtype: 'b', category: 'D', elementOid: 0 },
  { name: 'timestamp', oid: 1114, arrayOid: 1115, typlen: 8, byval: true, typtype: 'b', category: 'D', elementOid: 0 },
  { name: 'timestamptz', oid: 1184, arrayOid: 1185, typlen: 8, byval: true, typtype: 'b', category: 'D', elementOid: 0 },
  { name: 'interval', oid: 1186, arrayOid: 1187, typlen: 16, byval: false, typtype: 'b', category: 'T', elementOid: 0 },
  { name: 'timetz', oid: 1266, arrayOid: 1270, typlen: 12, byval: false, typtype: 'b', category: 'D', elementOid: 0 },
  { name: 'varbit', oid: 1562, arrayOid: 1563, typlen: -1, byval: false, typtype: 'b', category: 'V', elementOid: 0 },
  { name: 'numeric', oid: 1700, arrayOid: 1231, typlen: -1, byval: false, typtype: 'b', category: 'N', elementOid: 0 },
  { name: 'regclass', oid: 2205, arrayOid: 2210, typlen: 4, byval: true, typtype: 'b', category: 'N', elementOid: 0 },
  { name: 'regtype', oid: 2206, arrayOid: 2211, typlen: 4, byval: true, typtype: 'b', category: 'N', elementOid: 0 },
  { name: 'record', oid: 2249, arrayOid: 2287, typlen: -1, byval: false, typtype: 'p', category: 'P', elementOid: 0 },
  { name: 'void', oid: 2278, arrayOid: 0, typlen: 4, byval: true, typtype: 'p', category: 'P', elementOid: 0 },
  { name: 'uuid', oid: 2950, arrayOid: 2951, typlen: 16, byval: false, typtype: 'b', category: 'U', elementOid: 0 },
  { name: 'jsonb', oid: 3802, arrayOid: 3807, typlen: -1, byval: false, typtype: 'b', category: 'U', elementOid: 0 },
  // array types
  { name: '_json', oid: 199, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 114 },
  { name: '_bool', oid: 1000, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 16 },
  { name: '_bytea', oid: 1001, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 17 },
  { name: '_char', oid: 1002, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 18 },
  { name: '_name', oid: 1003, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 19 },
  { name: '_int2', oid: 1005, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 21 },
  { name: '_int2vector', oid: 1006, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 22 },
  { name: '_int4', oid: 1007, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 23 },
  { name: '_regproc', oid: 1008, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 24 },
  { name: '_text', oid: 1009, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 25 },
  { name: '_oidvector', oid: 1013, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 30 },
  { name: '_bpchar', oid: 1014, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 1042 },
  { name: '_varchar', oid: 1015, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 1043 },
  { name: '_int8', oid: 1016, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 20 },
  { name: '_float4', oid: 1021, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 700 },
  { name: '_float8', oid: 1022, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 701 },
  { name: '_oid', oid: 1028, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 26 },
  { name: '_timestamp', oid: 1115, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 1114 },
  { name: '_date', oid: 1182, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 1082 },
  { name: '_time', oid: 1183, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 1083 },
  { name: '_timestamptz', oid: 1185, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 1184 },
  { name: '_interval', oid: 1187, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 1186 },
  { name: '_numeric', oid: 1231, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 1700 },
  { name: '_timetz', oid: 1270, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 1266 },
  { name: '_varbit', oid: 1563, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 1562 },
  { name: '_regclass', oid: 2210, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 2205 },
  { name: '_regtype', oid: 2211, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 2206 },
  { name: '_record', oid: 2287, arrayOid: 0, typlen: -1, byval: false, typtype: 'p', category: 'P', elementOid: 2249 },
  { name: '_uuid', oid: 2951, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 2950 },
  { name: '_jsonb', oid: 3807, arrayOid: 0, typlen: -1, byval: false, typtype: 'b', category: 'A', elementOid: 3802 },
] as const;

export type PgTypeEntry = (typeof PG_TYPES)[number];
export type PgTypeName = PgTypeEntry['name'];

/** OIDs by type name, for code that wants `PG_OID.int4` rather than a bare 23. */
export const PG_OID = Object.freeze(
  Object.fromEntries(PG_TYPES.map((t) => [t.name, t.oid])) as { readonly [K in PgTypeName]: number },
);

const BY_OID: ReadonlyMap<number, PgTypeEntry> = new Map(PG_TYPES.map((t) => [t.oid, t]));
const BY_NAME: ReadonlyMap<string, PgTypeEntry> = new Map(PG_TYPES.map((t) => [t.name, t]));

export function pgTypeByOid(oid: number): PgTypeEntry | undefined {
  return BY_OID.get(oid);
}

export function pgTypeByName(name: string): PgTypeEntry | undefined {
  return BY_NAME.get(name);
}

/** What a RowDescription field needs. `name` is the pg_type typname (`int4`, `_text`, ...). */
export interface PgFieldType {
  oid: number;
  typlen: number;
  typmod: number;
  name: string;
}

function field(name: PgTypeName, typmod = -1): PgFieldType {
  const t = BY_NAME.get(name)!;
  return { oid: t.oid, typlen: t.typlen, typmod, name: t.name };
}

// Fixed answers are shared: callers must treat a PgFieldType as read-only.
const F = {
  bool: field('bool'),
  int2: field('int2'),
  int4: field('int4'),
  int8: field('int8'),
  numeric: field('numeric'),
  float4: field('float4'),
  float8: field('float8'),
  text: field('text'),
  json: field('json'),
  bytea: field('bytea'),
  date: field('date'),
  time: field('time'),
  timetz: field('timetz'),
  timestamp: field('timestamp'),
  timestamptz: field('timestamptz'),
  interval: field('interval'),
  uuid: field('uuid'),
  varbit: field('varbit'),
  record: field('record'),
} as const;

/** numeric typmod as PostgreSQL computes it: ((precision << 16) | scale) + VARHDRSZ. */
export function numericTypmod(precision: number, scale: number): number {
  return ((precision << 16) | scale) + 4;
}

function isJsonAlias(type: DuckDBType): boolean {
  return type.alias !== undefined && type.alias.toUpperCase() === 'JSON';
}

/**
 * The PostgreSQL type a DuckDB column is described as.
 *
 * - Unsigned integers widen to the next signed type that holds them; 64- and 128-bit
 *   integers that do not fit int8 (HUGEINT, UBIGINT, UHUGEINT, BIGNUM) become numeric.
 * - LIST and ARRAY become the PostgreSQL array of their innermost element type (PostgreSQL
 *   arrays are multi-dimensional, so a list of lists has the same array type); the
 *   element's typmod is kept, as PostgreSQL does for `numeric(10,2)[]`.
 * - STRUCT becomes an anonymous record; a list of structs becomes record[].
 * - MAP, UNION, VARIANT, GEOMETRY and anything else without a PostgreSQL counterpart are
 *   text, with the text form textFormat.ts documents.
 */
export function pgFieldTypeFor(type: DuckDBType): PgFieldType {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return F.bool;
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.UTINYINT:
      return F.int2;
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.USMALLINT:
      return F.int4;
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UINTEGER:
      return F.int8;
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
      return F.numeric;
    case DuckDBTypeId.FLOAT:
      return F.float4;
    case DuckDBTypeId.DOUBLE:
      return F.float8;
    case DuckDBTypeId.DECIMAL:
      return field('numeric', numericTypmod(type.width, type.scale));
    case DuckDBTypeId.VARCHAR:
      return isJsonAlias(type) ? F.json : F.text;
    case DuckDBTypeId.ENUM:
      return F.text;
    case DuckDBTypeId.BLOB:
      return F.bytea;
    case DuckDBTypeId.DATE:
      return F.date;
    case DuckDBTypeId.TIME:
    case DuckDBTypeId.TIME_NS:
      return F.time;
    case DuckDBTypeId.TIME_TZ:
      return F.timetz;
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return F.timestamp;
    case DuckDBTypeId.TIMESTAMP_TZ:
      return F.timestamptz;
    case DuckDBTypeId.INTERVAL:
      return F.interval;
    case DuckDBTypeId.UUID:
      return F.uuid;
    case DuckDBTypeId.BIT:
      return F.varbit;
    case DuckDBTypeId.STRUCT:
      return F.record;
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY: {
      const element = pgFieldTypeFor(innermostElementType(type));
      const entry = BY_OID.get(element.oid);
      const arrayOid = entry?.arrayOid ?? 0;
      const arrayEntry = arrayOid !== 0 ? BY_OID.get(arrayOid) : undefined;
      if (!arrayEntry) return field('_text');
      return { oid: arrayEntry.oid, typlen: arrayEntry.typlen, typmod: element.typmod, name: arrayEntry.name };
    }
    default:
      // MAP, UNION, VARIANT, GEOMETRY, SQLNULL (a bare NULL), ANY, literal types: text.
      return F.text;
  }
}

/** For LIST/ARRAY: the element type under all list/array levels. */
export function innermostElementType(type: DuckDBType): DuckDBType {
  let t = type;
  while (t.typeId === DuckDBTypeId.LIST || t.typeId === DuckDBTypeId.ARRAY) t = t.valueType;
  return t;
}
