/**
 * Declared parameter types. A client that declares the type of `$n` in Parse makes `$n`
 * an expression of that type, as in PostgreSQL (`SELECT $1` with $1 declared bool returns
 * a bool). DuckDB infers a parameter's type from its context only, so the gate wraps each
 * declared parameter in a CAST to the declared type in the checked AST, before the SQL
 * that runs is regenerated from it. The casts name types from a fixed grammar, nothing
 * else: a type of PARAMETER_CAST_TYPES or DECIMAL(w,s), followed by up to
 * MAX_ARRAY_DIMS `[]` (a LIST of it, for PostgreSQL's arrays).
 */
import { LosslessNumber } from 'lossless-json';
import { isObject, type AstObject } from './ast.js';

/** The DuckDB types a parameter may be cast to (LogicalType ids as json_serialize_sql writes them). */
export const PARAMETER_CAST_TYPES: ReadonlySet<string> = new Set([
  'BOOLEAN', 'SMALLINT', 'INTEGER', 'BIGINT', 'FLOAT', 'DOUBLE', 'DATE', 'TIME', 'TIMESTAMP',
  'TIMESTAMP WITH TIME ZONE', 'INTERVAL', 'UUID', 'BLOB', 'VARCHAR',
]);

/** PostgreSQL's limit on array dimensions (MAXDIM). */
export const MAX_ARRAY_DIMS = 6;

/** The widest DuckDB DECIMAL. */
const MAX_WIDTH = 38;

/** Casts by parameter: casts[i] is the type of $(i+1), null for none. */
export type ParameterCasts = readonly (string | null)[];

export function castKey(casts: ParameterCasts): string {
  return casts.map((c) => c ?? '').join(',');
}

/** The cast type `DECIMAL(width,scale)` names. */
export function decimalCast(width: number, scale: number): string {
  return `DECIMAL(${width},${scale})`;
}

/** The cast type of a list of `element` with `dims` dimensions (0: the element itself). */
export function listCast(element: string, dims: number): string {
  return element + '[]'.repeat(dims);
}

/**
 * A cast type as json_serialize_sql writes it (the gate compares the regenerated SQL's
 * AST with this one, so every field must be there); throws for anything not in the grammar.
 */
export function castTypeAst(type: string): AstObject {
  const m = /^(.*?)((?:\[\])*)$/.exec(type)!;
  const dims = m[2]!.length / 2;
  if (dims > MAX_ARRAY_DIMS) throw new Error(`not a parameter cast type: ${type}`);
  let ast: AstObject;
  const decimal = /^DECIMAL\((\d{1,2}),(\d{1,2})\)$/.exec(m[1]!);
  if (decimal) {
    const width = Number(decimal[1]);
    const scale = Number(decimal[2]);
    if (width < 1 || width > MAX_WIDTH || scale > width) throw new Error(`not a parameter cast type: ${type}`);
    ast = {
      id: 'DECIMAL',
      type_info: { type: 'DECIMAL_TYPE_INFO', alias: '', extension_info: null, width: new LosslessNumber(String(width)), scale: new LosslessNumber(String(scale)) },
    };
  } else if (PARAMETER_CAST_TYPES.has(m[1]!)) {
    ast = { id: m[1], type_info: null };
  } else {
    throw new Error(`not a parameter cast type: ${type}`);
  }
  for (let d = 0; d < dims; d++) {
    ast = { id: 'LIST', type_info: { type: 'LIST_TYPE_INFO', alias: '', extension_info: null, child_type: ast } };
  }
  return ast;
}

/** A cast of PostgreSQL's numeric (or an array of it): a DECIMAL whose scale is the bound value's. */
export function isNumericCast(type: string | null): boolean {
  return type !== null && type.startsWith('DECIMAL(');
}

/** The number of `[]` of a cast type: its array dimensions. */
function dimsOf(type: string): number {
  return /((?:\[\])*)$/.exec(type)![1]!.length / 2;
}

function castOf(param: AstObject, type: string, alias = param.alias): AstObject {
  return {
    class: 'CAST',
    type: 'OPERATOR_CAST',
    alias,
    query_location: param.query_location,
    child: { ...param, alias: '' },
    cast_type: castTypeAst(type),
    try_cast: false,
  };
}

const UNCONSTRAINED_NUMERIC = Symbol('unconstrained numeric cast');

/**
 * Marks a CAST node as PostgreSQL's `::numeric` / `::numeric[]` without a typmod. DuckDB's
 * parser reads `numeric` as DECIMAL(18,3), the same AST as `numeric(18,3)`, so only the
 * SQL text can tell them apart: the catalog rewrite, which reads the tokens, marks such
 * casts. The mark is a symbol, never serialised into the SQL that runs.
 */
export function markUnconstrainedNumeric(cast: AstObject): AstObject {
  (cast as Record<symbol, unknown>)[UNCONSTRAINED_NUMERIC] = true;
  return cast;
}

function listDepth(castType: unknown): number {
  let d = 0;
  for (let t = castType; isObject(t) && t.id === 'LIST'; t = (t.type_info as AstObject | null)?.child_type) d++;
  return d;
}

/**
 * A copy of the AST in which every `$n` with a declared type is `CAST($n AS type)`.
 * A numeric parameter is already PostgreSQL's unconstrained numeric (a DECIMAL of its
 * value's scale), so an unconstrained `$n::numeric` (marked, see markUnconstrainedNumeric)
 * of it is dropped rather than narrowed to DuckDB's DECIMAL(18,3).
 */
export function castParameters(node: unknown, casts: ParameterCasts): unknown {
  for (const c of casts) if (c !== null) castTypeAst(c);
  if (!casts.some((c) => c !== null)) return node;
  const typeOf = (v: AstObject): string | null | undefined =>
    v.class === 'PARAMETER' && typeof v.identifier === 'string' && /^\d+$/.test(v.identifier) ? casts[Number(v.identifier) - 1] : undefined;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (!isObject(v) || v.constructor !== Object) return v; // lossless numbers stay as they are
    const type = typeOf(v);
    if (type !== undefined) return type ? castOf(v, type) : v;
    if (v.class === 'CAST' && (v as Record<symbol, unknown>)[UNCONSTRAINED_NUMERIC] === true && isObject(v.child)) {
      const inner = typeOf(v.child);
      if (inner && isNumericCast(inner) && dimsOf(inner) === listDepth(v.cast_type)) return castOf(v.child, inner, v.alias);
    }
    const out: AstObject = {};
    for (const k of Object.keys(v)) out[k] = walk(v[k]);
    return out;
  };
  return walk(node);
}
