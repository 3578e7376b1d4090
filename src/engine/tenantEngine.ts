/**
 * From a tenant id to a lease on the instance holding its current data, under the
 * limits of its plan, and what the gate needs to know about that data. The registry
 * is consulted on every call, so a newly published snapshot is what the next query sees.
 *
 * A database-isolated tenant gets an instance of its own snapshot. A shared tenant gets
 * the one instance of the shared snapshot, whose tables all carry tenant_id (or a list
 * of tenant ids); the gate confines every reference to them.
 */
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import { TENANT_COLUMN, TENANT_LIST_COLUMN, type CatalogTable, type GateContext } from '../sql/catalog.js';
import { quoteIdent, quoteLiteral } from '../sql/quote.js';
import type { LiveRegistry } from '../tenants/liveRegistry.js';
import { getPlan, type Plan } from '../tenants/plans.js';
import { SHARED_CATALOG, type InstanceCache, type InstanceLimits, type Lease, type TableInfo } from './instances.js';

/**
 * Limits of the shared instance: the pool all shared tenants draw from. Per-plan
 * pools are part of the plan limits work; until then, one fixed pool.
 */
export const SHARED_POOL: InstanceLimits = { memoryLimit: '2GB', threads: 4 };

export interface TenantLease {
  lease: Lease;
  context: GateContext;
}

/** The shared tables of an instance: those whose first column says whose each row is. */
export function sharedTables(tables: ReadonlyMap<string, TableInfo>): Map<string, CatalogTable> {
  const out = new Map<string, CatalogTable>();
  for (const [key, t] of tables) {
    const first = t.columns[0]?.toLowerCase();
    // Only tables whose rows say whose they are can be confined; any other is invisible.
    if (first === TENANT_COLUMN || first === TENANT_LIST_COLUMN) {
      out.set(key, { name: t.name, columns: t.columns, tenantColumn: first });
    }
  }
  return out;
}


/**
 * Which shared tables hold rows of which tenant. A shared tenant sees only the shared
 * tables it has rows in, as if they were its own database: the name of a table that
 * only other tenants use is not for it to learn.
 */
async function tablesByTenant(lease: Lease, tables: ReadonlyMap<string, CatalogTable>): Promise<Map<string, Set<string>>> {
  const parts = [...tables.values()].map((t) =>
    t.tenantColumn === TENANT_LIST_COLUMN
      ? `SELECT DISTINCT ${quoteLiteral(t.name)} AS t, unnest(${quoteIdent(TENANT_LIST_COLUMN)}) AS id FROM main.${quoteIdent(t.name)}`
      : `SELECT DISTINCT ${quoteLiteral(t.name)} AS t, ${quoteIdent(TENANT_COLUMN)} AS id FROM main.${quoteIdent(t.name)}`,
  );
  const byTenant = new Map<string, Set<string>>();
  if (parts.length === 0) return byTenant;
  const conn = await lease.connect();
  try {
    const reader = await conn.runAndReadAll(parts.join(' UNION ALL '));
    for (const [table, id] of reader.getRowsJS()) {
      const key = String(id);
      const set = byTenant.get(key) ?? new Set<string>();
      set.add(String(table).toLowerCase());
      byTenant.set(key, set);
    }
  } finally {
    conn.closeSync();
  }
  return byTenant;
}

interface SharedCatalog {
  tables: Map<string, CatalogTable>;
  byTenant: Promise<Map<string, Set<string>>>;
  /** Each tenant's visible tables, made once per snapshot rather than per query. */
  visible: Map<string, Map<string, CatalogTable>>;
}

export class TenantEngine {
  /** The shared snapshot's catalog, by instance key: computed once per shared snapshot. */
  private sharedCatalog: { key: string; catalog: SharedCatalog } | null = null;

  constructor(
    private readonly live: LiveRegistry,
    private readonly cache: InstanceCache,
  ) {}

  /** The tenant's plan as the registry says now. */
  async plan(tenantId: string): Promise<Plan> {
    const tenant = await this.live.tenant(tenantId);
    if (!tenant) {
      throw new PgError(SqlState.InvalidAuthorizationSpecification, 'this tenant no longer exists', { severity: 'FATAL' });
    }
    return getPlan(tenant.plan);
  }

  async lease(tenantId: string): Promise<TenantLease> {
    // A snapshot named by the registry can be replaced and unlinked by a load between our
    // read of the registry and the open; the registry then names a newer one: read again.
    for (let attempt = 0; ; attempt++) {
      const data = await this.live.current();
      const tenant = Object.hasOwn(data.tenants, tenantId) ? data.tenants[tenantId] : undefined;
      if (!tenant) {
        throw new PgError(SqlState.InvalidAuthorizationSpecification, 'this tenant no longer exists', { severity: 'FATAL' });
      }
      if (tenant.status !== 'active') {
        throw new PgError(SqlState.InvalidAuthorizationSpecification, `tenant "${tenantId}" is suspended`, { severity: 'FATAL' });
      }
      const plan = getPlan(tenant.plan);
      const shared = tenant.isolation === 'shared';
      try {
        const lease = await this.cache.acquire(
          shared
            ? {
                owner: SHARED_CATALOG,
                snapshotPath: this.live.registry.sharedSnapshotPath(data),
                limits: SHARED_POOL,
              }
            : {
                owner: tenantId,
                snapshotPath: this.live.registry.snapshotPath(tenant),
                limits: { memoryLimit: plan.memoryLimit, threads: plan.threads },
              },
        );
        try {
          return { lease, context: await this.context(tenantId, shared, lease) };
        } catch (e) {
          lease.release();
          throw e;
        }
      } catch (e) {
        if (attempt < 3 && (e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
    }
  }

  private async context(tenantId: string, shared: boolean, lease: Lease): Promise<GateContext> {
    if (!shared) {
      return { tenantId, isolation: 'database', catalogName: tenantId, tables: lease.tables, version: lease.key };
    }
    if (this.sharedCatalog?.key !== lease.key) {
      const tables = sharedTables(lease.tables);
      const byTenant = tablesByTenant(lease, tables);
      this.sharedCatalog = { key: lease.key, catalog: { tables, byTenant, visible: new Map() } };
      // A failed look-up is not remembered: the next query tries again.
      byTenant.catch(() => {
        if (this.sharedCatalog?.key === lease.key) this.sharedCatalog = null;
      });
    }
    const { tables, byTenant, visible: cache } = this.sharedCatalog.catalog;
    let visible = cache.get(tenantId);
    if (!visible) {
      const mine = (await byTenant).get(tenantId) ?? new Set<string>();
      visible = new Map([...tables].filter(([key]) => mine.has(key)));
      cache.set(tenantId, visible);
    }
    return { tenantId, isolation: 'shared', catalogName: SHARED_CATALOG, tables: visible, version: lease.key };
  }
}
