// Helpers of the plan-limit tests: plans made from the enterprise plan's limits, a check
// that a session still answers, and the limit-hit counter.
import type pg from 'pg';
import { expect } from 'vitest';
import { registry } from '../../src/observability/metrics.js';
import { getPlan, type Plan } from '../../src/tenants/plans.js';
import { setPlan } from '../../src/tenants/registry.js';
import type { TestGateway } from './gateway.js';

/** Stores plan `name`: the enterprise plan's limits with `limits` changed. */
export function setTestPlan(gw: TestGateway, name: string, limits: Partial<Plan>): Promise<boolean> {
  return setPlan(gw.registry, { ...getPlan('enterprise'), name, ...limits });
}

/** The session still answers (SELECT 1). */
export async function answersOne(c: pg.Client): Promise<void> {
  expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: '1' }]);
}

/** tenantgate_limit_hits_total{tenant, limit} now. */
export async function limitHits(tenant: string, limit: string): Promise<number> {
  const { values } = await registry.getSingleMetric('tenantgate_limit_hits_total')!.get();
  return values.find((v) => v.labels.tenant === tenant && v.labels.limit === limit)?.value ?? 0;
}
