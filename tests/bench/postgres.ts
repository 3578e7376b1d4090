// The PostgreSQL side: a throwaway PostgreSQL 15 cluster (tests/support/pgCluster.ts) set up
// like a production server for this work: TLS with the same certificate as tenantgate,
// SCRAM-SHA-256 for every tenant login over TCP, memory settings for the machine, and two
// layouts of the same rows in one database:
//   shared.orders     one table with tenant_id, row-level security (tenant_id = current_user),
//                     indexes on (tenant_id, order_id) and (tenant_id, order_date)
//   <tenant>.orders   one schema per tenant, indexes on order_id and order_date
// Each tenant is a login role named like the tenant; the layout is chosen by search_path
// in the connection's startup options.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { PG_BIN_DIR, startPgCluster, type PgCluster } from '../support/pgCluster.js';
import { onCleanup } from './cleanup.js';
import { ORDER_COLUMNS, type BenchTenant } from './data.js';

export const PG_DATABASE = 'bench';

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function runPg(bin: string, args: string[], timeoutMs = 120_000): string {
  const exe = path.join(PG_BIN_DIR, bin);
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
  return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
}

export interface BenchPostgres {
  host: string;
  port: number;
  dataDir: string;
  version: string;
  settings: Record<string, string>;
  /** The postmaster: the root of the process tree whose memory and CPU are measured. */
  postmasterPid(): number;
  admin(database?: string): Promise<pg.Client>;
  restart(): void;
  stop(): Promise<void>;
}

/** Memory settings from the machine: shared_buffers a quarter of RAM (at most 8GB), as commonly advised. */
export function pgSettings(maxConnections: number): Record<string, string> {
  const ramMb = Math.floor(os.totalmem() / 1024 / 1024);
  const sharedMb = Math.min(8192, Math.floor(ramMb / 4));
  return {
    max_connections: String(maxConnections),
    shared_buffers: `${sharedMb}MB`,
    effective_cache_size: `${Math.floor(ramMb * 0.6)}MB`,
    work_mem: '32MB',
    maintenance_work_mem: '1GB',
    max_wal_size: '8GB',
    // JIT compiles long plans; on these short queries it would add compile time to some of them.
    jit: 'off',
    random_page_cost: '1.1',
    ssl: 'on',
    ssl_cert_file: 'server.crt',
    ssl_key_file: 'server.key',
    password_encryption: 'scram-sha-256',
  };
}

export async function startBenchPostgres(certsDir: string, maxConnections: number): Promise<BenchPostgres> {
  const cluster: PgCluster = await startPgCluster();
  const unregister = onCleanup('stop PostgreSQL', () => cluster.stop());
  const admin = async (database = 'postgres'): Promise<pg.Client> => {
    const c = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.user, database });
    c.on('error', () => undefined);
    await c.connect();
    return c;
  };
  const first = await admin();
  let dataDir: string;
  let version: string;
  try {
    dataDir = String((await first.query('SHOW data_directory')).rows[0].data_directory);
    version = String((await first.query('SHOW server_version')).rows[0].server_version);
    const settings = pgSettings(maxConnections);
    for (const [k, v] of Object.entries(settings)) await first.query(`ALTER SYSTEM SET ${k} = '${v}'`);
  } finally {
    await first.end();
  }
  // The server's certificate and key, readable by the server only.
  for (const f of ['server.crt', 'server.key']) {
    const dest = path.join(dataDir, f);
    fs.copyFileSync(path.join(certsDir, f), dest);
    fs.chmodSync(dest, 0o600);
    if (asRoot) {
      const st = fs.statSync(dataDir);
      fs.chownSync(dest, st.uid, st.gid);
    }
  }
  // The superuser logs in without a password from loopback (set-up only); tenants only
  // over TLS with SCRAM-SHA-256, as tenantgate requires.
  fs.writeFileSync(
    path.join(dataDir, 'pg_hba.conf'),
    [
      'local all all trust',
      `host all ${cluster.user} 127.0.0.1/32 trust`,
      'hostssl all all 127.0.0.1/32 scram-sha-256',
      '',
    ].join('\n'),
  );
  const log = path.join(path.dirname(dataDir), 'server.log');
  // pg_ctl restart reuses the port and options the cluster was started with (postmaster.opts).
  const restart = (): void => void runPg('pg_ctl', ['restart', '-D', dataDir, '-m', 'fast', '-w', '-t', '120', '-l', log]);
  restart();
  const check = await admin();
  const settings: Record<string, string> = {};
  try {
    for (const k of Object.keys(pgSettings(maxConnections))) {
      settings[k] = String((await check.query(`SHOW ${k}`)).rows[0][k]);
    }
  } finally {
    await check.end();
  }
  return {
    host: cluster.host,
    port: cluster.port,
    dataDir,
    version,
    settings,
    postmasterPid: () => Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]),
    admin,
    restart,
    stop: unregister,
  };
}

const q = (id: string): string => `"${id.replaceAll('"', '""')}"`;
const lit = (s: string): string => `'${s.replaceAll("'", "''")}'`;

export interface PgLoad {
  copyMs: number;
  rlsIndexMs: number;
  schemasMs: number;
  rows: number;
}

/** Roles, the RLS table (COPY of the CSV) and one schema per tenant. */
export async function loadPostgres(bpg: BenchPostgres, tenants: BenchTenant[], csv: string): Promise<PgLoad> {
  const root = await bpg.admin();
  try {
    await root.query(`CREATE DATABASE ${PG_DATABASE}`);
    await root.query('CREATE ROLE tenants NOLOGIN');
    for (let i = 0; i < tenants.length; i += 100) {
      const batch = tenants.slice(i, i + 100);
      await root.query(batch.map((t) => `CREATE ROLE ${q(t.id)} LOGIN PASSWORD ${lit(t.password)} IN ROLE tenants;`).join('\n'));
    }
  } finally {
    await root.end();
  }
  const db = await bpg.admin(PG_DATABASE);
  const cols = ORDER_COLUMNS.map(([n, t]) => `${n} ${t}`).join(', ');
  const names = ORDER_COLUMNS.map(([n]) => n).join(', ');
  let copyMs: number;
  let rlsIndexMs: number;
  let rows: number;
  try {
    const t0 = performance.now();
    await db.query(`CREATE SCHEMA shared; CREATE TABLE shared.orders (tenant_id text NOT NULL, ${cols})`);
    await pipeline(fs.createReadStream(csv), db.query(copyFrom(`COPY shared.orders (tenant_id, ${names}) FROM STDIN (FORMAT csv)`)));
    copyMs = performance.now() - t0;
    const t1 = performance.now();
    await db.query(`
      CREATE INDEX orders_tenant_order ON shared.orders (tenant_id, order_id);
      CREATE INDEX orders_tenant_date ON shared.orders (tenant_id, order_date);
      ALTER TABLE shared.orders ENABLE ROW LEVEL SECURITY;
      -- current_user is a name, whose collation is "C": compared as it is, or cast to text
      -- without COLLATE, the policy's qual has a collation the index does not have, and
      -- every statement scans the whole table instead of the tenant's index range.
      CREATE POLICY tenant_rows ON shared.orders FOR SELECT TO tenants USING (tenant_id = current_user::text COLLATE "default");
      GRANT USAGE ON SCHEMA shared TO tenants;
      GRANT SELECT ON shared.orders TO tenants;`);
    // VACUUM cannot run in the implicit transaction of a multi-statement query.
    await db.query('VACUUM (ANALYZE) shared.orders');
    rlsIndexMs = performance.now() - t1;
    rows = Number((await db.query('SELECT count(*) AS n FROM shared.orders')).rows[0].n);
  } finally {
    await db.end();
  }
  // One schema per tenant, two loaders at once (one per core).
  const t2 = performance.now();
  let next = 0;
  const loader = async (): Promise<void> => {
    const c = await bpg.admin(PG_DATABASE);
    try {
      while (next < tenants.length) {
        const t = tenants[next++]!;
        const s = q(t.id);
        await c.query(`
          CREATE SCHEMA ${s};
          CREATE TABLE ${s}.orders AS SELECT ${names} FROM shared.orders WHERE tenant_id = ${lit(t.id)} ORDER BY order_id;
          CREATE INDEX ON ${s}.orders (order_id);
          CREATE INDEX ON ${s}.orders (order_date);
          GRANT USAGE ON SCHEMA ${s} TO ${s};
          GRANT SELECT ON ${s}.orders TO ${s};`);
        await c.query(`VACUUM (ANALYZE) ${s}.orders`);
      }
    } finally {
      await c.end();
    }
  };
  await Promise.all([loader(), loader()]);
  const schemasMs = performance.now() - t2;
  const c = await bpg.admin(PG_DATABASE);
  try {
    await c.query('CHECKPOINT');
  } finally {
    await c.end();
  }
  return { copyMs, rlsIndexMs, schemasMs, rows };
}

/** Bytes of the RLS table and of all tenant schemas' tables, with their indexes. */
export async function pgSizes(bpg: BenchPostgres): Promise<{ rls: number; schemas: number }> {
  const c = await bpg.admin(PG_DATABASE);
  try {
    const r = await c.query(`
      SELECT coalesce(sum(pg_total_relation_size(c.oid)) FILTER (WHERE n.nspname = 'shared'), 0) AS rls,
             coalesce(sum(pg_total_relation_size(c.oid)) FILTER (WHERE n.nspname ~ '^t[0-9]+$'), 0) AS schemas
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r'`);
    return { rls: Number(r.rows[0].rls), schemas: Number(r.rows[0].schemas) };
  } finally {
    await c.end();
  }
}

/** The noisy neighbour's limit on PostgreSQL: the free plan's 5 connections, as a role limit. */
export async function limitNoisyRole(bpg: BenchPostgres, noisy: BenchTenant, connections: number): Promise<void> {
  const c = await bpg.admin(PG_DATABASE);
  try {
    await c.query(`ALTER ROLE ${q(noisy.id)} CONNECTION LIMIT ${connections}`);
  } finally {
    await c.end();
  }
}
