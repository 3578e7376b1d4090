import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgConnect } from './support/clients.js';
import { addTestTenant, startGateway, type TestGateway } from './support/gateway.js';
import { pgClusterSkipReason, startPgCluster, type PgCluster } from './support/pgCluster.js';

const PW = 'column-names-password';
const skip = pgClusterSkipReason();

/** Select lists whose result column names must be PostgreSQL's. */
const QUERIES = [
  'SELECT count(*), sum(a), max(b) FROM t',
  'SELECT 1, a + 1, -a, a, t.b FROM t',
  "SELECT '1'::int, a::text, now()::date, CAST(a AS numeric(10,2)), 1::int8, 2::float8 FROM t",
  'SELECT CASE WHEN a > 1 THEN 1 ELSE 0 END, coalesce(a, 0), nullif(a, 1) FROM t',
  'SELECT EXISTS (SELECT 1), (SELECT max(a) FROM t), (SELECT max(a) AS m FROM t)',
  'SELECT a IS NULL, a BETWEEN 1 AND 2, a IN (1, 2), NOT (a > 1), a = 1 AND b = 2 FROM t',
  'SELECT count(*) AS n, max(lower(b::text)) AS l, upper(min(b)::text) FROM t',
  'SELECT *, count(*) OVER () FROM t',
  'SELECT 1 UNION ALL SELECT 2',
  'SELECT a, count(*) FROM t GROUP BY a ORDER BY count(*) DESC',
];

describe.skipIf(skip !== undefined)('result column names match PostgreSQL', () => {
  let cluster: PgCluster;
  let postgresClient: pg.Client;
  let gw: TestGateway;
  let gateway: pg.Client;
  beforeAll(async () => {
    cluster = await startPgCluster();
    postgresClient = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.user, database: 'postgres' });
    await postgresClient.connect();
    await postgresClient.query('CREATE TABLE t (a integer, b integer)');
    gw = await startGateway();
    await addTestTenant(gw.registry, 'acme', PW, { sql: ['CREATE TABLE t (a INTEGER, b INTEGER)'] });
    gateway = await pgConnect(gw, { tenant: 'acme', password: PW });
  });
  afterAll(async () => {
    await gateway?.end();
    await gw?.stop();
    await postgresClient?.end();
    await cluster?.stop();
  });

  it.each(QUERIES)('%s', async (sql) => {
    const expected = (await postgresClient.query(sql)).fields.map((f) => f.name);
    const actual = (await gateway.query(sql)).fields.map((f) => f.name);
    expect(actual).toEqual(expected);
  });
});
