/**
 * What one tenant may read, as the gate sees it: the tables of the instance its
 * queries run on, and how each must be confined.
 */

/** Column that ties a shared-table row to one tenant, or to a list of tenants. */
export const TENANT_COLUMN = 'tenant_id';
export const TENANT_LIST_COLUMN = 'tenant_ids';

export interface CatalogTable {
  /** The table's name as stored. */
  name: string;
  /** Column names in order, as stored. */
  columns: string[];
  /** DuckDB type of each column (DuckDBTypeId names: INTEGER, BIGINT, ...), where known. */
  columnTypes?: string[];
  /** For a shared table: the column that says whose rows are whose. */
  tenantColumn?: typeof TENANT_COLUMN | typeof TENANT_LIST_COLUMN;
  /** The declared time column (`tenantgate history set`) as stored, with its DuckDBTypeId name. */
  timeColumn?: { name: string; type: string };
}

export interface GateContext {
  tenantId: string;
  isolation: 'database' | 'shared';
  /** DuckDB catalog (database) name of the instance's data. */
  catalogName: string;
  /** Readable tables by lower-cased name. */
  tables: ReadonlyMap<string, CatalogTable>;
  /** Days of history the tenant's plan shows of tables with a time column; null or absent: all. */
  historyDays?: number | null;
  /** Changes whenever what the tenant may read changes: the verdict cache keys on it. */
  version: string;
}

/** Windowed contexts already made, by the tables they were made from and the window's terms. */
const windowed = new WeakMap<ReadonlyMap<string, CatalogTable>, { terms: string; tables: ReadonlyMap<string, CatalogTable> }>();

/**
 * The context under a plan's history window: every table with a declared time column
 * (`timeColumns`, by lower-cased table name; the column matched case-insensitively) says
 * so, and the version changes with the window, so verdicts made without it are not reused.
 * Unchanged when the plan shows all history or no table declares a time column.
 */
export function withHistoryWindow(ctx: GateContext, historyDays: number | null, timeColumns: Readonly<Record<string, string>> | undefined): GateContext {
  if (historyDays === null || !timeColumns) return ctx;
  const terms = JSON.stringify(timeColumns);
  let made = windowed.get(ctx.tables);
  if (made?.terms !== terms) {
    const tables = new Map<string, CatalogTable>();
    let any = false;
    for (const [key, table] of ctx.tables) {
      const declared = Object.hasOwn(timeColumns, key) ? timeColumns[key]!.toLowerCase() : undefined;
      const i = declared === undefined ? -1 : table.columns.findIndex((c) => c.toLowerCase() === declared);
      if (i < 0) {
        tables.set(key, table);
        continue;
      }
      any = true;
      tables.set(key, { ...table, timeColumn: { name: table.columns[i]!, type: table.columnTypes?.[i] ?? 'UNKNOWN' } });
    }
    made = { terms, tables: any ? tables : ctx.tables };
    windowed.set(ctx.tables, made);
  }
  if (made.tables === ctx.tables) return ctx;
  return { ...ctx, tables: made.tables, historyDays, version: `${ctx.version}\0history ${historyDays} ${terms}` };
}
