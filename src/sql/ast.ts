/**
 * DuckDB's AST as JSON, read and written without losing a number: json_serialize_sql
 * emits UINT64_MAX query locations and integral doubles ("1.0") that JSON.parse would
 * corrupt, and json_deserialize_sql must get back exactly what it gave.
 */
import { parse, stringify } from 'lossless-json';

export type AstObject = Record<string, unknown>;

export function parseAst(json: string): AstObject {
  return parse(json) as AstObject;
}

export function stringifyAst(ast: unknown): string {
  const s = stringify(ast);
  if (s === undefined) throw new Error('AST cannot be serialised');
  return s;
}

export function isObject(v: unknown): v is AstObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A string field of an AST node, or '' (lossless-json keeps strings as strings). */
export function str(o: AstObject, key: string): string {
  const v = o[key];
  return typeof v === 'string' ? v : '';
}
