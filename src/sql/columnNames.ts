/**
 * PostgreSQL's names for unnamed result columns. DuckDB names `count(*)` "count_star()"
 * and `1` "1"; PostgreSQL (FigureColname) says "count" and "?column?", and clients show
 * or key on those names (psql headers, pandas columns, BI field lists).
 *
 * Only the names in RowDescription change: the query itself is not touched. Result
 * columns are matched to select-list items by position, from the start up to the first
 * star (`*`, `t.*`, COLUMNS(...)) and from the end back to the last one; a column whose
 * item cannot be matched keeps DuckDB's name.
 */

type Node = Record<string, unknown>;

const UNKNOWN = '?column?';

/** PostgreSQL's internal type names, as FigureColname uses them for casts of constants. */
const TYPE_NAMES: Record<string, string> = {
  BOOLEAN: 'bool', TINYINT: 'int2', SMALLINT: 'int2', INTEGER: 'int4', BIGINT: 'int8', HUGEINT: 'numeric',
  FLOAT: 'float4', DOUBLE: 'float8', DECIMAL: 'numeric', VARCHAR: 'text', BLOB: 'bytea', DATE: 'date',
  TIME: 'time', 'TIME WITH TIME ZONE': 'timetz', TIMESTAMP: 'timestamp', 'TIMESTAMP WITH TIME ZONE': 'timestamptz',
  INTERVAL: 'interval', UUID: 'uuid', JSON: 'json',
};

/** Functions DuckDB rewrites at parse time, back to the name the user wrote in PostgreSQL. */
const FUNCTION_NAMES: Record<string, string> = {
  count_star: 'count',
  list_value: 'array',
  struct_pack: 'row',
};

const OPERATOR_NAMES: Record<string, string> = {
  OPERATOR_COALESCE: 'coalesce',
  OPERATOR_NULLIF: 'nullif',
};

function isStar(e: Node): boolean {
  return e.class === 'STAR';
}

/** The name an expression has in its own right: its alias, or the name PostgreSQL gives it. */
function ownName(e: Node): string {
  if (typeof e.alias === 'string' && e.alias !== '') return e.alias;
  if (e.class === 'COLUMN_REF') {
    const parts = e.column_names as string[] | undefined;
    return parts?.[parts.length - 1] ?? UNKNOWN;
  }
  return pgExpressionName(e) ?? UNKNOWN;
}

/** The name PostgreSQL would give this expression, or null to keep DuckDB's. */
export function pgExpressionName(e: Node): string | null {
  if (typeof e.alias === 'string' && e.alias !== '') return null;
  switch (e.class) {
    case 'COLUMN_REF':
      return null;
    case 'WINDOW': {
      const name = String(e.function_name ?? '');
      return FUNCTION_NAMES[name] ?? name.toLowerCase();
    }
    case 'CONSTANT':
    case 'PARAMETER':
      return UNKNOWN;
    case 'FUNCTION': {
      const name = String(e.function_name ?? '');
      if (e.is_operator === true || !/^[A-Za-z_][A-Za-z0-9_$]*$/.test(name)) return UNKNOWN;
      return FUNCTION_NAMES[name] ?? name.toLowerCase();
    }
    case 'CAST': {
      const child = e.child as Node | undefined;
      const inner = child ? ownName(child) : UNKNOWN;
      if (inner !== UNKNOWN) return inner;
      const id = String((e.cast_type as Node | undefined)?.id ?? '');
      return TYPE_NAMES[id] ?? (id.toLowerCase() || UNKNOWN);
    }
    case 'CASE':
      return 'case';
    case 'OPERATOR':
      return OPERATOR_NAMES[String(e.type)] ?? UNKNOWN;
    case 'COMPARISON':
    case 'CONJUNCTION':
    case 'BETWEEN':
      return UNKNOWN;
    case 'SUBQUERY': {
      const kind = e.subquery_type;
      if (kind === 'EXISTS') return 'exists';
      if (kind === 'SCALAR') {
        let node = (e.subquery as Node | undefined)?.node as Node | undefined;
        while (node?.type === 'SET_OPERATION_NODE') node = node.left as Node | undefined;
        const first = (node?.select_list as Node[] | undefined)?.[0];
        return first && !isStar(first) ? ownName(first) : UNKNOWN;
      }
      return UNKNOWN;
    }
    default:
      return null;
  }
}

export interface ColumnNames {
  fromStart: (string | null)[];
  fromEnd: (string | null)[];
}

function queryNodeNames(node: Node | undefined): ColumnNames | null {
  if (!node) return null;
  if (node.type === 'SET_OPERATION_NODE') return queryNodeNames(node.left as Node | undefined);
  if (node.type !== 'SELECT_NODE') return null;
  const list = (node.select_list as Node[] | undefined) ?? [];
  const firstStar = list.findIndex(isStar);
  if (firstStar < 0) return { fromStart: list.map(pgExpressionName), fromEnd: [] };
  let lastStar = list.length - 1;
  while (!isStar(list[lastStar]!)) lastStar--;
  return {
    fromStart: list.slice(0, firstStar).map(pgExpressionName),
    fromEnd: list.slice(lastStar + 1).map(pgExpressionName),
  };
}

/** Names for the result of a parsed statement (json_serialize_sql's statements[0]). */
export function pgColumnNames(statement: unknown): ColumnNames {
  return queryNodeNames((statement as Node | undefined)?.node as Node | undefined) ?? { fromStart: [], fromEnd: [] };
}

/** Applies the names to DuckDB's column names. */
export function renameColumns(duckdbNames: readonly string[], names: ColumnNames): string[] {
  const out = [...duckdbNames];
  const n = out.length;
  names.fromStart.forEach((name, i) => {
    if (name !== null && i < n) out[i] = name;
  });
  names.fromEnd.forEach((name, j) => {
    const i = n - names.fromEnd.length + j;
    if (name !== null && i >= names.fromStart.length) out[i] = name;
  });
  return out;
}
