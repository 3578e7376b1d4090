/**
 * Parameters of a DuckDB prepared statement: the types DuckDB infers for them, the
 * columns it will return, and binding decoded values by type. Values are bound, never
 * written into SQL text.
 */
import { DuckDBTypeId, type DuckDBPreparedStatement, type DuckDBType } from '@duckdb/node-api';
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import type { ParamValue } from '../wire/params.js';

/** A result column; type null: DuckDB decides it from the bound values at execution. */
export interface ResultColumn {
  name: string;
  type: DuckDBType | null;
  /**
   * Described as numeric without a typmod (-1), PostgreSQL's unconstrained numeric: its
   * scale follows the scale of the values bound to numeric parameters (see numericScaleFollowsValues).
   */
  anyScale?: boolean;
}

/**
 * Whether a column of this type, in a statement with numeric parameters, can take its
 * scale from the bound values. A numeric parameter is a DECIMAL(38, scale of the value)
 * (wire/params.ts), and DuckDB keeps the width 38 through whatever is computed from it
 * (arithmetic, CASE, COALESCE, min/max, round, ...), while a cast to a DECIMAL(p,s) gives
 * that fixed type. So a DECIMAL(38,s) column, or an array of it, may follow the bound
 * scale, and is described as PostgreSQL describes numeric expressions, without a typmod;
 * every other column keeps its typmod. (A client such as pgjdbc rescales each value to
 * the typmod it was told at Describe, so a typmod that a later Bind changes would round
 * values.)
 */
export function numericScaleFollowsValues(type: DuckDBType): boolean {
  let t = type;
  while (t.typeId === DuckDBTypeId.LIST || t.typeId === DuckDBTypeId.ARRAY) t = t.valueType;
  return t.typeId === DuckDBTypeId.DECIMAL && t.width === MAX_WIDTH;
}

const MAX_WIDTH = 38;

/** Type ids that say "not known before values are bound". */
const UNRESOLVED: ReadonlySet<DuckDBTypeId> = new Set([DuckDBTypeId.INVALID, DuckDBTypeId.ANY, DuckDBTypeId.SQLNULL]);

/**
 * The type DuckDB gives each parameter, $1 first; null where it cannot tell (`SELECT $1`).
 * PostgreSQL numbers parameters $1..$n; DuckDB numbers only those the text uses, so a
 * text that skips a number is refused, as PostgreSQL refuses a parameter whose type it
 * cannot determine (42P18). DuckDB's named parameters ($name) are not PostgreSQL's.
 */
export function parameterTypes(p: DuckDBPreparedStatement): (DuckDBType | null)[] {
  const out: (DuckDBType | null)[] = [];
  for (let i = 1; i <= p.parameterCount; i++) {
    let name = '';
    try {
      name = p.parameterName(i);
    } catch {
      // DuckDB has no parameter $i: the text skipped it
    }
    if (name !== String(i)) {
      if (name !== '' && !/^\d+$/.test(name)) {
        throw new PgError(SqlState.SyntaxError, `named parameter $${name} is not supported`, { hint: 'Number parameters $1, $2, ...' });
      }
      throw new PgError(SqlState.IndeterminateDatatype, `could not determine data type of parameter $${i}`);
    }
    out.push(UNRESOLVED.has(p.parameterTypeId(i)) ? null : p.parameterType(i));
  }
  return out;
}

/** The statement's columns; `numericParams`: it has numeric parameters (see numericScaleFollowsValues). */
export function resultColumns(p: DuckDBPreparedStatement, numericParams = false): ResultColumn[] {
  const out: ResultColumn[] = [];
  for (let i = 0; i < p.columnCount; i++) {
    const type = UNRESOLVED.has(p.columnTypeId(i)) ? null : p.columnType(i);
    out.push(numericParams && type && numericScaleFollowsValues(type) ? { name: p.columnName(i), type, anyScale: true } : { name: p.columnName(i), type });
  }
  return out;
}

/** Binds one decoded value ($index, 1-based) with the bind method of its type. */
export function bindParameter(p: DuckDBPreparedStatement, index: number, v: ParamValue): void {
  switch (v.type) {
    case 'null':
      return p.bindNull(index);
    case 'boolean':
      return p.bindBoolean(index, v.value);
    case 'smallint':
      return p.bindSmallInt(index, v.value);
    case 'integer':
      return p.bindInteger(index, v.value);
    case 'bigint':
      return p.bindBigInt(index, v.value);
    case 'float':
      return p.bindFloat(index, v.value);
    case 'double':
      return p.bindDouble(index, v.value);
    case 'decimal':
      return p.bindDecimal(index, v.value);
    case 'date':
      return p.bindDate(index, v.value);
    case 'time':
      return p.bindTime(index, v.value);
    case 'timestamp':
      return p.bindTimestamp(index, v.value);
    case 'timestamptz':
      return p.bindTimestampTZ(index, v.value);
    case 'interval':
      return p.bindInterval(index, v.value);
    case 'uuid':
      return p.bindUUID(index, v.value);
    case 'blob':
      return p.bindBlob(index, v.value);
    case 'varchar':
      return p.bindVarchar(index, v.value);
    case 'list':
      return p.bindList(index, v.value, v.listType);
  }
}
