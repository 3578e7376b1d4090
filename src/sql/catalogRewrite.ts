/**
 * The PostgreSQL side of a tenant's statement, rewritten onto DuckDB while the gate
 * walks it (confine.ts calls in here):
 *
 * - references to pg_catalog / information_schema relations become the tenant's rows of
 *   the catalog databases (src/catalog), confined by tenant id like a shared table;
 * - PostgreSQL's catalog and information functions become our macros, session values
 *   (current_user, current_setting(...), pg_backend_pid()) become constants;
 * - reg* casts resolve names to OIDs (a constant) or OIDs to names (anything else);
 * - `~` and friends get PostgreSQL's meaning (a match anywhere, not of the whole string),
 *   `COLLATE "default"` and PostgreSQL array literals in comparisons are understood.
 *
 * Before DuckDB parses the text, normaliseText removes what its parser cannot read:
 * `OPERATOR(pg_catalog.~)` and `::pg_catalog.<type>` qualifiers.
 */
import { isLosslessNumber, LosslessNumber } from 'lossless-json';
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import { STATIC_DB_NAME, STATIC_FUNCTIONS, TENANT_DB_NAME, TENANT_FUNCTIONS } from '../catalog/functions.js';
import { PG_FORMAT_TYPE, PG_PROC, PG_TYPE } from '../catalog/pgData.js';
import { CATALOG_TENANT_COLUMN, findRelation, NAMESPACE, RELATIONS, storedName, type Relation } from '../catalog/relations.js';
import { tableOids } from '../catalog/oids.js';
import { parseArray, type ArrayItem } from '../wire/text/arrayInput.js';
import { parseBytea, parseNumeric } from '../wire/text/input.js';
import { markUnconstrainedNumeric } from './parameterCasts.js';
import { isObject, parseAst, str, type AstObject } from './ast.js';
import type { GateContext } from './catalog.js';
import { splitStatements, type Token } from './lexer.js';
import { quoteIdent, quoteLiteral } from './quote.js';

/** What a statement may learn about the session that runs it. */
export interface SessionFacts {
  user: string;
  pid: number;
  /** The current value of a setting, or undefined when there is none. */
  setting(name: string): string | undefined;
}


/**
 * Removes what DuckDB's parser cannot read from PostgreSQL text. Returns the text
 * unchanged when there is nothing to remove.
 */
export function normaliseText(text: string, tokens: Token[]): string {
  const cuts: [number, number, string][] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const at = (k: number) => tokens[i + k];
    const isWord = (k: number, v: string) => at(k)?.kind === 'word' && at(k)!.value === v;
    const isOp = (k: number, v: string) => at(k)?.kind === 'op' && at(k)!.value === v;
    // OPERATOR(pg_catalog.~) → ~ (the lexer gives an operator one token per character)
    if (isWord(0, 'OPERATOR') && isOp(1, '(') && isWord(2, 'PG_CATALOG') && isOp(3, '.')) {
      let j = 4;
      let op = '';
      while (at(j)?.kind === 'op' && at(j)!.value !== ')' && at(j)!.start === (at(j - 1)!.end)) op += at(j++)!.value;
      if (op !== '' && isOp(j, ')')) {
        cuts.push([t.start, at(j)!.end, ` ${op} `]);
        i += j;
      }
    } else if (isOp(0, ':') && isOp(1, ':') && at(1)!.start === t.end && isWord(2, 'PG_CATALOG') && isOp(3, '.')) {
      // x::pg_catalog.text → x::text
      cuts.push([at(2)!.start, at(3)!.end, '']);
      i += 3;
    }
  }
  if (cuts.length === 0) return text;
  let out = '';
  let from = 0;
  for (const [s, e, r] of cuts) {
    out += text.slice(from, s) + r;
    from = e;
  }
  return out + text.slice(from);
}

/** Re-lexes a normalised statement (it stays one statement: only qualifiers were removed). */
export function relex(text: string): Token[] {
  const st = splitStatements(text);
  if (st.length !== 1) throw new PgError(SqlState.SyntaxError, 'cannot read this text as exactly one statement');
  return st[0]!.tokens;
}

/** Token indexes by the UTF-8 byte offset DuckDB reports as query_location. */
export function tokensByOffset(text: string, tokens: Token[]): Map<number, number> {
  const out = new Map<number, number>();
  let bytes = 0;
  let at = 0;
  tokens.forEach((t, i) => {
    bytes += Buffer.byteLength(text.slice(at, t.start));
    at = t.start;
    out.set(bytes, i);
  });
  return out;
}

// ---- constants -------------------------------------------------------------------------------

function constant(value: string | number | boolean | null, id: string, e: AstObject): AstObject {
  return {
    class: 'CONSTANT',
    type: 'VALUE_CONSTANT',
    alias: e.alias ?? '',
    query_location: e.query_location,
    value: value === null ? { type: { id: 'NULL', type_info: null }, is_null: true } : { type: { id, type_info: null }, is_null: false, value },
  };
}

const text = (v: string | null, e: AstObject) => constant(v, 'VARCHAR', e);
/** Integers as the AST holds them (lossless), so that the round-trip check reads them back equal. */
const int = (v: number, e: AstObject) => constant(new LosslessNumber(String(v)) as unknown as number, 'INTEGER', e);
/** A constant to be an argument: arguments carry no alias (an alias would make it a named argument). */
const arg = (e: AstObject): AstObject => ({ query_location: e.query_location });

function constantString(e: unknown): string | undefined {
  if (!isObject(e) || e.class !== 'CONSTANT' || !isObject(e.value)) return undefined;
  const v = e.value as AstObject;
  const type = v.type as { id?: string } | undefined;
  return v.is_null === false && type?.id === 'VARCHAR' && typeof v.value === 'string' ? v.value : undefined;
}

/** TRUE / FALSE as DuckDB reads them: CAST('t' AS BOOLEAN). */
function constantBool(e: unknown): boolean | undefined {
  if (isObject(e) && e.class === 'CAST' && isObject(e.cast_type) && (e.cast_type as AstObject).id === 'BOOLEAN') {
    const s = constantString(e.child);
    if (s === 't' || s === 'true') return true;
    if (s === 'f' || s === 'false') return false;
  }
  if (!isObject(e) || e.class !== 'CONSTANT' || !isObject(e.value)) return undefined;
  const v = e.value as AstObject;
  return v.is_null === false && typeof v.value === 'boolean' ? v.value : undefined;
}

function call(catalog: string, name: string, children: unknown[], e: AstObject): AstObject {
  return {
    class: 'FUNCTION',
    type: 'FUNCTION',
    alias: e.alias ?? '',
    query_location: e.query_location,
    function_name: name,
    schema: catalog === '' ? '' : 'main',
    catalog,
    children,
    filter: null,
    order_bys: { type: 'ORDER_MODIFIER', orders: [] },
    distinct: false,
    is_operator: false,
    export_state: false,
  };
}

// ---- names ------------------------------------------------------------------------------------

/**
 * A PostgreSQL name as text (`public."Orders"`, `orders`) → [schema, name], folded as
 * PostgreSQL folds, read with the lexer: one to three identifiers separated by dots.
 */
function parseQualifiedName(s: string): [string, string] {
  const invalid = () => new PgError(SqlState.InvalidName, 'invalid name syntax');
  let tokens: Token[];
  try {
    tokens = splitStatements(s)[0]?.tokens ?? [];
  } catch {
    throw invalid();
  }
  const parts: string[] = [];
  for (let i = 0; i < tokens.length; i += 2) {
    const t = tokens[i]!;
    if (t.kind !== 'word' && t.kind !== 'ident') throw invalid();
    parts.push(t.kind === 'word' ? t.value.toLowerCase() : t.value);
    const dot = tokens[i + 1];
    if (dot && !(dot.kind === 'op' && dot.value === '.' && i + 2 < tokens.length)) throw invalid();
  }
  if (parts.length === 0 || parts.length > 3) throw invalid();
  return [parts.length >= 2 ? parts[parts.length - 2]! : '', parts[parts.length - 1]!];
}

const TYPE_OID_BY_NAME = new Map<string, number>();
for (const r of PG_TYPE.rows) TYPE_OID_BY_NAME.set(String(r[PG_TYPE.columns.indexOf('typname')]), Number(r[0]));
for (const [oid, name] of PG_FORMAT_TYPE.rows) TYPE_OID_BY_NAME.set(String(name), Number(oid));
for (const [alias, name] of [['int', 'int4'], ['decimal', 'numeric'], ['float', 'float8'], ['varchar', 'varchar'], ['char', 'bpchar']]) {
  TYPE_OID_BY_NAME.set(alias!, TYPE_OID_BY_NAME.get(name!)!);
}
const PROC_OID_BY_NAME = new Map<string, number>();
for (const r of PG_PROC.rows) {
  const name = String(r[PG_PROC.columns.indexOf('proname')]);
  if (!PROC_OID_BY_NAME.has(name)) PROC_OID_BY_NAME.set(name, Number(r[0]));
}

/** DuckDB integer types whose sum PostgreSQL types as bigint (int2, int4). */
const SMALL_INTEGERS: ReadonlySet<string> = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'UTINYINT', 'USMALLINT']);

/**
 * `x = ANY(arr)` with PostgreSQL's NULLs (no match but a NULL element, or a NULL x, is
 * NULL; an empty array is false); __tg_arr and __tg_x stand for the operands, __tg_match
 * for the test of a match. Written without len(): DuckDB cannot type a prepared statement
 * where len() takes a parameter; list_count/list_position do not have that problem.
 */
export const ANY_EQ_SQL = `SELECT CASE WHEN __tg_arr IS NULL THEN NULL WHEN __tg_match THEN true
  WHEN list_count(__tg_arr) = 0 AND list_position(__tg_arr, NULL) IS NULL THEN false
  WHEN __tg_x IS NULL OR list_position(__tg_arr, NULL) IS NOT NULL THEN NULL ELSE false END`;

/**
 * A copy of a template expression (lossless numbers kept) with the named column references
 * replaced by copies of the given expressions; with none given, a plain deep copy.
 */
function substitute(node: unknown, by: Record<string, unknown>, once: Record<string, AstObject> = {}): unknown {
  if (Array.isArray(node)) return node.map((n) => substitute(n, by, once));
  if (!isObject(node) || node.constructor !== Object) return node;
  if (node.class === 'COLUMN_REF' && Array.isArray(node.column_names) && node.column_names.length === 1) {
    const name = String(node.column_names[0]);
    if (Object.hasOwn(by, name)) return substitute(by[name], {}); // a copy
    if (Object.hasOwn(once, name)) return once[name]; // used once: the node itself, not a copy
  }
  const out: AstObject = {};
  for (const k of Object.keys(node)) out[k] = substitute(node[k], by, once);
  return out;
}

const VOLATILE = new Set(['random', 'gen_random_uuid', 'uuid', 'uuidv4', 'uuidv7', 'setseed', 'nextval']);

/** No subquery and no volatile function inside: evaluating it twice gives the same, cheaply. */
function repeatable(v: unknown): boolean {
  if (Array.isArray(v)) return v.every(repeatable);
  if (!isObject(v) || v.constructor !== Object) return true;
  if (v.class === 'SUBQUERY' || v.subquery !== undefined) return false;
  if ((v.class === 'FUNCTION' || v.class === 'WINDOW') && VOLATILE.has(str(v, 'function_name').toLowerCase())) return false;
  return Object.values(v).every(repeatable);
}

/** Array-typed catalog columns: a '{...}' literal compared with one of them is an array. */
const ARRAY_COLUMNS = new Set(
  RELATIONS.flatMap((r) => r.columns.filter((c) => c.type.endsWith('[]')).map((c) => c.name)),
);

// ---- the rewriter ---------------------------------------------------------------------------

export class CatalogRewriter {
  /** True once the statement used a value of its session: its verdict is the session's own. */
  usedSession = false;
  private oids: Map<string, number> | null = null;
  /** > 0 while the walk is inside an outer join's condition. */
  outerJoinCondition = 0;
  /** Nodes made by a rewrite that the walk must not rewrite again. */
  private readonly rewritten = new WeakSet<object>();

  constructor(
    private readonly ctx: GateContext,
    private readonly session: SessionFacts,
    private readonly tokens: readonly Token[],
    /** Token index by query_location (tokensByOffset). */
    private readonly tokenIndex: ReadonlyMap<number, number>,
    /** json_serialize_sql of ANY_EQ_SQL, when the statement may need it. */
    private readonly anyEqTemplate?: string,
  ) {}

  private tokenAt(location: unknown): Token | undefined {
    const i = this.tokenIndex.get(Number(String(location)));
    return i === undefined ? undefined : this.tokens[i];
  }

  /**
   * Whether the cast at `e` names numeric/decimal without a type modifier: DuckDB reads
   * `::numeric` as DECIMAL(18,3), exactly as `::numeric(18,3)`, so only the text tells.
   */
  private unconstrainedNumeric(e: AstObject): boolean {
    let i = this.tokenIndex.get(Number(String(e.query_location)));
    if (i === undefined) return false;
    const t = this.tokens;
    const isNumericWord = (k: number) => t[k]?.kind === 'word' && ['NUMERIC', 'DECIMAL', 'DEC'].includes(t[k]!.value);
    if (t[i]?.kind === 'op' && t[i]!.value === ':' && t[i + 1]?.value === ':') {
      i += 2; // x::numeric
    } else if (t[i]?.kind === 'word' && (t[i]!.value === 'CAST' || t[i]!.value === 'TRY_CAST') && t[i + 1]?.value === '(') {
      // CAST(x AS numeric): the AS at the cast's own parenthesis depth.
      let depth = 0;
      let k = i + 1;
      for (; k < t.length; k++) {
        const v = t[k]!;
        if (v.kind === 'op' && v.value === '(') depth++;
        else if (v.kind === 'op' && v.value === ')' && --depth === 0) return false;
        else if (depth === 1 && v.kind === 'word' && v.value === 'AS') break;
      }
      i = k + 1;
    } else {
      return false;
    }
    return isNumericWord(i) && !(t[i + 1]?.kind === 'op' && t[i + 1]!.value === '(');
  }

  /**
   * `::numeric` without a modifier is PostgreSQL's unconstrained numeric, which keeps a
   * value's own scale; DuckDB's is DECIMAL(18,3), which rounds to 3 places. For a
   * parameter the cast is dropped (parameterCasts.ts gives it the bound value's scale),
   * for a constant it becomes DECIMAL(38, the constant's scale); any other expression
   * keeps DuckDB's reading (documented).
   */
  private numericCast(e: AstObject): AstObject | undefined {
    if (!this.unconstrainedNumeric(e)) return undefined;
    const child = e.child as AstObject;
    if (child?.class === 'PARAMETER') return markUnconstrainedNumeric(e);
    let digits: string | undefined = constantString(child);
    if (digits === undefined && child?.class === 'CONSTANT' && isObject(child.value) && (child.value as AstObject).is_null === false) {
      const v = child.value as AstObject;
      // A decimal constant (1.23456) already has its own scale: it is the numeric PostgreSQL reads.
      if ((v.type as AstObject | undefined)?.id === 'DECIMAL') return { ...child, alias: e.alias ?? '' };
      if (isLosslessNumber(v.value)) digits = v.value.value;
    }
    if (digits === undefined) return undefined;
    let n;
    try {
      n = parseNumeric(digits);
    } catch {
      return undefined; // DuckDB's own cast reports the error
    }
    if (n.kind === 'special') return { ...e, cast_type: { id: 'DOUBLE', type_info: null } };
    if (n.width > 38) return undefined;
    return { ...e, cast_type: { id: 'DECIMAL', type_info: { type: 'DECIMAL_TYPE_INFO', alias: '', extension_info: null, width: new LosslessNumber('38'), scale: new LosslessNumber(String(n.scale)) } } };
  }

  /** The catalog relation a table reference names, if it names one. */
  relation(catalog: string, schema: string, name: string): Relation | undefined {
    if (catalog !== '' && catalog.toLowerCase() !== this.ctx.tenantId) return undefined;
    const s = schema.toLowerCase();
    if (s !== '' && s !== 'pg_catalog' && s !== 'information_schema') return undefined;
    return findRelation(s, name.toLowerCase());
  }

  /** The table reference that reads a catalog relation's rows for this tenant. */
  relationRef(ref: AstObject, rel: Relation, confined: (sourceName: string) => AstObject): AstObject {
    if (ref.sample !== null && ref.sample !== undefined) throw new PgError(SqlState.FeatureNotSupported, 'TABLESAMPLE on a catalog relation is not supported');
    if (rel.kind === 'tenant') return confined(storedName(rel));
    return {
      ...ref,
      catalog_name: STATIC_DB_NAME,
      schema_name: 'main',
      table_name: storedName(rel),
      alias: typeof ref.alias === 'string' && ref.alias !== '' ? ref.alias : rel.name,
    };
  }

  /** SQL of the confined subquery of a tenant catalog relation (parsed by the gate once). */
  static confinedSql(rel: Relation, tenantId: string): string {
    const columns = rel.columns.map((c) => quoteIdent(c.name)).join(', ');
    return `SELECT ${columns} FROM ${quoteIdent(TENANT_DB_NAME)}.main.${quoteIdent(storedName(rel))} WHERE ${CATALOG_TENANT_COLUMN} = ${quoteLiteral(tenantId)}`;
  }

  /** An unquoted keyword such as current_user, read as a column reference by DuckDB. */
  keywordColumn(e: AstObject): AstObject | undefined {
    const names = e.column_names;
    if (!Array.isArray(names) || names.length !== 1) return undefined;
    const tok = this.tokenAt(e.query_location);
    if (!tok || tok.kind !== 'word') return undefined; // "user" in quotes is a column
    return this.sessionFunction(String(names[0]).toLowerCase(), [], e);
  }

  /** Session functions become constants: the verdict is then the session's own. */
  private sessionFunction(name: string, children: unknown[], e: AstObject): AstObject | undefined {
    switch (name) {
      case 'current_user':
      case 'session_user':
      case 'user':
      case 'current_role':
      case 'getpgusername':
        this.usedSession = true;
        return text(this.session.user, e);
      case 'current_schema':
        return text('public', e);
      case 'pg_backend_pid':
        this.usedSession = true;
        return int(this.session.pid, e);
      case 'current_setting': {
        const settingName = constantString(children[0]);
        const missingOk = children.length > 1 ? constantBool(children[1]) : false;
        if (settingName === undefined || missingOk === undefined || children.length > 2) {
          throw new PgError(SqlState.FeatureNotSupported, 'current_setting() takes a constant setting name');
        }
        this.usedSession = true;
        const v = this.session.setting(settingName);
        if (v === undefined && !missingOk) throw new PgError(SqlState.UndefinedObject, `unrecognized configuration parameter "${settingName}"`);
        return text(v ?? null, e);
      }
      default:
        return undefined;
    }
  }

  /**
   * A function call, rewritten when it is one of PostgreSQL's: returns the replacement,
   * or undefined to leave it as it is.
   */
  func(e: AstObject): AstObject | undefined {
    if (this.rewritten.has(e)) return undefined;
    const name = str(e, 'function_name').toLowerCase();
    const schema = str(e, 'schema').toLowerCase();
    const children = Array.isArray(e.children) ? (e.children as unknown[]) : [];
    if (str(e, 'catalog') !== '' || !['', 'main', 'pg_catalog', 'information_schema'].includes(schema)) return undefined;
    if (schema === 'information_schema' && name !== '_pg_expandarray') return undefined;
    const session = this.sessionFunction(name, children, e);
    if (session) return session;
    if (name === 'regexp_full_match' || name === '~*' || name === '!~*' || name === '!~' || name === '~') {
      return this.regex(name, children, e);
    }
    if (name === 'sum' && e.class === 'FUNCTION') return this.sumOfSmallIntegers(e, children);
    if (name === 'array_length' && children.length !== 2) return undefined;
    // PostgreSQL's json builders are DuckDB's json_object / json_array (variadic alike).
    if (name === 'json_build_object' || name === 'jsonb_build_object') return { ...e, schema: '', function_name: 'json_object' };
    if (name === 'json_build_array' || name === 'jsonb_build_array') return { ...e, schema: '', function_name: 'json_array' };
    if (STATIC_FUNCTIONS.has(name)) return { ...e, catalog: STATIC_DB_NAME, schema: 'main', function_name: name };
    if (TENANT_FUNCTIONS.has(name)) {
      return { ...e, catalog: TENANT_DB_NAME, schema: 'main', function_name: name, children: [text(this.ctx.tenantId, arg(e)), ...children] };
    }
    if (schema === 'pg_catalog') return { ...e, schema: '' };
    return undefined;
  }

  /**
   * `x = ANY(array)`, as DuckDB reads it: a subquery over unnest(array). Its answer differs
   * from PostgreSQL's when there is no match and a NULL is involved (DuckDB: false), and in
   * an outer join's condition DuckDB cannot plan it at all (SQLAlchemy's index reflection
   * has one). It becomes ANY_EQ_SQL, whose match test is DuckDB's own subquery (which types
   * `$1::int[]` best) or, in an outer join's condition, a list lookup. Only for operands
   * cheap and stable to evaluate more than once.
   */
  anyOfArray(e: AstObject): AstObject | undefined {
    if (this.rewritten.has(e) || e.subquery_type !== 'ANY' || e.comparison_type !== 'COMPARE_EQUAL' || !isObject(e.subquery) || !this.anyEqTemplate) return undefined;
    const node = (e.subquery as AstObject).node as AstObject | undefined;
    const list = node?.select_list as unknown[] | undefined;
    const from = node?.from_table as AstObject | undefined;
    const fn = list?.length === 1 ? (list[0] as AstObject) : undefined;
    if (
      !isObject(node) || node.type !== 'SELECT_NODE' || from?.type !== 'EMPTY' || node.where_clause !== null || (node.modifiers as unknown[]).length !== 0 ||
      ((node.cte_map as AstObject | undefined)?.map as unknown[] | undefined)?.length !== 0 || (node.group_expressions as unknown[]).length !== 0 ||
      !isObject(fn) || fn.class !== 'FUNCTION' || str(fn, 'function_name') !== 'unnest' || str(fn, 'schema') !== '' || str(fn, 'catalog') !== '' ||
      !Array.isArray(fn.children) || fn.children.length !== 1 || fn.filter !== null || fn.distinct !== false
    ) {
      return undefined;
    }
    const arr = fn.children[0];
    const x = e.child;
    if (!repeatable(arr) || !repeatable(x)) return undefined;
    let match: AstObject;
    if (this.outerJoinCondition > 0) {
      match = call('', 'list_contains', [substitute(arr, {}), substitute(x, {})], { query_location: e.query_location });
    } else {
      match = { ...e, alias: '' };
      this.rewritten.add(match); // the walk visits it next: DuckDB's own form stays
    }
    const template = parseAst(this.anyEqTemplate) as { statements: { node: { select_list: AstObject[] } }[] };
    const out = substitute(template.statements[0]!.node.select_list[0]!, { __tg_arr: arr, __tg_x: x }, { __tg_match: match }) as AstObject;
    out.alias = e.alias ?? '';
    return out;
  }

  /** `a !~ b`: DuckDB reads NOT(regexp_full_match(a, b)), the location on the NOT. */
  not(e: AstObject): void {
    const tok = this.tokenAt(e.query_location);
    const child = Array.isArray(e.children) && e.children.length === 1 ? (e.children[0] as AstObject) : undefined;
    if (tok?.kind !== 'op' || !tok.value.startsWith('!') || !isObject(child) || child.class !== 'FUNCTION') return;
    if (str(child, 'function_name') !== 'regexp_full_match' || str(child, 'schema') !== '' || str(child, 'catalog') !== '') return;
    const args = Array.isArray(child.children) ? (child.children as unknown[]) : [];
    (e.children as unknown[])[0] = call('', 'regexp_matches', args.slice(0, 2), child);
  }

  /**
   * sum() of a smallint/integer column is bigint in PostgreSQL; DuckDB sums in HUGEINT,
   * which clients then see as numeric (pandas: float64 instead of int64). When every
   * table the tenant has with a column of that name stores it as a small integer, the sum
   * is cast to BIGINT. Where the name could be something else (another type, a CTE's
   * column), nothing changes: DuckDB's type stands, sent as numeric.
   */
  private sumOfSmallIntegers(e: AstObject, children: unknown[]): AstObject | undefined {
    const arg = children[0];
    if (children.length !== 1 || !isObject(arg) || arg.class !== 'COLUMN_REF' || !Array.isArray(arg.column_names)) return undefined;
    const column = String(arg.column_names.at(-1)).toLowerCase();
    let seen = 0;
    for (const t of this.ctx.tables.values()) {
      const i = t.columns.findIndex((c) => c.toLowerCase() === column);
      if (i < 0) continue;
      if (!SMALL_INTEGERS.has(t.columnTypes?.[i] ?? '')) return undefined;
      seen++;
    }
    if (seen === 0) return undefined;
    const inner = { ...e, alias: '' };
    this.rewritten.add(inner); // the walk visits it next: it is done
    return { class: 'CAST', type: 'OPERATOR_CAST', alias: e.alias ?? '', query_location: e.query_location, child: inner, cast_type: { id: 'BIGINT', type_info: null }, try_cast: false };
  }

  /** PostgreSQL's ~ matches anywhere in the string; DuckDB's operator, the whole string. */
  private regex(name: string, children: unknown[], e: AstObject): AstObject | undefined {
    const tok = this.tokenAt(e.query_location);
    if (name === 'regexp_full_match' && !(tok?.kind === 'op' && (tok.value.startsWith('~') || tok.value.startsWith('!')))) return undefined;
    const insensitive = name.includes('*');
    const args = insensitive ? [...children.slice(0, 2), text('i', arg(e))] : children.slice(0, 2);
    const match = call('', 'regexp_matches', args, e);
    if (!name.startsWith('!')) return match;
    return { class: 'OPERATOR', type: 'OPERATOR_NOT', alias: e.alias ?? '', query_location: e.query_location, children: [{ ...match, alias: '' }] };
  }

  /** A cast to one of PostgreSQL's OID alias types (regclass...), or to oid/name. */
  cast(e: AstObject): AstObject | undefined {
    const type = e.cast_type as AstObject | undefined;
    if (!isObject(type)) return undefined;
    if (type.id === 'LIST') return this.arrayLiteralCast(e);
    if (type.id === 'BLOB') return byteaLiteralCast(e);
    if (type.id === 'DECIMAL') return this.numericCast(e);
    if (type.id !== 'UNBOUND' || !isObject(type.type_info)) return undefined;
    const info = type.type_info as AstObject;
    const tname = str(info, 'name').toLowerCase();
    const tschema = str(info, 'schema').toLowerCase();
    if (tschema !== '' && tschema !== 'pg_catalog') return undefined;
    const child = e.child;
    const s = constantString(child);
    const wrap = (fn: string, catalog: string, args: unknown[]) => call(catalog, fn, args, e);
    switch (tname) {
      case 'oid':
      case 'xid':
      case 'cid':
        return { ...e, cast_type: { id: 'INTEGER', type_info: null } };
      case 'name':
      case 'pg_node_tree':
      case 'aclitem':
        return { ...e, cast_type: { id: 'VARCHAR', type_info: null } };
      case 'regclass':
        if (s !== undefined) return int(this.classOid(s), e);
        return wrap('regclass_name', TENANT_DB_NAME, [text(this.ctx.tenantId, arg(e)), child]);
      case 'regtype':
        if (s !== undefined) return int(typeOid(s), e);
        return wrap('regtype_name', STATIC_DB_NAME, [child]);
      case 'regproc':
      case 'regprocedure':
        if (s !== undefined) return int(procOid(s), e);
        return wrap('regproc_name', STATIC_DB_NAME, [child]);
      case 'regnamespace':
        if (s !== undefined) return int(namespaceOid(s), e);
        return wrap('regnamespace_name', STATIC_DB_NAME, [child]);
      case 'regrole':
        if (s !== undefined) throw new PgError(SqlState.FeatureNotSupported, 'casting a role name to regrole is not supported');
        return wrap('regrole_name', TENANT_DB_NAME, [text(this.ctx.tenantId, arg(e)), child]);
      default:
        return undefined;
    }
  }

  /** `'{a,b}'::text[]`: PostgreSQL's array literal, as a DuckDB list of constants. */
  private arrayLiteralCast(e: AstObject): AstObject | undefined {
    const s = constantString(e.child);
    if (s === undefined || !s.trimStart().startsWith('{')) return undefined;
    return { ...e, child: this.listOf(parseArray(s), e.child as AstObject) };
  }

  /** `polroles = '{0}'`: a PostgreSQL array literal compared with an array column of the catalog. */
  comparison(e: AstObject): void {
    const l = e.left;
    const r = e.right;
    const columnName = (x: unknown) =>
      isObject(x) && x.class === 'COLUMN_REF' && Array.isArray(x.column_names) ? String(x.column_names.at(-1)).toLowerCase() : '';
    for (const [side, other] of [['left', r], ['right', l]] as const) {
      const s = constantString(e[side]);
      if (s !== undefined && s.trimStart().startsWith('{') && ARRAY_COLUMNS.has(columnName(other))) {
        e[side] = this.listOf(parseArray(s), e[side] as AstObject);
      }
    }
  }

  private listOf(items: ArrayItem[], at: AstObject): AstObject {
    const children = items.map((x): AstObject => {
      if (Array.isArray(x)) return this.listOf(x, at);
      if (x === null) return constant(null, 'NULL', { query_location: at.query_location });
      return /^-?\d+$/.test(x) && Math.abs(Number(x)) < 2 ** 31 ? int(Number(x), { query_location: at.query_location }) : text(x, { query_location: at.query_location });
    });
    return call('', 'list_value', children, at);
  }

  private classOid(s: string): number {
    const [schema, name] = parseQualifiedName(s);
    const rel = this.relation('', schema, name);
    if (rel) return rel.oid;
    if (schema === '' || schema === 'public') {
      const table = this.ctx.tables.get(name.toLowerCase());
      if (table) {
        this.oids ??= tableOids([...this.ctx.tables.values()].map((t) => t.name));
        return this.oids.get(table.name)!;
      }
    }
    throw new PgError(SqlState.UndefinedTable, `relation "${s}" does not exist`);
  }
}

/**
 * `'\x00ff'::bytea` (psycopg2 sends bytes so): PostgreSQL's bytea input, hex or escape
 * format. DuckDB's own reading of the same text differs ('\x00ff' is 00 66 66 there), so
 * the constant is rewritten in DuckDB's form, every byte as \xHH. Text PostgreSQL would
 * refuse ('\xAA\xBB', DuckDB's own blob syntax) keeps DuckDB's reading.
 */
function byteaLiteralCast(e: AstObject): AstObject | undefined {
  const s = constantString(e.child);
  if (s === undefined) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = parseBytea(s);
  } catch {
    return undefined;
  }
  const duck = Array.from(bytes, (b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
  return { ...e, child: text(duck, e.child as AstObject) };
}

function typeOid(s: string): number {
  // Type names may be several words or carry brackets (`character varying`, `integer[]`).
  const unqualified = () => {
    try {
      return parseQualifiedName(s)[1];
    } catch {
      return ''; // not a name: not a type we know
    }
  };
  const oid = TYPE_OID_BY_NAME.get(s.trim().toLowerCase()) ?? TYPE_OID_BY_NAME.get(unqualified());
  if (oid === undefined) throw new PgError(SqlState.UndefinedObject, `type "${s}" does not exist`);
  return oid;
}

function procOid(s: string): number {
  const [, name] = parseQualifiedName(s.replace(/\(.*\)$/, ''));
  const oid = PROC_OID_BY_NAME.get(name);
  if (oid === undefined) throw new PgError(SqlState.UndefinedFunction, `function "${s}" does not exist`);
  return oid;
}

function namespaceOid(s: string): number {
  const [, name] = parseQualifiedName(s);
  const oid = (NAMESPACE as Record<string, number>)[name];
  if (oid === undefined) throw new PgError(SqlState.InvalidSchemaName, `schema "${s}" does not exist`);
  return oid;
}
