// The network targets' client: node-postgres over verified TLS with SCRAM (tenantgate and
// PostgreSQL alike), and psql for the export.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import pg from 'pg';
import { sendCancel } from '../support/clients.js';
import type { BenchTenant } from './data.js';
import { EXPORT_SQL, type BenchQuery } from './queries.js';
import type { Driver, Session } from './workloads.js';

export interface PgTarget {
  host: string;
  port: number;
  caFile: string;
  /** The database a tenant connects to: its id (tenantgate) or the cluster's one database. */
  database(t: BenchTenant): string;
  /** Startup options (PostgreSQL: the tenant's search_path), or none. */
  options?(t: BenchTenant): string | undefined;
}


class PgSession implements Session {
  constructor(
    private readonly client: pg.Client,
    private readonly target: PgTarget,
  ) {}

  async run(q: BenchQuery, k: number, rows: number, rnd: () => number): Promise<number> {
    const values = q.params?.(k, rows, rnd);
    const r = await this.client.query({ text: q.sql('orders'), values, rowMode: 'array' });
    return r.rows.length;
  }

  async exportAll(): Promise<number> {
    const r = await this.client.query({ text: EXPORT_SQL('orders'), rowMode: 'array' });
    return r.rows.length;
  }

  async setStatementTimeout(ms: number): Promise<void> {
    await this.client.query(`SET statement_timeout = ${Math.round(ms)}`);
  }

  async cancel(): Promise<void> {
    const { processID, secretKey } = this.client as unknown as { processID?: number; secretKey?: number };
    if (processID !== undefined && secretKey !== undefined) await sendCancel(this.target.port, null, { processID, secretKey }, this.target.host);
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}

export class PgDriver implements Driver {
  private readonly ca: Buffer;

  constructor(readonly target: PgTarget) {
    this.ca = fs.readFileSync(target.caFile);
  }

  async connect(t: BenchTenant): Promise<Session> {
    const client = new pg.Client({
      host: this.target.host,
      port: this.target.port,
      database: this.target.database(t),
      user: t.id,
      password: t.password,
      ssl: { ca: this.ca },
      options: this.target.options?.(t),
      connectionTimeoutMillis: 30_000,
      query_timeout: 120_000,
    });
    // A FATAL or a dropped socket also arrives as an 'error' event; the query's promise carries it.
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (e) {
      await client.end().catch(() => undefined);
      throw e;
    }
    return new PgSession(client, this.target);
  }

  /** libpq's connection string for psql. */
  conninfo(t: BenchTenant): string {
    const parts = [
      `host=${this.target.host}`,
      `port=${this.target.port}`,
      `dbname=${this.target.database(t)}`,
      `user=${t.id}`,
      'sslmode=verify-full',
      `sslrootcert=${this.target.caFile}`,
    ];
    const options = this.target.options?.(t);
    if (options) parts.push(`options='${options.replace(/['\\]/g, (c) => `\\${c}`)}'`);
    return parts.join(' ');
  }

  /** psql's \copy of the tenant's whole table to /dev/null; resolves to the rows copied. */
  psqlExport(t: BenchTenant, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const child = spawn('psql', ['-X', '-v', 'ON_ERROR_STOP=1', this.conninfo(t), '-c', `\\copy (${EXPORT_SQL('orders')}) TO '/dev/null'`], {
        env: { ...process.env, PGPASSWORD: t.password, PGCONNECT_TIMEOUT: '30' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        const m = /COPY (\d+)/.exec(out);
        if (code === 0 && m) resolve(Number(m[1]));
        else reject(new Error(`psql export failed (${code}): ${out.trim().slice(0, 300)}`));
      });
    });
  }
}
