import { DuckDBInstance } from '@duckdb/node-api';
import { getTenant, type Registry } from '../../src/tenants/registry.js';

/** Rows of `sql` run on the tenant's current published snapshot, opened read-only. */
export async function querySnapshot(registry: Registry, tenant: string, sql: string): Promise<unknown[][]> {
  const p = registry.snapshotPath(await getTenant(registry, tenant));
  if (!p) throw new Error(`tenant ${tenant} has no snapshot`);
  const instance = await DuckDBInstance.create(p, { access_mode: 'READ_ONLY' });
  const conn = await instance.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRows();
  } finally {
    conn.disconnectSync();
    instance.closeSync();
  }
}
