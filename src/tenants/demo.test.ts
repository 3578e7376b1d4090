import { DuckDBInstance } from '@duckdb/node-api';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TENANTS, createDemo, psqlCommandLine, type DemoTenant } from './demo.js';
import { Registry, getTenant } from './registry.js';
import { querySnapshot } from '../../tests/support/snapshot.js';

let dir: string;
let registry: Registry;
let first: DemoTenant[];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantgate-demo-'));
  registry = new Registry(path.join(dir, 'data'));
  first = await createDemo(registry);
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const query = (tenant: string, sql: string) => querySnapshot(registry, tenant, sql);

describe('createDemo', () => {
  it('creates acme (free), globex (pro) and initech (enterprise) with fixed passwords', async () => {
    expect(first).toEqual([
      { id: 'acme', plan: 'free', user: 'acme', password: 'acme-demo-password', created: true },
      { id: 'globex', plan: 'pro', user: 'globex', password: 'globex-demo-password', created: true },
      { id: 'initech', plan: 'enterprise', user: 'initech', password: 'initech-demo-password', created: true },
    ]);
    const data = await registry.read();
    for (const t of first) {
      const rec = data.tenants[t.id]!;
      expect(rec).toMatchObject({ plan: t.plan, isolation: 'database', status: 'active' });
      expect(rec.users.map((u) => u.name)).toEqual([t.user]);
      expect(rec.snapshot).not.toBeNull();
      // The stored verifier belongs to the documented password (RFC 5802: StoredKey = H(HMAC(SaltedPassword, "Client Key"))).
      const { salt, iterations, storedKey } = rec.users[0]!.scram;
      const salted = pbkdf2Sync(t.password, Buffer.from(salt, 'base64'), iterations, 32, 'sha256');
      const clientKey = createHmac('sha256', salted).update('Client Key').digest();
      expect(createHash('sha256').update(clientKey).digest('base64')).toBe(storedKey);
    }
    expect(fs.readFileSync(registry.path, 'utf8')).not.toContain('demo-password');
  });

  it('fills orders and daily_summary with tenant-specific data', async () => {
    const counts = new Map<string, number>();
    for (const spec of DEMO_TENANTS) {
      const [row] = await query(
        spec.id,
        `SELECT count(*), min(order_date)::VARCHAR, max(order_date)::VARCHAR, min(order_id), max(order_id),
                count(DISTINCT product), count(DISTINCT channel), count(DISTINCT status)
           FROM orders`,
      );
      expect(row).toEqual([
        BigInt(spec.orders),
        expect.stringMatching(/^2024-01-0/),
        expect.stringMatching(/^2025-12-/),
        BigInt(spec.orderIdBase + 1),
        BigInt(spec.orderIdBase + spec.orders),
        13n,
        5n,
        5n,
      ]);
      counts.set(spec.id, spec.orders);
      // Its own products are there...
      for (const p of spec.exclusiveProducts) {
        const [[n]] = (await query(spec.id, `SELECT count(*) FROM orders WHERE product = '${p.product}'`)) as [[bigint]];
        expect(n, p.product).toBeGreaterThan(0n);
      }
      // ...and nobody else's.
      for (const other of DEMO_TENANTS.filter((o) => o.id !== spec.id)) {
        const names = other.exclusiveProducts.map((p) => `'${p.product}'`).join(', ');
        expect(await query(spec.id, `SELECT count(*) FROM orders WHERE product IN (${names})`)).toEqual([[0n]]);
      }
      // Unicode text survives.
      expect(
        await query(spec.id, `SELECT count(DISTINCT product) FROM orders WHERE product IN ('Café crème', 'Größe M T-shirt', '寿司セット', 'Party pack 🎉')`),
      ).toEqual([[4n]]);
      // The summary is computed from the orders.
      const [summary] = await query(
        spec.id,
        `WITH o AS (
           SELECT order_date, sum(quantity * unit_price) AS revenue, count(*) AS n
             FROM orders WHERE status NOT IN ('cancelled', 'refunded') GROUP BY order_date)
         SELECT (SELECT count(*) FROM daily_summary),
                (SELECT count(*) FROM o),
                (SELECT count(*) FROM daily_summary d JOIN o ON o.order_date = d.report_date
                  WHERE d.revenue = o.revenue AND d.order_count = o.n AND d.profit = d.revenue - d.cost)`,
      );
      expect(summary![0]).toBe(summary![1]);
      expect(summary![2]).toBe(summary![0]);
    }
    expect(new Set(counts.values()).size).toBe(3);
  });

  it('has the documented column types', async () => {
    const cols = await query(
      'acme',
      `SELECT table_name, column_name, data_type FROM information_schema.columns
        WHERE table_name IN ('orders', 'daily_summary') ORDER BY table_name, ordinal_position`,
    );
    expect(cols.map((r) => `${r[0]}.${r[1]} ${r[2]}`)).toEqual([
      'daily_summary.report_date DATE',
      'daily_summary.revenue DECIMAL(12,2)',
      'daily_summary.cost DECIMAL(12,2)',
      'daily_summary.profit DECIMAL(12,2)',
      'daily_summary.order_count INTEGER',
      'daily_summary.avg_order DECIMAL(10,2)',
      'orders.order_id BIGINT',
      'orders.order_date DATE',
      'orders.product VARCHAR',
      'orders.category VARCHAR',
      'orders.quantity INTEGER',
      'orders.unit_price DECIMAL(10,2)',
      'orders.cost_price DECIMAL(10,2)',
      'orders.channel VARCHAR',
      'orders.status VARCHAR',
    ]);
  });

  it('is deterministic', async () => {
    const other = new Registry(path.join(dir, 'data2'));
    await createDemo(other);
    const digest = async (reg: Registry): Promise<unknown[][]> => {
      const p = reg.snapshotPath(await getTenant(reg, 'globex'))!;
      const instance = await DuckDBInstance.create(p, { access_mode: 'READ_ONLY' });
      const conn = await instance.connect();
      try {
        return (
          await conn.runAndReadAll(
            `SELECT sum(order_id * quantity), sum(unit_price)::VARCHAR, string_agg(product || channel || status || order_date, '|' ORDER BY order_id) FROM orders`,
          )
        ).getRows();
      } finally {
        conn.disconnectSync();
        instance.closeSync();
      }
    };
    expect(await digest(other)).toEqual(await digest(registry));
  });

  it('without ifMissing an existing demo tenant is an error and nothing changes', async () => {
    const before = fs.readFileSync(registry.path);
    await expect(createDemo(registry)).rejects.toThrow(/demo tenant acme already exists/);
    expect(fs.readFileSync(registry.path).equals(before)).toBe(true);
  });

  it('with ifMissing existing tenants are left alone and missing ones are created', async () => {
    await registry.update((d) => {
      delete d.tenants.globex;
    });
    const acmeBefore = await getTenant(registry, 'acme');
    const r = await createDemo(registry, { ifMissing: true });
    expect(r.map((t) => [t.id, t.created])).toEqual([
      ['acme', false],
      ['globex', true],
      ['initech', false],
    ]);
    expect(await getTenant(registry, 'acme')).toEqual(acmeBefore);
    expect((await query('globex', 'SELECT count(*) FROM orders'))[0]).toEqual([3500n]);
  });
});

describe('psqlCommandLine', () => {
  const acme: DemoTenant = { id: 'acme', plan: 'free', user: 'acme', password: 'acme-demo-password', created: true };

  it('prints the documented line', () => {
    expect(psqlCommandLine(acme, '127.0.0.1', 6432, 'certs/ca.crt')).toBe(
      'PGPASSWORD=acme-demo-password psql "host=127.0.0.1 port=6432 dbname=acme user=acme sslmode=verify-full sslrootcert=certs/ca.crt"',
    );
  });

  it('quotes values that need it', () => {
    expect(psqlCommandLine({ ...acme, password: "it's $HOME" }, 'localhost', 5, '/my certs/ca "x".crt')).toBe(
      `PGPASSWORD='it'\\''s $HOME' psql "host=localhost port=5 dbname=acme user=acme sslmode=verify-full sslrootcert='/my certs/ca \\"x\\".crt'"`,
    );
  });
});
