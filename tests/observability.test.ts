/**
 * The query log and the metrics endpoint, through a real gateway and node-postgres:
 * what was just run is in <data>/querylog/queries.jsonl and in GET /metrics.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countLimitHit } from '../src/observability/metrics.js';
import type { QueryRecord } from '../src/observability/queryLog.js';
import { pgConnect, rawTypes } from './support/clients.js';
import { addTestTenant, startGateway, type TestGateway } from './support/gateway.js';
import { ENDLESS_QUERY } from './support/wait.js';

const PW = 'observability-test-pw';
const TENANT = 'obsacme';

async function readLog(gw: TestGateway): Promise<QueryRecord[]> {
  await gw.gateway.flushQueryLog();
  const text = fs.readFileSync(path.join(gw.dataDir, 'querylog', 'queries.jsonl'), 'utf8');
  return text.trim().split('\n').map((l) => JSON.parse(l) as QueryRecord);
}

async function scrape(gw: TestGateway): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${gw.gateway.metricsPort}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** The value of one sample (`name{labels}`, labels as Prometheus prints them), 0 if absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

async function error(client: pg.Client, sql: string): Promise<pg.DatabaseError> {
  try {
    await client.query(sql);
  } catch (e) {
    return e as pg.DatabaseError;
  }
  throw new Error(`no error for ${sql}`);
}

describe('query log and metrics', () => {
  let gw: TestGateway;
  let client: pg.Client;
  beforeAll(async () => {
    gw = await startGateway({ metricsPort: 0 });
    await addTestTenant(gw.registry, TENANT, PW, {
      sql: [`CREATE TABLE orders AS SELECT i AS order_id, 'widget' AS product FROM range(100) t(i)`],
    });
    client = await pgConnect(gw, { tenant: TENANT, password: PW }, { types: rawTypes, application_name: 'obs-report' });
  });
  afterAll(async () => {
    await client?.end();
    await gw?.stop();
  });

  it('logs each statement with who, what, how long, rows, bytes, outcome and SQLSTATE', async () => {
    await client.query(`SELECT count(*) FROM orders WHERE product <> 'zebra-literal-17' AND order_id < 424242`);
    await client.query(`SELECT count(*) FROM orders WHERE product <> 'other-literal' AND order_id < 7`);
    const ext = await client.query({ text: 'SELECT order_id FROM orders WHERE order_id < $1::int ORDER BY 1', values: ['5'] });
    expect(ext.rows).toHaveLength(5);
    expect((await error(client, 'SELECT no_such_column FROM orders')).code).toBe('42703');
    expect((await error(client, 'CREATE TABLE t (i INTEGER)')).code).toBe('25006');
    await client.query('SET statement_timeout = 200'); // a session command: not logged
    expect((await error(client, ENDLESS_QUERY)).code).toBe('57014');
    await client.query('RESET statement_timeout');

    const records = (await readLog(gw)).filter((r) => r.tenant === TENANT);
    const byText = (needle: string) => records.filter((r) => r.text.includes(needle));
    const [first] = byText('zebra-literal-17');
    expect(first).toMatchObject({
      tenant: TENANT,
      user: TENANT,
      app: 'obs-report',
      client: '127.0.0.1',
      protocol: 'simple',
      rows: 1,
      outcome: 'ok',
      sqlstate: '00000',
    });
    expect(first!.bytes).toBeGreaterThan(0);
    expect(first!.ms).toBeGreaterThanOrEqual(0);
    expect(Date.parse(first!.time)).not.toBeNaN();
    // Literals do not change the fingerprint, and cannot be read back from it.
    expect(first!.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(byText('other-literal')[0]!.fingerprint).toBe(first!.fingerprint);
    expect(first!.fingerprint).not.toContain('424242');

    expect(byText('order_id < $1::int')[0]).toMatchObject({ protocol: 'extended', rows: 5, outcome: 'ok', sqlstate: '00000' });
    expect(byText('no_such_column')[0]).toMatchObject({ outcome: 'error', sqlstate: '42703', rows: 0 });
    expect(byText('CREATE TABLE t')[0]).toMatchObject({ outcome: 'error', sqlstate: '25006' });
    expect(byText('range(100000000)')[0]).toMatchObject({ outcome: 'cancelled', sqlstate: '57014' });
    expect(byText('statement_timeout')).toEqual([]);

    const file = fs.readFileSync(path.join(gw.dataDir, 'querylog', 'queries.jsonl'), 'utf8');
    expect(file).not.toContain(PW);
    // Tenants' query texts: readable by the operator only.
    expect(fs.statSync(path.join(gw.dataDir, 'querylog', 'queries.jsonl')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(gw.dataDir, 'querylog')).mode & 0o777).toBe(0o700);
  });

  it('logs a statement refused at Parse, and each Execute of a prepared one', async () => {
    expect((await error(client, 'SELECT read_csv(\'/etc/passwd\')')).code).toBe('42501');
    const e = await client.query({ name: 'obs_named', text: 'SELECT $1::int + 1 AS x', values: ['1'] }).catch((x: unknown) => x);
    expect(e).not.toBeInstanceOf(Error);
    await client.query({ name: 'obs_named', text: 'SELECT $1::int + 1 AS x', values: ['2'] });
    const refusedParse = await client
      .query({ text: 'DELETE FROM orders WHERE order_id = $1', values: ['1'] })
      .then(() => null, (x: pg.DatabaseError) => x);
    expect(refusedParse?.code).toBe('25006');
    const records = (await readLog(gw)).filter((r) => r.tenant === TENANT);
    expect(records.filter((r) => r.text === 'SELECT $1::int + 1 AS x')).toHaveLength(2);
    expect(records.find((r) => r.text.startsWith('DELETE'))).toMatchObject({ protocol: 'extended', outcome: 'error', sqlstate: '25006' });
  });

  it('logs COPY, cursors and text refused for its size like any statement', async () => {
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = client.query(copyTo('COPY (SELECT order_id FROM orders WHERE order_id < 7) TO STDOUT'));
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => resolve());
      stream.on('error', reject);
    });
    expect(Buffer.concat(chunks).toString().trim().split('\n')).toHaveLength(7);
    await client.query('BEGIN');
    await client.query('DECLARE obs_cur CURSOR FOR SELECT order_id FROM orders ORDER BY 1');
    expect((await client.query('FETCH 3 FROM obs_cur')).rows).toHaveLength(3);
    await client.query('COMMIT');
    const huge = `SELECT '${'q'.repeat(2 * 1024 * 1024)}' AS big`;
    expect((await error(client, huge)).code).toBe('54000');

    const records = (await readLog(gw)).filter((r) => r.tenant === TENANT);
    expect(records.find((r) => r.text.startsWith('COPY (SELECT order_id'))).toMatchObject({ outcome: 'ok', rows: 7 });
    expect(records.find((r) => r.text.startsWith('DECLARE obs_cur'))).toMatchObject({ outcome: 'ok' });
    expect(records.find((r) => r.text === 'FETCH 3 FROM obs_cur')).toMatchObject({ outcome: 'ok', rows: 3 });
    expect(records.some((r) => r.text === 'BEGIN' || r.text === 'COMMIT')).toBe(false);
    const big = records.find((r) => r.sqlstate === '54000');
    expect(big).toMatchObject({ outcome: 'error', truncated: true });
    expect(Buffer.byteLength(big!.text)).toBeLessThanOrEqual(4096);
  });

  it('serves Prometheus metrics that count what was just run', async () => {
    const before = await scrape(gw);
    const okSeries = `tenantgate_queries_total{tenant="${TENANT}",outcome="ok"}`;
    const errSeries = `tenantgate_query_errors_total{tenant="${TENANT}",class="42"}`;
    const ok0 = sample(before, okSeries);
    const err0 = sample(before, errSeries);
    const hist0 = sample(before, `tenantgate_query_duration_seconds_count{tenant="${TENANT}"}`);
    await client.query('SELECT 1');
    await client.query('SELECT 2');
    await error(client, 'SELECT missing FROM orders');
    countLimitHit(TENANT, 'max_rows');
    const after = await scrape(gw);
    expect(sample(after, okSeries)).toBe(ok0 + 2);
    expect(sample(after, errSeries)).toBe(err0 + 1);
    expect(sample(after, `tenantgate_query_duration_seconds_count{tenant="${TENANT}"}`)).toBe(hist0 + 3);
    expect(sample(after, `tenantgate_limit_hits_total{tenant="${TENANT}",limit="max_rows"}`)).toBe(1);
    expect(sample(after, `tenantgate_queries_total{tenant="${TENANT}",outcome="cancelled"}`)).toBe(1);
    expect(sample(after, 'tenantgate_connections_open')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'tenantgate_instance_cache_misses_total')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'tenantgate_instance_cache_hits_total')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'tenantgate_instance_open_seconds_count')).toBeGreaterThanOrEqual(1);
    // The metrics and the query log agree.
    const logged = (await readLog(gw)).filter((r) => r.tenant === TENANT && r.outcome === 'ok').length;
    expect(sample(after, okSeries)).toBe(logged);
    // Bounded labels: no query text, user name or application_name, and no password.
    expect(after).not.toContain(PW);
    expect(after).not.toContain('obs-report');
    expect(after).not.toContain('SELECT');
    expect((await fetch(`http://127.0.0.1:${gw.gateway.metricsPort}/other`)).status).toBe(404);
  });

  it('keeps the query log across a restart', async () => {
    const dir = fs.mkdtempSync(path.join(path.dirname(gw.dataDir), 'tenantgate-qlog-'));
    try {
      let g = await startGateway({}, dir);
      await addTestTenant(g.registry, 'obsbeta', PW);
      let c = await pgConnect(g, { tenant: 'obsbeta', password: PW });
      await c.query('SELECT 11 AS before_restart');
      await c.end();
      await g.stop();
      g = await startGateway({}, dir);
      c = await pgConnect(g, { tenant: 'obsbeta', password: PW });
      await c.query('SELECT 12 AS after_restart');
      await c.end();
      const texts = (await readLog(g)).map((r) => r.text);
      await g.stop();
      expect(texts).toEqual(expect.arrayContaining(['SELECT 11 AS before_restart', 'SELECT 12 AS after_restart']));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
