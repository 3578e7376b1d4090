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
import { TENANT_COLUMN, TENANT_LIST_COLUMN, withHistoryWindow, type CatalogTable, type GateContext } from '../sql/catalog.js';
import { quoteIdent, quoteLiteral } from '../sql/quote.js';
import type { LiveRegistry } from '../tenants/liveRegistry.js';
import type { RegistryData, TenantRecord } from '../tenants/registry.js';
import { getPlan, type Plan } from '../tenants/plans.js';
import { countLimitHit } from '../observability/metrics.js';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { CatalogTableInput, TenantCatalogInput } from '../catalog/build.js';
import { SHARED_CATALOG, type DescribeTenants, type InstanceCache, type InstanceLimits, type Lease, type TableInfo } from './instances.js';

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
      out.set(key, { name: t.name, columns: t.columns, columnTypes: t.columnTypes, tenantColumn: first });
    }
  }
  return out;
}


/**
 * Which shared tables hold rows of which tenant. A shared tenant sees only the shared
 * tables it has rows in, as if they were its own database: the name of a table that
 * only other tenants use is not for it to learn.
 */
async function tablesByTenant(conn: DuckDBConnection, tables: ReadonlyMap<string, CatalogTable>): Promise<Map<string, Set<string>>> {
  const parts = [...tables.values()].map((t) =>
    t.tenantColumn === TENANT_LIST_COLUMN
      ? `SELECT DISTINCT ${quoteLiteral(t.name)} AS t, unnest(${quoteIdent(TENANT_LIST_COLUMN)}) AS id FROM main.${quoteIdent(t.name)}`
      : `SELECT DISTINCT ${quoteLiteral(t.name)} AS t, ${quoteIdent(TENANT_COLUMN)} AS id FROM main.${quoteIdent(t.name)}`,
  );
  const byTenant = new Map<string, Set<string>>();
  if (parts.length === 0) return byTenant;
  const reader = await conn.runAndReadAll(parts.join(' UNION ALL '));
  for (const [table, id] of reader.getRowsJS()) {
    const key = String(id);
    const set = byTenant.get(key) ?? new Set<string>();
    set.add(String(table).toLowerCase());
    byTenant.set(key, set);
  }
  return byTenant;
}

/** What a shared instance knows about its tenants, computed once when it opens. */
interface SharedMeta {
  tables: Map<string, CatalogTable>;
  byTenant: Map<string, Set<string>>;
  /** Each tenant's visible tables, made once per snapshot rather than per query. */
  visible: Map<string, Map<string, CatalogTable>>;
}

function catalogTable(t: TableInfo, hide?: string): CatalogTableInput {
  const columns = t.columns
    .map((name, i) => ({ name, type: t.types[i]!, nullable: t.nullable[i] ?? true }))
    .filter((c) => c.name.toLowerCase() !== hide);
  return { name: t.name, columns };
}

/**
 * The tenants an instance serves, for its PostgreSQL catalog: the owner of a tenant
 * instance; for the shared instance, every shared tenant with the shared tables it has
 * rows in (tenant column hidden, as queries see them).
 */
export function describeTenants(live: LiveRegistry): DescribeTenants {
  return async (spec, conn, tables) => {
    const data = await live.current();
    const users = (id: string) => (Object.hasOwn(data.tenants, id) ? data.tenants[id]!.users.map((u) => u.name) : []);
    if (spec.owner !== SHARED_CATALOG) {
      const tenants = [{ tenantId: spec.owner, users: users(spec.owner), tables: [...tables.values()].map((t) => catalogTable(t)) }];
      return { tenants };
    }
    const shared = sharedTables(tables);
    const byTenant = await tablesByTenant(conn, shared);
    const tenants: TenantCatalogInput[] = [];
    for (const [id, t] of Object.entries(data.tenants)) {
      if (t.isolation !== 'shared') continue;
      const mine = byTenant.get(id) ?? new Set<string>();
      const visible = [...shared].filter(([key]) => mine.has(key)).map(([key, table]) => catalogTable(tables.get(key)!, table.tenantColumn));
      tenants.push({ tenantId: id, users: users(id), tables: visible });
    }
    const meta: SharedMeta = { tables: shared, byTenant, visible: new Map() };
    return { tenants, meta };
  };
}

export class TenantEngine {
  /** Sessions open per tenant, for the plans' connection limits. */
  private readonly sessions = new Map<string, number>();

  /**
   * sharedPool: memory_limit and threads of the shared instance (config sharedMemoryLimit,
   * sharedThreads), the one pool all shared tenants draw from whatever their plans; their
   * plans' concurrency, rate and result limits still apply to each tenant on its own.
   */
  constructor(
    private readonly live: LiveRegistry,
    private readonly cache: InstanceCache,
    private readonly sharedPool: InstanceLimits,
  ) {}

  /**
   * Admits one more session of the tenant within its plan's connection limit, or throws
   * FATAL 53300. Returns the function that gives the place back when the session ends.
   */
  async admitSession(tenantId: string): Promise<() => void> {
    const plan = await this.plan(tenantId);
    const n = this.sessions.get(tenantId) ?? 0;
    if (plan.maxConnections !== null && n >= plan.maxConnections) {
      countLimitHit(tenantId, 'connections');
      throw new PgError(
        SqlState.TooManyConnections,
        `too many connections for tenant "${tenantId}": plan ${plan.name} allows ${plan.maxConnections}`,
        { severity: 'FATAL' },
      );
    }
    this.sessions.set(tenantId, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.sessions.get(tenantId) ?? 1) - 1;
      if (left <= 0) this.sessions.delete(tenantId);
      else this.sessions.set(tenantId, left);
    };
  }

  /** The registry now, and the tenant in it; FATAL 28000 when the tenant was removed. */
  private async registered(tenantId: string): Promise<{ data: RegistryData; tenant: TenantRecord }> {
    const data = await this.live.current();
    const tenant = Object.hasOwn(data.tenants, tenantId) ? data.tenants[tenantId] : undefined;
    if (!tenant) {
      throw new PgError(SqlState.InvalidAuthorizationSpecification, 'this tenant no longer exists', { severity: 'FATAL' });
    }
    return { data, tenant };
  }

  /** The tenant's plan as the registry says now. */
  async plan(tenantId: string): Promise<Plan> {
    const { data, tenant } = await this.registered(tenantId);
    return getPlan(tenant.plan, data);
  }

  /**
   * Whose memory a query of the tenant runs in, for the 53200 it gets when that runs out:
   * its plan's (database isolation), or the shared pool (shared isolation).
   */
  async memoryScope(tenantId: string): Promise<string> {
    const { data, tenant } = await this.registered(tenantId);
    const plan = getPlan(tenant.plan, data);
    return tenant.isolation === 'shared'
      ? `the ${this.sharedPool.memoryLimit} memory limit of the shared pool (tenants with shared isolation; plan ${plan.name})`
      : `the ${plan.memoryLimit} memory limit of plan ${plan.name}`;
  }

  async lease(tenantId: string): Promise<TenantLease> {
    // A snapshot named by the registry can be replaced and unlinked by a load between our
    // read of the registry and the open; the registry then names a newer one: read again.
    for (let attempt = 0; ; attempt++) {
      const { data, tenant } = await this.registered(tenantId);
      if (tenant.status !== 'active') {
        throw new PgError(SqlState.InvalidAuthorizationSpecification, `tenant "${tenantId}" is suspended`, { severity: 'FATAL' });
      }
      const plan = getPlan(tenant.plan, data);
      const shared = tenant.isolation === 'shared';
      try {
        const lease = await this.cache.acquire(
          shared
            ? {
                owner: SHARED_CATALOG,
                snapshotPath: this.live.registry.sharedSnapshotPath(data),
                limits: this.sharedPool,
              }
            : {
                owner: tenantId,
                snapshotPath: this.live.registry.snapshotPath(tenant),
                limits: { memoryLimit: plan.memoryLimit, threads: plan.threads },
              },
        );
        try {
          // The plan's history window applies to tables with a declared time column, whichever isolation.
          return { lease, context: withHistoryWindow(this.context(tenantId, shared, lease), plan.historyDays, data.timeColumns) };
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

  private context(tenantId: string, shared: boolean, lease: Lease): GateContext {
    if (!shared) {
      return { tenantId, isolation: 'database', catalogName: tenantId, tables: lease.tables, version: lease.key };
    }
    const { tables, byTenant, visible: cache } = lease.meta as SharedMeta;
    let visible = cache.get(tenantId);
    if (!visible) {
      const mine = byTenant.get(tenantId) ?? new Set<string>();
      visible = new Map([...tables].filter(([key]) => mine.has(key)));
      cache.set(tenantId, visible);
    }
    return { tenantId, isolation: 'shared', catalogName: SHARED_CATALOG, tables: visible, version: lease.key };
  }
}
