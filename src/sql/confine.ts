/**
 * One walk over a statement's AST that both verifies and confines it, fail-closed:
 *
 * - every query node, table reference and expression class must be on an allowlist;
 *   an unknown kind of node is refused, never skipped;
 * - every table function must be on the allowlist, and no scalar function on the
 *   denylist may be called (settings, files, catalogs of other data, sleeping);
 * - every table reference must resolve to a CTE in scope or to a table the tenant may
 *   read; qualifiers (`public.`, `main.`, the tenant's own catalog) are normalised away;
 * - a reference to a shared table becomes a subquery that holds only the tenant's rows,
 *   and one to a table under the plan's history window only the rows inside the window
 *   (shareFilterRewrite), whatever its alias, quoting or qualification;
 * - shapes DuckDB cannot interrupt once running are refused up front.
 *
 * CTE scoping follows DuckDB, as measured: in `WITH a AS (...), b AS (...)` the body of
 * `a` does not see `b`, a CTE body does not see itself unless it is a recursive union
 * (and then only in its recursive term), and a qualified name never names a CTE. Where
 * a name could be either, it is treated as the table: the worst case is a wrong
 * result, never another tenant's row.
 */
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import { isObject, str, type AstObject } from './ast.js';
import type { CatalogTable, GateContext } from './catalog.js';
import { CATALOG_TABLE_FUNCTIONS, DENIED_ENGINE_CATALOG_FUNCTIONS, STATIC_DB_NAME } from '../catalog/functions.js';
import type { CatalogRewriter } from './catalogRewrite.js';
import { confinedSubquery, isFiltered, templateSubquery, type ShareFilterTemplates } from './shareFilterRewrite.js';

const QUERY_NODES = new Set(['SELECT_NODE', 'SET_OPERATION_NODE', 'RECURSIVE_CTE_NODE', 'CTE_NODE']);

const TABLE_REFS = new Set(['BASE_TABLE', 'JOIN', 'SUBQUERY', 'TABLE_FUNCTION', 'EXPRESSION_LIST', 'EMPTY', 'PIVOT', 'SHOW_REF']);

const EXPRESSION_CLASSES = new Set([
  'CONSTANT', 'COLUMN_REF', 'FUNCTION', 'CAST', 'CASE', 'COMPARISON', 'CONJUNCTION', 'OPERATOR',
  'BETWEEN', 'STAR', 'SUBQUERY', 'WINDOW', 'PARAMETER', 'COLLATE', 'LAMBDA', 'POSITIONAL_REFERENCE',
  'LAMBDA_REF',
]);

/** Scalar functions PostgreSQL clients call in FROM (a one-row relation there). */
const SCALARS_IN_FROM: ReadonlySet<string> = new Set(['string_to_array', 'regexp_split_to_array', 'current_schemas']);

/** Set-returning functions whose one column PostgreSQL names after the table alias. */
const PG_COLUMN_NAMED_AFTER_ALIAS: ReadonlySet<string> = new Set(['generate_series', 'unnest']);

/** Table functions a tenant may call. */
export const ALLOWED_TABLE_FUNCTIONS: ReadonlySet<string> = new Set(['range', 'generate_series', 'unnest']);

/** Scalar functions that read settings, files or other data, or only burn time. */
const DENIED_FUNCTIONS = new Set([
  'current_setting', 'getvariable', 'set_variable', 'getenv', 'query', 'query_table', 'read_blob',
  'read_text', 'glob', 'sniff_csv', 'checkpoint', 'force_checkpoint', 'pg_sleep', 'sleep_ms',
  'install_extension', 'load_extension', 'export_database', 'import_database', 'enable_logging',
  'disable_logging', 'truncate_duckdb_logs',
]);
const DENIED_PREFIXES = ['duckdb_', 'pragma_', 'read_', 'parquet_', 'iceberg_', 'delta_', 'sqlite_', 'postgres_', 'mysql_'];

/** Scalar functions whose size argument makes work DuckDB cannot interrupt. */
const SIZED_FUNCTIONS = new Set(['repeat', 'lpad', 'rpad', 'range', 'generate_series', 'list_resize', 'array_resize', 'repeat_row']);
export const MAX_SIZE_ARGUMENT = 10_000_000;
export const MAX_SELECT_COLUMNS = 1664; // PostgreSQL's limit on a target list
export const MAX_AST_NODES = 50_000;

function refuse(message: string, detail?: string): PgError {
  return new PgError(SqlState.InsufficientPrivilege, message, detail ? { detail } : {});
}

function tooComplex(message: string): PgError {
  return new PgError(SqlState.StatementTooComplex, message);
}

function lower(s: string): string {
  return s.toLowerCase();
}

/** Looks like a file path or URL read by a replacement scan (`FROM 'x.csv'`). */
function looksLikePath(name: string): boolean {
  return /[/\\]|:\/\/|\.(csv|tsv|parquet|json|jsonl|ndjson|txt|gz|zst|duckdb|db|sqlite|xlsx|arrow)$/i.test(name);
}

/** A VARCHAR constant in place of expression `e` (keeping its alias and location). */
function constantText(value: string, e: AstObject): AstObject {
  return {
    class: 'CONSTANT',
    type: 'VALUE_CONSTANT',
    alias: e.alias ?? '',
    query_location: e.query_location,
    value: { type: { id: 'VARCHAR', type_info: null }, is_null: false, value },
  };
}

interface Scope {
  /** CTE names visible here, lower-cased. */
  ctes: ReadonlySet<string>;
}

export interface Confined {
  /** Base tables the statement reads (lower-cased, CTE references excluded). */
  tables: Set<string>;
  /** PostgreSQL catalog relations it reads (lower-cased names, schema dropped). */
  catalog: Set<string>;
}

export class Confiner {
  private nodes = 0;
  readonly tables = new Set<string>();
  readonly catalog = new Set<string>();

  constructor(
    private readonly ctx: GateContext,
    private readonly templates: ShareFilterTemplates,
    private readonly pg: CatalogRewriter,
    /** Serialised confined subqueries of the tenant catalog relations, by stored name. */
    private readonly catalogTemplates: ReadonlyMap<string, string>,
  ) {}

  /** Verifies and confines a statement (json_serialize_sql's statements[i]) in place. */
  statement(stmt: AstObject): Confined {
    const node = stmt.node;
    if (!isObject(node) || !QUERY_NODES.has(str(node, 'type'))) throw refuse('only SELECT queries can run here');
    stmt.node = this.queryNode(node, { ctes: new Set() });
    const list = node.select_list;
    if (Array.isArray(list) && list.length > MAX_SELECT_COLUMNS) {
      throw tooComplex(`target lists can have at most ${MAX_SELECT_COLUMNS} entries`);
    }
    return { tables: this.tables, catalog: this.catalog };
  }

  private count(): void {
    if (++this.nodes > MAX_AST_NODES) throw tooComplex(`statement is too complex (more than ${MAX_AST_NODES} syntax nodes)`);
  }

  private queryNode(node: AstObject, outer: Scope): AstObject {
    this.count();
    const type = str(node, 'type');
    if (!QUERY_NODES.has(type)) throw refuse(`query node ${type || '(unknown)'} is not allowed`);
    // The node's own CTEs: each sees the ones before it; the body sees all of them.
    const ctes = new Set(outer.ctes);
    const cteMap = node.cte_map;
    if (isObject(cteMap) && Array.isArray(cteMap.map)) {
      for (const entry of cteMap.map as AstObject[]) {
        const name = lower(str(entry, 'key'));
        const value = entry.value;
        if (!isObject(value) || !isObject(value.query) || !isObject(value.query.node)) {
          throw refuse('malformed common table expression');
        }
        this.count();
        const q = value.query as AstObject;
        q.node = this.value(q.node, { ctes: new Set(ctes) });
        ctes.add(name);
      }
    }
    // A recursive CTE's recursive term sees the CTE itself; its anchor does not.
    const self = type === 'RECURSIVE_CTE_NODE' ? lower(str(node, 'cte_name')) : '';
    const scope: Scope = { ctes };
    const selfScope: Scope = self ? { ctes: new Set([...ctes, self]) } : scope;
    for (const key of Object.keys(node)) {
      if (key === 'cte_map' || key === 'type') continue;
      node[key] = this.value(node[key], key === 'right' ? selfScope : scope);
    }
    return node;
  }

  private value(v: unknown, scope: Scope): unknown {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = this.value(v[i], scope);
      return v;
    }
    if (!isObject(v)) return v;
    this.count();
    if (typeof v.class === 'string') return this.expression(v, scope);
    const type = str(v, 'type');
    if (QUERY_NODES.has(type) && 'modifiers' in v) return this.queryNode(v, scope);
    if ('query_location' in v && 'alias' in v) return this.tableRef(v, scope);
    for (const key of Object.keys(v)) v[key] = this.value(v[key], scope);
    return v;
  }

  private tableRef(ref: AstObject, scope: Scope): unknown {
    const type = str(ref, 'type');
    if (!TABLE_REFS.has(type)) throw refuse(`table reference of kind ${type || '(unknown)'} is not allowed`);
    if (type === 'BASE_TABLE') return this.baseTable(ref, scope);
    if (type === 'TABLE_FUNCTION') {
      const fn = ref.function;
      const name = isObject(fn) ? lower(str(fn, 'function_name')) : '';
      const schema = isObject(fn) ? lower(str(fn, 'schema')) : '';
      if (CATALOG_TABLE_FUNCTIONS.has(name) && (schema === '' || schema === 'pg_catalog') && isObject(fn) && (fn.children as unknown[]).length === 0) {
        // A set-returning catalog function: a relation of the static catalog.
        return {
          type: 'BASE_TABLE', alias: str(ref, 'alias') || name, sample: null, query_location: ref.query_location,
          schema_name: 'main', table_name: name, column_name_alias: ref.column_name_alias ?? [], catalog_name: STATIC_DB_NAME, at_clause: null,
        };
      }
      if (SCALARS_IN_FROM.has(name) && (schema === '' || schema === 'pg_catalog') && isObject(fn)) {
        // PostgreSQL reads a scalar function in FROM as a one-row relation whose one column
        // is named after the alias: (SELECT f(...) AS alias) AS alias.
        const alias = str(ref, 'alias') || name;
        fn.alias = alias;
        const subquery = {
          type: 'SUBQUERY', alias, sample: null, query_location: ref.query_location, column_name_alias: ref.column_name_alias ?? [],
          subquery: {
            node: {
              type: 'SELECT_NODE', modifiers: [], cte_map: { map: [] }, select_list: [fn],
              from_table: { type: 'EMPTY', alias: '', sample: null, query_location: ref.query_location },
              where_clause: null, group_expressions: [], group_sets: [], aggregate_handling: 'STANDARD_HANDLING', having: null, sample: null, qualify: null,
            },
            named_param_map: [],
          },
        };
        return this.tableRef(subquery, scope);
      }
      if (!ALLOWED_TABLE_FUNCTIONS.has(name) || (schema !== '' && schema !== 'main' && schema !== 'pg_catalog') || !isObject(fn)) {
        throw refuse(`table function ${name || '(unknown)'}() is not allowed`, `Allowed table functions: ${[...ALLOWED_TABLE_FUNCTIONS].join(', ')}.`);
      }
      fn.schema = '';
      const columnAliases = ref.column_name_alias;
      if (PG_COLUMN_NAMED_AFTER_ALIAS.has(name) && str(ref, 'alias') !== '' && Array.isArray(columnAliases) && columnAliases.length === 0) {
        // In PostgreSQL `FROM generate_series(1, 3) s` has one column, named s (DuckDB would
        // make s the row): name the column after the alias, as PostgreSQL does.
        ref.column_name_alias = [str(ref, 'alias')];
      }
      // Its arguments are expressions like any other; the function itself is a table
      // function (streamed, interruptible), not the scalar of the same name.
      for (const key of Object.keys(fn)) {
        if (key !== 'class' && key !== 'type') fn[key] = this.value(fn[key], scope);
      }
      for (const key of Object.keys(ref)) {
        if (key !== 'type' && key !== 'function') ref[key] = this.value(ref[key], scope);
      }
      return ref;
    }
    if (type === 'JOIN' && str(ref, 'join_type') !== 'INNER' && isObject(ref.condition)) {
      // DuckDB cannot plan a subquery in an outer join's condition: `x = ANY(array)` there
      // is written as a list lookup (catalogRewrite.ts anyOfArray).
      for (const key of Object.keys(ref)) {
        if (key === 'type' || key === 'condition') continue;
        ref[key] = this.value(ref[key], scope);
      }
      this.pg.outerJoinCondition++;
      try {
        ref.condition = this.value(ref.condition, scope);
      } finally {
        this.pg.outerJoinCondition--;
      }
      return ref;
    }
    if (type === 'SHOW_REF' && this.ctx.isolation !== 'database') {
      throw refuse('DESCRIBE, SHOW and SUMMARIZE are not available for shared tables');
    }
    for (const key of Object.keys(ref)) {
      if (key === 'type') continue;
      ref[key] = this.value(ref[key], scope);
    }
    return ref;
  }

  private baseTable(ref: AstObject, scope: Scope): unknown {
    const catalog = str(ref, 'catalog_name');
    const schema = str(ref, 'schema_name');
    const name = str(ref, 'table_name');
    if (ref.at_clause !== null && ref.at_clause !== undefined) throw refuse('time travel (AT) is not allowed');
    if (catalog === '' && schema === '' && scope.ctes.has(lower(name))) return ref;
    const rel = this.pg.relation(catalog, schema, name);
    if (rel) {
      // pg_catalog comes first on PostgreSQL's search path: pg_class is always the catalog's.
      this.catalog.add(lower(rel.name));
      return this.pg.relationRef(ref, rel, (stored) => {
        const json = this.catalogTemplates.get(stored);
        if (!json) throw new Error(`no confinement template for catalog relation ${stored}`);
        return templateSubquery(ref, rel.name, json);
      });
    }
    if (['pg_catalog', 'information_schema'].includes(lower(schema)) && (catalog === '' || lower(catalog) === this.ctx.tenantId)) {
      throw new PgError(SqlState.UndefinedTable, `relation "${schema}.${name}" does not exist`, {
        detail: 'tenantgate answers the PostgreSQL catalog relations that clients use; this one is not among them.',
      });
    }
    if (catalog !== '' && lower(catalog) !== lower(this.ctx.catalogName) && lower(catalog) !== this.ctx.tenantId) {
      throw new PgError(SqlState.UndefinedTable, `relation "${[catalog, schema, name].filter(Boolean).join('.')}" does not exist`);
    }
    if (schema !== '' && !['main', 'public'].includes(lower(schema))) {
      throw new PgError(SqlState.UndefinedTable, `relation "${schema}.${name}" does not exist`);
    }
    const table = this.ctx.tables.get(lower(name));
    if (!table) {
      if (looksLikePath(name)) throw refuse('reading files is not allowed');
      throw new PgError(SqlState.UndefinedTable, `relation "${name}" does not exist`);
    }
    this.tables.add(lower(table.name));
    // PostgreSQL clients write public.t; in DuckDB the schema is main. Unqualified is both.
    ref.catalog_name = '';
    ref.schema_name = '';
    if (isFiltered(table, this.ctx)) return this.confineRows(ref, table);
    for (const key of ['sample', 'column_name_alias']) ref[key] = this.value(ref[key], scope);
    return ref;
  }

  /** A shared table, or one under a history window: a subquery of the rows the tenant may see. */
  private confineRows(ref: AstObject, table: CatalogTable): AstObject {
    if (ref.sample !== null && ref.sample !== undefined) {
      // TABLESAMPLE would sample across tenants (or outside the window) before the filter.
      const what = table.tenantColumn ? 'a shared table' : 'a table with a history window';
      throw refuse(`TABLESAMPLE on ${what} is not supported; sample a subquery instead`);
    }
    return confinedSubquery(ref, table, this.ctx, this.templates);
  }

  private expression(e: AstObject, scope: Scope): AstObject {
    const cls = str(e, 'class');
    if (!EXPRESSION_CLASSES.has(cls)) throw refuse(`expressions of kind ${cls} are not allowed`);
    const pg = this.postgres(e, cls);
    if (pg !== e) {
      if (pg.class === 'CONSTANT') return pg;
      // Our own macros live in the catalog databases; anything else is checked like any call.
      if (pg.class === 'FUNCTION' && str(pg, 'catalog') === '') this.checkFunction(pg);
      return this.children(pg, scope);
    }
    if (cls === 'FUNCTION' || cls === 'WINDOW') {
      this.checkFunction(e);
      const name = lower(str(e, 'function_name'));
      if (cls === 'FUNCTION' && (name === 'current_database' || name === 'current_catalog')) {
        // The tenant's database is called after the tenant, whatever catalog its rows live in.
        return constantText(this.ctx.tenantId, e);
      }
    }
    if (cls === 'COLUMN_REF') this.normaliseColumnRef(e);
    return this.children(e, scope);
  }

  private children(e: AstObject, scope: Scope): AstObject {
    for (const key of Object.keys(e)) {
      if (key === 'class' || key === 'type') continue;
      e[key] = this.value(e[key], scope);
    }
    return e;
  }

  /** PostgreSQL's functions, casts, keywords and collations on DuckDB (catalogRewrite.ts); `e` itself when none applies. */
  private postgres(e: AstObject, cls: string): AstObject {
    switch (cls) {
      case 'FUNCTION':
        return this.pg.func(e) ?? e;
      case 'COLUMN_REF':
        return this.pg.keywordColumn(e) ?? e;
      case 'CAST':
        return this.pg.cast(e) ?? e;
      case 'COMPARISON':
        this.pg.comparison(e);
        return e;
      case 'OPERATOR':
        if (str(e, 'type') === 'OPERATOR_NOT') this.pg.not(e);
        return e;
      case 'SUBQUERY':
        return this.pg.anyOfArray(e) ?? e;
      case 'COLLATE': {
        // PostgreSQL's default collation (and C/POSIX) compare bytes, as DuckDB does.
        const collation = lower(str(e, 'collation')).replaceAll('"', '');
        if (['default', 'pg_catalog.default', 'c', 'pg_catalog.c', 'posix', 'pg_catalog.posix'].includes(collation) && isObject(e.child)) {
          const child = e.child as AstObject;
          if (typeof e.alias === 'string' && e.alias !== '') child.alias = e.alias;
          return child;
        }
        return e;
      }
      default:
        return e;
    }
  }

  private checkFunction(e: AstObject): void {
    const name = lower(str(e, 'function_name'));
    const schema = lower(str(e, 'schema'));
    const catalog = lower(str(e, 'catalog'));
    if (catalog !== '' || (schema !== '' && schema !== 'main' && schema !== 'pg_catalog')) {
      throw refuse(`function ${[catalog, schema, name].filter(Boolean).join('.')}() is not allowed`);
    }
    if (DENIED_FUNCTIONS.has(name) || DENIED_ENGINE_CATALOG_FUNCTIONS.has(name) || DENIED_PREFIXES.some((p) => name.startsWith(p))) {
      throw refuse(`function ${name}() is not allowed`);
    }
    if (SIZED_FUNCTIONS.has(name) && Array.isArray(e.children)) {
      for (const child of e.children as unknown[]) {
        if (!isObject(child) || child.class !== 'CONSTANT' || !isObject(child.value)) continue;
        const raw = (child.value as AstObject).value;
        const n = Number(String(raw ?? ''));
        if (Number.isFinite(n) && Math.abs(n) > MAX_SIZE_ARGUMENT) {
          throw new PgError(SqlState.ProgramLimitExceeded, `${name}() with a size of ${String(raw)} is over the limit of ${MAX_SIZE_ARGUMENT}`);
        }
      }
    }
  }

  /**
   * `public.orders.status`, `main.orders.status` and `<catalog>.main.orders.status` name the
   * column `status` of `orders`: keep `orders.status`, which also binds when `orders` has
   * become a confined subquery.
   */
  private normaliseColumnRef(e: AstObject): void {
    const parts = e.column_names;
    if (!Array.isArray(parts) || parts.length < 3) return;
    const names = parts.map((p) => String(p));
    let drop = 0;
    if (['pg_catalog', 'information_schema'].includes(lower(names[0]!))) drop = 1;
    else if (names.length >= 4 && lower(names[0]!) === lower(this.ctx.catalogName) && ['main', 'public'].includes(lower(names[1]!))) drop = 2;
    else if (['main', 'public'].includes(lower(names[0]!)) && this.ctx.tables.has(lower(names[1]!))) drop = 1;
    if (drop > 0) e.column_names = parts.slice(drop);
  }
}
