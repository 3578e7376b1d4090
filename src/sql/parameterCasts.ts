/**
 * Declared parameter types. A client that declares the type of `$n` in Parse makes `$n`
 * an expression of that type, as in PostgreSQL (`SELECT $1` with $1 declared bool returns
 * a bool). DuckDB infers a parameter's type from its context only, so the gate wraps each
 * declared parameter in a CAST to the declared type in the checked AST, before the SQL
 * that runs is regenerated from it. The casts name types from a fixed list, nothing else.
 */
import { isObject, type AstObject } from './ast.js';

/** The DuckDB types a parameter may be cast to (LogicalType ids as json_serialize_sql writes them). */
export const PARAMETER_CAST_TYPES: ReadonlySet<string> = new Set([
  'BOOLEAN', 'SMALLINT', 'INTEGER', 'BIGINT', 'FLOAT', 'DOUBLE', 'DATE', 'TIME', 'TIMESTAMP',
  'TIMESTAMP WITH TIME ZONE', 'INTERVAL', 'UUID', 'BLOB', 'VARCHAR',
]);

/** Casts by parameter: casts[i] is the type of $(i+1), null for none. */
export type ParameterCasts = readonly (string | null)[];

export function castKey(casts: ParameterCasts): string {
  return casts.map((c) => c ?? '').join(',');
}

function castOf(param: AstObject, type: string): AstObject {
  return {
    class: 'CAST',
    type: 'OPERATOR_CAST',
    alias: param.alias,
    query_location: param.query_location,
    child: { ...param, alias: '' },
    cast_type: { id: type, type_info: null },
    try_cast: false,
  };
}

/** A copy of the AST in which every `$n` with a declared type is `CAST($n AS type)`. */
export function castParameters(node: unknown, casts: ParameterCasts): unknown {
  for (const c of casts) {
    if (c !== null && !PARAMETER_CAST_TYPES.has(c)) throw new Error(`not a parameter cast type: ${c}`);
  }
  if (!casts.some((c) => c !== null)) return node;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (!isObject(v) || v.constructor !== Object) return v; // lossless numbers stay as they are
    if (v.class === 'PARAMETER' && typeof v.identifier === 'string' && /^\d+$/.test(v.identifier)) {
      const type = casts[Number(v.identifier) - 1];
      return type ? castOf(v, type) : v;
    }
    const out: AstObject = {};
    for (const k of Object.keys(v)) out[k] = walk(v[k]);
    return out;
  };
  return walk(node);
}
