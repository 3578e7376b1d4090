/**
 * From a tenant id to a lease on the instance holding its current snapshot, under
 * the limits of its plan. The registry is consulted on every call, so a newly
 * published snapshot is what the next query sees.
 */
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import type { LiveRegistry } from '../tenants/liveRegistry.js';
import { getPlan } from '../tenants/plans.js';
import type { InstanceCache, Lease } from './instances.js';

export class TenantEngine {
  constructor(
    private readonly live: LiveRegistry,
    private readonly cache: InstanceCache,
  ) {}

  async lease(tenantId: string): Promise<Lease> {
    // A snapshot named by the registry can be replaced and unlinked by a load between our
    // read of the registry and the open; the registry then names a newer one: read again.
    for (let attempt = 0; ; attempt++) {
      const tenant = await this.live.tenant(tenantId);
      if (!tenant) {
        throw new PgError(SqlState.InvalidAuthorizationSpecification, 'this tenant no longer exists', { severity: 'FATAL' });
      }
      if (tenant.status !== 'active') {
        throw new PgError(SqlState.InvalidAuthorizationSpecification, `tenant "${tenantId}" is suspended`, { severity: 'FATAL' });
      }
      const plan = getPlan(tenant.plan);
      try {
        return await this.cache.acquire({
          tenantId,
          snapshotPath: this.live.registry.snapshotPath(tenant),
          limits: { memoryLimit: plan.memoryLimit, threads: plan.threads },
        });
      } catch (e) {
        if (attempt < 3 && (e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
    }
  }
}
