// Quoting of element text inside PostgreSQL arrays (array_out) and records (record_out).
import { DuckDBTypeId, type DuckDBType } from '@duckdb/node-api';

// array_out: quote when empty, equal to NULL (any case), or containing { } , " \ or ASCII space.
const ARRAY_NEEDS_QUOTES = /[{}",\\ \t\n\r\v\f]/;
const ARRAY_ESCAPE = /["\\]/g;
export function quoteArrayElement(t: string): string {
  if (t.length === 0) return '""';
  if (ARRAY_NEEDS_QUOTES.test(t) || (t.length === 4 && (t === 'NULL' || t.toUpperCase() === 'NULL'))) {
    return '"' + t.replace(ARRAY_ESCAPE, '\\$&') + '"';
  }
  return t;
}

// record_out: quote when empty or containing ( ) , " \ or ASCII space; double " and \ inside.
const RECORD_NEEDS_QUOTES = /[(),"\\ \t\n\r\v\f]/;
export function quoteRecordField(t: string): string {
  if (t.length === 0) return '""';
  if (RECORD_NEEDS_QUOTES.test(t)) return '"' + t.replace(ARRAY_ESCAPE, '$&$&') + '"';
  return t;
}

/** Types whose text can never need quoting inside an array or a record. */
export function neverNeedsQuotes(type: DuckDBType): boolean {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
    case DuckDBTypeId.DECIMAL:
    case DuckDBTypeId.UUID:
    case DuckDBTypeId.BIT:
    case DuckDBTypeId.TIME:
    case DuckDBTypeId.TIME_NS:
    case DuckDBTypeId.TIME_TZ:
      return true;
    default:
      return false;
  }
}
