import fs from 'node:fs';
import net from 'node:net';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgConnect, rawTypes, sendCancel } from './support/clients.js';
import { getPlan } from '../src/tenants/plans.js';
import { addTestTenant, startGateway, type TestGateway } from './support/gateway.js';
import { ENDLESS_QUERY, until } from './support/wait.js';

const PW = 'cancel-test-password';
const LONG = ENDLESS_QUERY;

describe('cancel, timeout and disconnect', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
    await addTestTenant(gw.registry, 'acme', PW);
    // A plan whose concurrent queries the test can fill.
    await addTestTenant(gw.registry, 'busy', PW, { plan: 'pro' });
  });
  afterAll(() => gw.stop());

  it('cancels a running query with 57014 when the client sends CancelRequest, and the session goes on', async () => {
    const sql = postgres({
      host: '127.0.0.1', port: gw.port, database: 'acme', username: 'acme', password: PW,
      ssl: { ca: fs.readFileSync(gw.caFile) }, max: 1, fetch_types: false,
    });
    const q = sql.unsafe(LONG).simple();
    const result = q.then(() => null, (e: postgres.PostgresError) => e);
    await until(() => gw.gateway.runningQueries === 1);
    await q.cancel();
    const e = await result;
    expect(e?.code).toBe('57014');
    expect(e?.message).toBe('canceling statement due to user request');
    await until(() => gw.gateway.runningQueries === 0);
    expect((await sql.unsafe('SELECT 5 AS five').simple()).map((r) => ({ ...r }))).toEqual([{ five: 5 }]);
    await sql.end();
  });

  it('ignores a CancelRequest with the wrong secret key', async () => {
    const c = await pgConnect(gw, { tenant: 'acme', password: PW }, { types: rawTypes });
    const pid = (c as unknown as { processID: number }).processID;
    await c.query("SET statement_timeout = '1500ms'");
    const running = c.query(LONG).then(() => null, (e: Error) => e);
    await until(() => gw.gateway.runningQueries === 1);
    await sendCancel(gw.port, c, { processID: pid, secretKey: 12345 });
    // Not cancelled by the wrong key: it runs on until its own timeout.
    expect((await running)?.message).toBe('canceling statement due to statement timeout');
    await c.end();
  });

  it('stops a query at statement_timeout with 57014', async () => {
    const c = await pgConnect(gw, { tenant: 'acme', password: PW }, { types: rawTypes });
    await c.query("SET statement_timeout = '300ms'");
    await expect(c.query(LONG)).rejects.toMatchObject({
      code: '57014',
      message: 'canceling statement due to statement timeout',
    });
    await c.query('RESET statement_timeout');
    expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: '1' }]);
    await c.end();
  });

  it('times out a query that waits for one of its tenant\'s query slots', async () => {
    const slots = getPlan('pro').maxConcurrentQueries;
    const hogs = await Promise.all(Array.from({ length: slots }, () => pgConnect(gw, { tenant: 'busy', password: PW }, { types: rawTypes })));
    const running = hogs.map((h) => h.query(LONG).catch(() => null));
    await until(() => gw.gateway.runningQueries === slots);
    const fourth = await pgConnect(gw, { tenant: 'busy', password: PW }, { types: rawTypes });
    await fourth.query("SET statement_timeout = '300ms'");
    await expect(fourth.query('SELECT 1')).rejects.toMatchObject({
      code: '57014',
      message: 'canceling statement due to statement timeout',
    });
    expect(gw.gateway.runningQueries).toBe(slots);
    for (const h of hogs) (h as unknown as { connection: { stream: net.Socket } }).connection.stream.destroy();
    await Promise.all(running);
    await until(() => gw.gateway.runningQueries === 0);
    expect((await fourth.query('SELECT 1 AS one')).rows).toEqual([{ one: '1' }]);
    await fourth.end();
  });

  it('stops the query of a client that hangs up', async () => {
    const c = await pgConnect(gw, { tenant: 'acme', password: PW }, { types: rawTypes });
    const q = c.query(LONG).catch(() => null);
    await until(() => gw.gateway.runningQueries === 1);
    (c as unknown as { connection: { stream: net.Socket } }).connection.stream.destroy();
    await until(() => gw.gateway.runningQueries === 0);
    await q;
  });
});
