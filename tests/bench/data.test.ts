import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { benchTenants, checksumOf, ordersSql, orderId, tenantId } from './data.js';
import { DASHBOARD } from './queries.js';
import { prng } from './stats.js';

async function rowsOf(sql: string): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await instance.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRowsJS();
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

describe('bench data', () => {
  it('names tenants and order ids', () => {
    expect(tenantId(7)).toBe('t0007');
    expect(benchTenants(2).map((t) => t.id)).toEqual(['t0001', 't0002']);
    expect(orderId(3, 42)).toBe(300_000_042);
  });

  it('is deterministic, whatever the thread count', async () => {
    const a = await checksumOf(3, 500);
    const b = await checksumOf(3, 500);
    expect(a).toBe(b);
    expect(a.startsWith('1500:')).toBe(true);
    // Pinned rows: a change of the generator (or of how DuckDB computes it) shows up here.
    const rows = await rowsOf(
      `SELECT tenant_id, order_id::VARCHAR, order_date::VARCHAR, product, category, quantity, unit_price::VARCHAR, cost_price::VARCHAR, channel, status
       FROM (${ordersSql(2, 3)}) WHERE order_id IN (100000001, 200000003) ORDER BY order_id`,
    );
    expect(rows).toEqual([
      ['t0001', '100000001', '2024-09-03', 'Größe M T-shirt', 'Apparel', 3, '17.99', '5.76', 'partner', 'completed'],
      ['t0002', '200000003', '2025-07-23', 'Noise-cancelling headphones 🎧', 'Electronics', 2, '199.00', '92.00', 'phone', 'completed'],
    ]);
  });

  it('gives each tenant its own rows, with dates in the two years up to the last day', async () => {
    const [r] = await rowsOf(
      `SELECT count(DISTINCT tenant_id), min(order_date)::VARCHAR, max(order_date)::VARCHAR, count(DISTINCT product), min(quantity) >= 1
       FROM (${ordersSql(4, 2000)})`,
    );
    expect(r).toEqual([4n, '2024-01-01', '2025-12-31', 4n * 3n + 10n, true]);
  });

  it('point lookups pick ids of the tenant', () => {
    const q = DASHBOARD.find((x) => x.name === 'point_lookup')!;
    const rnd = prng(1);
    for (let i = 0; i < 100; i++) {
      const [id] = q.params!(5, 1000, rnd) as number[];
      expect(id).toBeGreaterThanOrEqual(orderId(5, 1));
      expect(id).toBeLessThanOrEqual(orderId(5, 1000));
    }
  });
});
