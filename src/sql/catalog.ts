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
}

export interface GateContext {
  tenantId: string;
  isolation: 'database' | 'shared';
  /** DuckDB catalog (database) name of the instance's data. */
  catalogName: string;
  /** Readable tables by lower-cased name. */
  tables: ReadonlyMap<string, CatalogTable>;
  /** Changes whenever what the tenant may read changes: the verdict cache keys on it. */
  version: string;
}
