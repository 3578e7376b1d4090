// Rate quotas (plan queriesPerMinute) through real clients: the query over the quota is
// refused with 53400 naming the limit and the plan, the session goes on, other tenants
// have quotas of their own, the count survives a restart of the gateway, and a quota
// raised with `tenantgate plan set` is in force at the next statement.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUOTA_FILE } from '../src/engine/rateQuota.js';
import { getPlan } from '../src/tenants/plans.js';
import { setPlan } from '../src/tenants/registry.js';
import { expectOk, tg } from './support/cli.js';
import { pgConnect, rawTypes } from './support/clients.js';
import { limitHits } from './support/limits.js';
import { addTestTenant, startGateway, type TestGateway } from './support/gateway.js';

const PW = 'quotas-test-password';
type PgErr = Error & { code?: string; hint?: string };

const failure = (p: Promise<unknown>): Promise<PgErr | null> => p.then(() => null, (e: PgErr) => e);

const hits = limitHits;

// 3 a minute: a token every 20 s, far more than any wait the gateway allows (2 s) and
// than a restart takes, so a tenant that used its quota stays refused across the tests.
const QPM = 3;
const MESSAGE = `rate limit exceeded: plan three allows ${QPM} queries per minute`;

describe('rate quotas', () => {
  let dataDir: string;
  let gw: TestGateway;
  const connect = (tenant: string): Promise<pg.Client> => pgConnect(gw, { tenant, password: PW }, { types: rawTypes });

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantgate-quotas-'));
    gw = await startGateway({}, dataDir);
    await setPlan(gw.registry, { ...getPlan('enterprise'), name: 'three', queriesPerMinute: QPM });
    for (const id of ['rated', 'other', 'prepared']) await addTestTenant(gw.registry, id, PW, { plan: 'three' });
    await addTestTenant(gw.registry, 'unlimited', PW);
  });
  afterAll(async () => {
    await gw.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("refuses the query over the plan's queries per minute with 53400; the session goes on; other tenants are unaffected", async () => {
    const c = await connect('rated');
    for (let i = 0; i < QPM; i++) expect((await c.query(`SELECT ${i} AS i`)).rows).toEqual([{ i: String(i) }]);
    const before = await hits('rated', 'rate');
    const e = await failure(c.query('SELECT 42 AS x'));
    expect(e?.code).toBe('53400');
    expect(e?.message).toBe(MESSAGE);
    expect(e?.hint).toMatch(/^The limit counts the queries of all the tenant's sessions; the next can run in about \d+ s\.$/);
    expect(await hits('rated', 'rate')).toBe(before + 1);
    // The session goes on: commands the gateway answers itself do not reach the engine.
    expect((await c.query('SHOW statement_timeout')).rows).toEqual([{ statement_timeout: '0' }]);
    await c.query('BEGIN');
    await c.query('COMMIT');
    // The quota is the tenant's, over all its sessions.
    const c2 = await connect('rated');
    expect((await failure(c2.query('SELECT 1')))?.message).toBe(MESSAGE);
    await c2.end();
    await c.end();

    // Another tenant on the same plan has a quota of its own; one without a quota has none.
    const o = await connect('other');
    for (let i = 0; i < QPM; i++) await o.query('SELECT 1');
    expect((await failure(o.query('SELECT 1')))?.code).toBe('53400');
    await o.end();
    const f = await connect('unlimited');
    for (let i = 0; i < 20; i++) await f.query('SELECT 1');
    await f.end();
  });

  it('counts a query once whichever protocol sends it (Parse, Bind and Execute are one query)', async () => {
    const c = await connect('prepared');
    for (let i = 0; i < QPM; i++) {
      expect((await c.query({ text: 'SELECT $1::int AS x', values: [i] })).rows).toEqual([{ x: String(i) }]);
    }
    const e = await failure(c.query({ text: 'SELECT $1::int AS x', values: [9] }));
    expect(e?.code).toBe('53400');
    expect(e?.message).toBe(MESSAGE);
    await c.end();
  });

  it('keeps the count across a restart of the gateway', async () => {
    await gw.stop();
    const saved = JSON.parse(fs.readFileSync(path.join(dataDir, QUOTA_FILE), 'utf8')) as { buckets: Record<string, unknown> };
    expect(Object.keys(saved.buckets).sort()).toEqual(['other', 'prepared', 'rated']);
    gw = await startGateway({}, dataDir);
    const c = await connect('rated');
    const e = await failure(c.query('SELECT 1'));
    expect(e?.code).toBe('53400');
    expect(e?.message).toBe(MESSAGE);
    await c.end();
  });

  it('applies a quota raised with `plan set` at the next statement, without a restart', async () => {
    const c = await connect('rated');
    expect((await failure(c.query('SELECT 1')))?.code).toBe('53400');
    // 600 a minute: a token every 100 ms, so each query finds one within its wait.
    expectOk(await tg(['plan', 'set', 'three', '--queries-per-minute', '600', '--data', gw.dataDir]));
    for (let i = 0; i < 5; i++) expect((await c.query(`SELECT ${i} AS i`)).rows).toEqual([{ i: String(i) }]);
    // Unlimited: no quota at all.
    expectOk(await tg(['plan', 'set', 'three', '--queries-per-minute', 'unlimited', '--data', gw.dataDir]));
    for (let i = 0; i < 20; i++) await c.query('SELECT 1');
    await c.end();
  });
});
