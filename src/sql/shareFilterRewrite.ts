/**
 * A reference to a table whose rows the tenant may see only some of, made into a subquery
 * that holds just those rows:
 *
 *   orders AS o   →   (SELECT <every column but tenant_id> FROM "<shared>".main."orders"
 *                      WHERE tenant_id = '<tenant>' [AND <history window>]) AS o
 *
 * A shared table keeps only the tenant's rows (for a table whose rows carry a list of
 * tenants, list_contains(tenant_ids, '<tenant>')), and the tenant column is not there to
 * be selected. A table with a declared time column, under a plan with a history window,
 * keeps only the rows inside the window (whichever isolation). The alias is kept (or the
 * table's own name given), so every column reference that named the table still binds.
 * The subquery's AST comes from DuckDB's own parser (a template serialised once per table
 * and tenant), never from string splicing into the client's text.
 */
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import { parseAst, type AstObject } from './ast.js';
import { TENANT_COLUMN, type CatalogTable, type GateContext } from './catalog.js';
import { quoteIdent, quoteLiteral } from './quote.js';

/** Time column types a history window applies to (DuckDBTypeId names). */
const DATE_TYPES = new Set(['DATE']);
const TIMESTAMP_TYPES = new Set(['TIMESTAMP', 'TIMESTAMP_TZ', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS']);

/** Whether a reference to `table` must become a subquery of only some of its rows. */
export function isFiltered(table: CatalogTable, ctx: GateContext): boolean {
  return table.tenantColumn !== undefined || historyFilter(table, ctx) !== null;
}

/**
 * The history window's condition on the table's time column, or null when none applies.
 * A row whose time is NULL has no known age and is outside every window. A declared
 * column of another type cannot be windowed: the table is refused rather than shown whole.
 */
function historyFilter(table: CatalogTable, ctx: GateContext): string | null {
  const days = ctx.historyDays ?? null;
  if (days === null || !table.timeColumn) return null;
  const { name, type } = table.timeColumn;
  const column = quoteIdent(name);
  if (DATE_TYPES.has(type)) return `${column} >= current_date - ${days}`;
  if (TIMESTAMP_TYPES.has(type)) return `${column} >= now() - INTERVAL ${days} DAY`;
  throw new PgError(
    SqlState.FeatureNotSupported,
    `table "${table.name}" cannot be read: its time column "${name}" is ${type}, not a date or timestamp`,
    { detail: `Your plan shows the last ${days} days of tables with a time column.`, hint: 'Ask the operator to fix the declared time column.' },
  );
}

/** The SQL of the subquery that replaces a reference to `table`, for one tenant. */
export function confinedTableSql(table: CatalogTable, ctx: GateContext): string {
  const tenantColumn = table.tenantColumn;
  const filters: string[] = [];
  let columns = '*';
  if (tenantColumn) {
    const kept = table.columns.filter((c) => c.toLowerCase() !== tenantColumn).map(quoteIdent);
    if (kept.length === 0) throw new Error(`shared table ${table.name} has no columns but its tenant column`);
    columns = kept.join(', ');
    filters.push(
      tenantColumn === TENANT_COLUMN
        ? `${quoteIdent(TENANT_COLUMN)} = ${quoteLiteral(ctx.tenantId)}`
        : `list_contains(${quoteIdent(tenantColumn)}, ${quoteLiteral(ctx.tenantId)})`,
    );
  }
  const history = historyFilter(table, ctx);
  if (history) filters.push(history);
  if (filters.length === 0) throw new Error(`table ${table.name} needs no confinement`);
  const source = `${quoteIdent(ctx.catalogName)}.main.${quoteIdent(table.name)}`;
  return `SELECT ${columns} FROM ${source} WHERE ${filters.join(' AND ')}`;
}

/**
 * Serialised subquery statements by table and tenant: json_serialize_sql output of
 * confinedTableSql, filled in by the gate before it confines a statement.
 */
export type ShareFilterTemplates = ReadonlyMap<string, string>;

export function templateKey(table: CatalogTable, ctx: GateContext): string {
  return `${ctx.version}\0${ctx.tenantId}\0${table.name}`;
}

/** The SUBQUERY table reference that replaces `ref`. */
export function confinedSubquery(ref: AstObject, table: CatalogTable, ctx: GateContext, templates: ShareFilterTemplates): AstObject {
  const json = templates.get(templateKey(table, ctx));
  if (!json) throw new Error(`no confinement template for table ${table.name}`);
  return templateSubquery(ref, table.name, json);
}

/** `ref` replaced by the subquery of a serialised template statement, keeping its alias (or `name`). */
export function templateSubquery(ref: AstObject, name: string, json: string): AstObject {
  const parsed = parseAst(json) as { statements?: AstObject[] };
  const statement = parsed.statements?.[0];
  if (!statement) throw new Error(`bad confinement template for ${name}`);
  const alias = typeof ref.alias === 'string' && ref.alias !== '' ? ref.alias : name;
  return {
    type: 'SUBQUERY',
    alias,
    sample: null,
    query_location: ref.query_location,
    subquery: statement,
    column_name_alias: ref.column_name_alias ?? [],
  };
}
