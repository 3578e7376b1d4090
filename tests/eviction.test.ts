// Many tenants through a gateway capped at 3 open DuckDB instances: each tenant always
// gets its own rows and catalog, instances and catalog files stay bounded, and an instance
// in use (a transaction block, a cursor) is never closed under its session.
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceEvictions } from '../src/observability/metrics.js';
import { getPlan } from '../src/tenants/plans.js';
import { setPlan } from '../src/tenants/registry.js';
import { pgConnect, rawTypes } from './support/clients.js';
import { addTestTenant, startGateway, type TestGateway } from './support/gateway.js';
import { until } from './support/wait.js';

const PW = 'eviction-test-password';
const CAP = 3;
const TENANTS = Array.from({ length: 30 }, (_, i) => `tenant_${String(i).padStart(2, '0')}`);
/** Tenant i has i + 4 rows, each naming the tenant. */
const rowsOf = (id: string): number => TENANTS.indexOf(id) + 4;

async function lruEvictions(): Promise<number> {
  return (await instanceEvictions.get()).values.find((v) => v.labels.reason === 'lru')?.value ?? 0;
}

describe('instance cap with many tenants', () => {
  let gw: TestGateway;
  const clients = new Map<string, pg.Client>();
  const tempRoot = (): string => path.join(gw.dataDir, 'tmp', `gateway-${process.pid}`);
  const tenantCatalogFiles = (): string[] => fs.readdirSync(tempRoot()).filter((f) => /^catalog-[0-9a-f]{32}\.duckdb$/.test(f));
  const client = (id: string): pg.Client => clients.get(id)!;

  /** Asserts the tenant's answer is its own data, its own catalog and nobody else's. */
  const check = async (id: string): Promise<void> => {
    const c = client(id);
    const r = await c.query('SELECT tenant, count(*) AS n, min(i) AS lo, max(i) AS hi FROM who GROUP BY tenant');
    expect(r.rows, id).toEqual([{ tenant: id, n: String(rowsOf(id)), lo: '0', hi: String(rowsOf(id) - 1) }]);
    // The catalog attached to the instance is the tenant's, however often it was reopened.
    expect((await c.query('SELECT current_database() AS db')).rows, id).toEqual([{ db: id }]);
    expect((await c.query('SELECT usename FROM pg_user')).rows, id).toEqual([{ usename: id }]);
    expect((await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows, id).toEqual([{ tablename: 'who' }]);
  };

  beforeAll(async () => {
    gw = await startGateway({ maxOpenInstances: CAP });
    // One thread per instance: this runs on two shared cores.
    await setPlan(gw.registry, { ...getPlan('enterprise'), name: 'lean', threads: 1, memoryLimit: '256MB' });
    for (const id of TENANTS) {
      await addTestTenant(gw.registry, id, PW, {
        plan: 'lean',
        sql: [`CREATE TABLE who AS SELECT '${id}' AS tenant, i FROM range(${rowsOf(id)}) t(i)`],
      });
    }
    for (const id of TENANTS) clients.set(id, await pgConnect(gw, { tenant: id, password: PW }, { types: rawTypes }));
  }, 180_000);
  afterAll(async () => {
    for (const c of clients.values()) await c.end().catch(() => undefined);
    await gw?.stop();
  });

  it('answers every tenant with its own data, round robin, within the instance and catalog file bounds', async () => {
    const before = await lruEvictions();
    for (let round = 0; round < 3; round++) {
      // One by one, then in batches of six at once (more than the cap is leased then).
      if (round === 1) {
        for (let i = 0; i < TENANTS.length; i += 6) await Promise.all(TENANTS.slice(i, i + 6).map(check));
      } else {
        for (const id of round === 2 ? [...TENANTS].reverse() : TENANTS) await check(id);
      }
      await until(() => gw.gateway.runningQueries === 0);
      await until(() => gw.gateway.openInstances <= CAP);
      // Attached by an open instance (at most CAP), or kept for reuse (at most min(64, CAP)).
      expect(tenantCatalogFiles().length).toBeLessThanOrEqual(2 * CAP);
    }
    // Every round opened each of the 30 tenants again: far more opens than the cap allows.
    expect((await lruEvictions()) - before).toBeGreaterThanOrEqual(3 * (TENANTS.length - CAP));
  });

  it('never closes an instance under a transaction block or a cursor reading it', async () => {
    const [held, ...others] = TENANTS;
    const c = client(held!);
    await c.query('BEGIN');
    expect((await c.query('SELECT count(*) AS n FROM who')).rows).toEqual([{ n: String(rowsOf(held!)) }]);
    await c.query('DECLARE cur CURSOR FOR SELECT tenant, i FROM who ORDER BY i');
    expect((await c.query('FETCH 2 FROM cur')).rows).toEqual([
      { tenant: held, i: '0' },
      { tenant: held, i: '1' },
    ]);
    const before = await lruEvictions();
    for (const id of others.slice(0, 12)) await check(id);
    expect((await lruEvictions()) - before).toBeGreaterThan(0);
    // The block's instance survived all of it: the cursor goes on where it was.
    expect((await c.query('FETCH 2 FROM cur')).rows).toEqual([
      { tenant: held, i: '2' },
      { tenant: held, i: '3' },
    ]);
    expect((await c.query('SELECT max(i) AS hi FROM who')).rows).toEqual([{ hi: String(rowsOf(held!) - 1) }]);
    await c.query('COMMIT');
    await check(held!);
    await until(() => gw.gateway.openInstances <= CAP);
  });

  it('opens over the cap while every instance is leased, and comes back under it as the blocks end', async () => {
    const blocks = TENANTS.slice(10, 10 + CAP + 2);
    for (const id of blocks) {
      await client(id).query('BEGIN');
      expect((await client(id).query('SELECT DISTINCT tenant FROM who')).rows).toEqual([{ tenant: id }]);
    }
    // Each block holds its instance: none could be closed to make room.
    expect(gw.gateway.openInstances).toBeGreaterThanOrEqual(blocks.length);
    for (const id of blocks) {
      expect((await client(id).query('SELECT count(*) AS n FROM who')).rows).toEqual([{ n: String(rowsOf(id)) }]);
      await client(id).query('COMMIT');
    }
    await until(() => gw.gateway.openInstances <= CAP);
    for (const id of blocks) await check(id);
    await until(() => gw.gateway.openInstances <= CAP);
    expect(tenantCatalogFiles().length).toBeLessThanOrEqual(2 * CAP);
  });
});
