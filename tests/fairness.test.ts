// The process's budget of running queries (config maxRunningQueries) through real clients:
// one tenant's long query holds the server's only slot, another tenant's query waits for
// it and is refused with 53400 "the server is busy" (not its plan's limit), and runs once
// the slot comes free. Each refusal of a limit is counted in tenantgate_limit_hits_total.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../src/tenants/plans.js';
import { pgConnect, rawTypes, sendCancel } from './support/clients.js';
import { addTestTenant, startGateway, type TestGateway } from './support/gateway.js';
import { answersOne, limitHits, setTestPlan } from './support/limits.js';
import { ENDLESS_QUERY, until } from './support/wait.js';

const PW = 'fairness-test-password';
type PgErr = Error & { code?: string; detail?: string; hint?: string };

const failure = (p: Promise<unknown>): Promise<PgErr | null> => p.then(() => null, (e: PgErr) => e);

const hits = limitHits;

describe('the process-wide budget of running queries', () => {
  let gw: TestGateway;
  const plan = (name: string, limits: Partial<Plan>): Promise<boolean> => setTestPlan(gw, name, limits);
  const connect = (tenant: string): Promise<pg.Client> => pgConnect(gw, { tenant, password: PW }, { types: rawTypes });
  const one = answersOne;

  beforeAll(async () => {
    gw = await startGateway({ maxRunningQueries: 1 });
    await plan('single', { maxConcurrentQueries: 1, maxConnections: 2 });
    await plan('quick', { statementTimeoutMs: 300 });
    await addTestTenant(gw.registry, 'alpha', PW, { plan: 'single' });
    await addTestTenant(gw.registry, 'beta', PW);
    await addTestTenant(gw.registry, 'gamma', PW, { plan: 'quick' });
  });
  afterAll(() => gw.stop());

  it("makes another tenant's query wait for the server's slot, then refuses it with 53400 server busy", async () => {
    const a = await connect('alpha');
    const b = await connect('beta');
    await one(b);
    const busyBefore = await hits('beta', 'server_busy');
    const long = failure(a.query(ENDLESS_QUERY));
    await until(() => gw.gateway.runningQueries === 1);
    // beta's plan allows 8 at once and it runs none: only the server's budget holds it.
    const e = await failure(b.query('SELECT 2 AS two'));
    expect(e?.code).toBe('53400');
    expect(e?.message).toBe('the server is busy: too many queries are running at once');
    expect(e?.message).not.toContain('plan');
    expect(await hits('beta', 'server_busy')).toBe(busyBefore + 1);
    // A query that waits gets the slot when the running one ends.
    const waiting = b.query('SELECT 3 AS three');
    await new Promise((r) => setTimeout(r, 200));
    await sendCancel(gw.port, a);
    expect((await long)?.code).toBe('57014');
    expect((await waiting).rows).toEqual([{ three: '3' }]);
    await one(a);
    await one(b);
    await until(() => gw.gateway.runningQueries === 0);
    await a.end();
    await b.end();
  });

  it("refuses a tenant over its own plan's concurrency with the plan's message, counted apart", async () => {
    const a1 = await connect('alpha');
    const a2 = await connect('alpha');
    const before = { concurrency: await hits('alpha', 'concurrency'), busy: await hits('alpha', 'server_busy') };
    const long = failure(a1.query(ENDLESS_QUERY));
    await until(() => gw.gateway.runningQueries === 1);
    const e = await failure(a2.query('SELECT 1'));
    expect(e?.code).toBe('53400');
    expect(e?.message).toBe('too many concurrent queries: plan single allows 1 at once per tenant');
    expect(await hits('alpha', 'concurrency')).toBe(before.concurrency + 1);
    expect(await hits('alpha', 'server_busy')).toBe(before.busy);
    await sendCancel(gw.port, a1);
    expect((await long)?.code).toBe('57014');
    await one(a2);
    await a1.end();
    await a2.end();
  });

  it("counts the plan's statement timeout and a login over the plan's connections as limit hits", async () => {
    const timeouts = await hits('gamma', 'statement_timeout');
    const g = await connect('gamma');
    const e = await failure(g.query(ENDLESS_QUERY));
    expect(e?.code).toBe('57014');
    expect(e?.detail).toBe('The statement timeout of plan quick is 300ms.');
    expect(await hits('gamma', 'statement_timeout')).toBe(timeouts + 1);
    // The session's own, shorter timeout is not the plan's limit: not counted.
    await g.query("SET statement_timeout = '100ms'");
    expect((await failure(g.query(ENDLESS_QUERY)))?.code).toBe('57014');
    expect(await hits('gamma', 'statement_timeout')).toBe(timeouts + 1);
    await g.end();

    const logins = await hits('alpha', 'connections');
    const a1 = await connect('alpha');
    const a2 = await connect('alpha');
    expect((await failure(connect('alpha')))?.code).toBe('53300');
    expect(await hits('alpha', 'connections')).toBe(logins + 1);
    await a1.end();
    await a2.end();
  });
});
