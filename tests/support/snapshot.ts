import { DuckDBInstance } from '@duckdb/node-api';
import { getTenant, type Registry } from '../../src/tenants/registry.js';

async function queryFile(file: string, sql: string): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  const conn = await instance.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRows();
  } finally {
    conn.disconnectSync();
    instance.closeSync();
  }
}

/** Rows of `sql` run on the tenant's current published snapshot, opened read-only. */
export async function querySnapshot(registry: Registry, tenant: string, sql: string): Promise<unknown[][]> {
  const p = registry.snapshotPath(await getTenant(registry, tenant));
  if (!p) throw new Error(`tenant ${tenant} has no snapshot`);
  return queryFile(p, sql);
}

/** Rows of `sql` run on the current published shared database, opened read-only. */
export async function querySharedSnapshot(registry: Registry, sql: string): Promise<unknown[][]> {
  const p = registry.sharedSnapshotPath(await registry.read());
  if (!p) throw new Error('there is no shared database yet');
  return queryFile(p, sql);
}

/**
 * Row count and a checksum (sum of row hashes) of one tenant's rows in a shared table, or
 * null when the shared database or the table does not exist.
 */
export async function sharedRowsChecksum(registry: Registry, table: string, tenant: string): Promise<[bigint, string] | null> {
  const p = registry.sharedSnapshotPath(await registry.read());
  if (!p) return null;
  const exists = await queryFile(p, `SELECT count(*) FROM duckdb_tables() WHERE table_name = '${table}'`);
  if (exists[0]?.[0] === 0n) return null;
  const rows = await queryFile(
    p,
    `SELECT count(*), coalesce(sum(hash(*COLUMNS(* EXCLUDE (tenant_id)))), 0)::VARCHAR FROM "${table}" WHERE tenant_id = '${tenant}'`,
  );
  return [rows[0]![0] as bigint, String(rows[0]![1])];
}
