// Plan limits through a real client (node-postgres): each answers with PostgreSQL's
// SQLSTATE and a message naming the limit and the plan, and the session goes on.
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../src/tenants/plans.js';
import { pgConnect, rawTypes, sendCancel } from './support/clients.js';
import { addTestTenant, startGateway, type TestGateway } from './support/gateway.js';
import { answersOne, limitHits, setTestPlan } from './support/limits.js';
import { ENDLESS_QUERY, until } from './support/wait.js';

const PW = 'limits-test-password';
type PgErr = Error & { code?: string; detail?: string };

const failure = (p: Promise<unknown>): Promise<PgErr | null> => p.then(() => null, (e: PgErr) => e);

describe('plan limits', () => {
  let gw: TestGateway;
  const plan = (name: string, limits: Partial<Plan>): Promise<boolean> => setTestPlan(gw, name, limits);
  const connect = (tenant: string): Promise<pg.Client> => pgConnect(gw, { tenant, password: PW }, { types: rawTypes });
  const one = answersOne;

  beforeAll(async () => {
    gw = await startGateway();
    await plan('quick', { statementTimeoutMs: 400 });
    await plan('capped', { maxResultRows: 100, maxResultBytes: 4096 });
    await plan('few', { maxConnections: 2 });
    await plan('single', { maxConcurrentQueries: 1 });
    await plan('small', { memoryLimit: '32MB', threads: 1 });
    for (const [id, p] of [['quick', 'quick'], ['capped', 'capped'], ['few', 'few'], ['single', 'single'], ['small', 'small']] as const) {
      await addTestTenant(gw.registry, id, PW, { plan: p });
    }
  });
  afterAll(() => gw.stop());

  it("stops a statement at the plan's timeout with 57014; SET may lower it, never raise it", async () => {
    const c = await connect('quick');
    let e = await failure(c.query(ENDLESS_QUERY));
    expect(e?.code).toBe('57014');
    expect(e?.message).toBe('canceling statement due to statement timeout');
    expect(e?.detail).toBe('The statement timeout of plan quick is 400ms.');
    await one(c);
    // Raised above the plan's: the plan's is still in force.
    await c.query("SET statement_timeout = '10min'");
    e = await failure(c.query(ENDLESS_QUERY));
    expect(e?.code).toBe('57014');
    expect(e?.detail).toContain('plan quick');
    // Lowered: the session's own is in force (no plan in the detail), as in PostgreSQL.
    await c.query("SET statement_timeout = '100ms'");
    e = await failure(c.query(ENDLESS_QUERY));
    expect(e?.code).toBe('57014');
    expect(e?.detail).toBeUndefined();
    await c.query('RESET statement_timeout');
    await one(c);
    await until(() => gw.gateway.runningQueries === 0);
    await c.end();
  });

  it("refuses a result over the plan's rows or bytes with 54000, in both protocols", async () => {
    const c = await connect('capped');
    expect((await c.query('SELECT * FROM range(100) t(i)')).rows).toHaveLength(100);
    let e = await failure(c.query('SELECT * FROM range(101) t(i)'));
    expect(e?.code).toBe('54000');
    expect(e?.message).toBe('result exceeds the limit of plan capped: more than 100 rows');
    await one(c);
    e = await failure(c.query({ text: 'SELECT * FROM range($1::int) t(i)', values: [1000] }));
    expect(e?.code).toBe('54000');
    expect(e?.message).toContain('more than 100 rows');
    await one(c);
    e = await failure(c.query("SELECT repeat('x', 200) AS s FROM range(50) t(i)"));
    expect(e?.code).toBe('54000');
    expect(e?.message).toBe('result exceeds the limit of plan capped: more than 4KB of rows');
    await one(c);
    // Counted over a portal's Executes: a cursor reading in parts meets the same cap.
    await c.query('BEGIN');
    await c.query('DECLARE cur CURSOR FOR SELECT * FROM range(1000) t(i)');
    expect((await c.query('FETCH 60 FROM cur')).rows).toHaveLength(60);
    e = await failure(c.query('FETCH 60 FROM cur'));
    expect(e?.code).toBe('54000');
    await c.query('ROLLBACK');
    await one(c);
    // COPY TO STDOUT meets it too.
    const copy = async (sql: string): Promise<void> => {
      for await (const chunk of c.query(copyTo(sql))) void chunk;
    };
    await copy('COPY (SELECT * FROM range(100) t(i)) TO STDOUT');
    e = await failure(copy('COPY (SELECT * FROM range(1000) t(i)) TO STDOUT'));
    expect(e?.code).toBe('54000');
    await one(c);
    await c.end();
  });

  it("refuses a login over the plan's connections with 53300; the open sessions go on", async () => {
    const a = await connect('few');
    const b = await connect('few');
    const e = await failure(connect('few'));
    expect(e?.code).toBe('53300');
    expect(e?.message).toBe('too many connections for tenant "few": plan few allows 2');
    await one(a);
    await one(b);
    await b.end();
    // Its place comes back once the gateway has seen the connection close.
    let c: pg.Client | null = null;
    for (let i = 0; i < 50 && !c; i++) {
      c = await connect('few').catch(async () => {
        await new Promise((r) => setTimeout(r, 50));
        return null;
      });
    }
    expect(c).not.toBeNull();
    await one(c!);
    await c!.end();
    await a.end();
  });

  it("makes a query over the plan's concurrent queries wait briefly, then 53400", async () => {
    const a = await connect('single');
    const b = await connect('single');
    const long = failure(a.query(ENDLESS_QUERY));
    await until(() => gw.gateway.runningQueries === 1);
    const started = Date.now();
    const e = await failure(b.query('SELECT 1'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect(e?.code).toBe('53400');
    expect(e?.message).toBe('too many concurrent queries: plan single allows 1 at once per tenant');
    // A query that waits gets the slot when the running one ends.
    const waiting = b.query('SELECT 2 AS two');
    await new Promise((r) => setTimeout(r, 200));
    await sendCancel(gw.port, a);
    expect((await long)?.code).toBe('57014');
    expect((await waiting).rows).toEqual([{ two: '2' }]);
    await one(a);
    await one(b);
    await a.end();
    await b.end();
  });

  it('makes reading on from an open cursor hold a slot like any query', async () => {
    const a = await connect('single');
    const b = await connect('single');
    await a.query('BEGIN');
    await a.query('DECLARE cur CURSOR FOR SELECT * FROM range(100000) t(i)');
    expect((await a.query('FETCH 10 FROM cur')).rows).toHaveLength(10);
    const long = failure(b.query(ENDLESS_QUERY));
    await until(() => gw.gateway.runningQueries === 1);
    // The cursor's result is open in DuckDB, but the tenant's one slot is taken: the FETCH waits, then 53400.
    const e = await failure(a.query('FETCH 10 FROM cur'));
    expect(e?.code).toBe('53400');
    await a.query('ROLLBACK');
    await sendCancel(gw.port, b);
    expect((await long)?.code).toBe('57014');
    await one(a);
    await a.end();
    await b.end();
  });

  it('applies a changed plan at the next statement of an open session', async () => {
    const c = await connect('capped');
    expect((await c.query('SELECT * FROM range(150) t(i)').catch((x: PgErr) => x.code)) as unknown).toBe('54000');
    await plan('capped', { maxResultRows: 200, maxResultBytes: 4096 });
    expect((await c.query('SELECT * FROM range(150) t(i)')).rows).toHaveLength(150);
    await plan('capped', { maxResultRows: 100, maxResultBytes: 4096 });
    await c.end();
  });

  it("answers a query over the plan's memory with 53200 naming the limit and the plan; the session goes on", async () => {
    const c = await connect('small');
    const hits = (): Promise<number> => limitHits('small', 'memory');
    const before = await hits();
    // A list cannot spill to disk: 10 million BIGINTs need more than 32MB.
    const e = await failure(c.query('SELECT len(list(i)) AS n FROM range(10000000) t(i)'));
    expect(e?.code).toBe('53200');
    expect(e?.message).toBe('out of memory: the query needs more than the 32MB memory limit of plan small');
    expect(e?.detail).toMatch(/failed to allocate/);
    expect(await hits()).toBe(before + 1);
    await one(c);
    expect((await c.query('SELECT len(list(i)) AS n FROM range(1000) t(i)')).rows).toEqual([{ n: '1000' }]);
    await c.end();
  });
});
