/**
 * A reference to a shared table, made into a subquery that holds only the tenant's rows:
 *
 *   orders AS o   →   (SELECT <every column but tenant_id> FROM "<shared>".main."orders"
 *                      WHERE tenant_id = '<tenant>') AS o
 *
 * For a table whose rows carry a list of tenants, the filter is
 * list_contains(tenant_ids, '<tenant>'). The alias is kept (or the table's own name
 * given), so every column reference that named the table still binds, and the tenant
 * column is not there to be selected. The subquery's AST comes from DuckDB's own parser
 * (a template serialised once per table and tenant), never from string splicing into
 * the client's text.
 */
import { parseAst, type AstObject } from './ast.js';
import { TENANT_COLUMN, type CatalogTable, type GateContext } from './catalog.js';
import { quoteIdent, quoteLiteral } from './quote.js';


/** The SQL of the confined subquery for one table and tenant. */
export function shareFilterSql(table: CatalogTable, ctx: GateContext): string {
  const tenantColumn = table.tenantColumn ?? TENANT_COLUMN;
  const columns = table.columns.filter((c) => c.toLowerCase() !== tenantColumn).map(quoteIdent);
  if (columns.length === 0) throw new Error(`shared table ${table.name} has no columns but its tenant column`);
  const source = `${quoteIdent(ctx.catalogName)}.main.${quoteIdent(table.name)}`;
  const filter =
    tenantColumn === TENANT_COLUMN
      ? `${quoteIdent(TENANT_COLUMN)} = ${quoteLiteral(ctx.tenantId)}`
      : `list_contains(${quoteIdent(tenantColumn)}, ${quoteLiteral(ctx.tenantId)})`;
  return `SELECT ${columns.join(', ')} FROM ${source} WHERE ${filter}`;
}

/**
 * Serialised subquery statements by table and tenant: json_serialize_sql output of
 * shareFilterSql, filled in by the gate before it confines a statement.
 */
export type ShareFilterTemplates = ReadonlyMap<string, string>;

export function templateKey(table: CatalogTable, ctx: GateContext): string {
  return `${ctx.version}\0${ctx.tenantId}\0${table.name}`;
}

/** The SUBQUERY table reference that replaces `ref`. */
export function shareFilterSubquery(ref: AstObject, table: CatalogTable, ctx: GateContext, templates: ShareFilterTemplates): AstObject {
  const json = templates.get(templateKey(table, ctx));
  if (!json) throw new Error(`no confinement template for shared table ${table.name}`);
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
