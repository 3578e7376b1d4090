import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTable } from '../src/tenants/snapshots.js';
import { pgConnect, rawTypes } from './support/clients.js';
import { addTestTenant, startGateway, type TestGateway } from './support/gateway.js';

const PW = 'snapshot-test-password';

function csv(dir: string, name: string, product: string, rows: number): string {
  const file = path.join(dir, name);
  const lines = ['order_id,product,amount'];
  for (let i = 0; i < rows; i++) lines.push(`${i},${product},${(i % 97) + 0.5}`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.join(d.parentPath, d.name));
}

describe('loading while the gateway serves', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
    await addTestTenant(gw.registry, 'acme', PW);
    await loadTable(gw.registry, 'acme', 'orders', csv(gw.dataDir, 'v1.csv', 'first', 1000), 'create');
  });
  afterAll(() => gw.stop());

  it('publishes atomically: a running query keeps its snapshot, new queries see the new data', async () => {
    const slow = await pgConnect(gw, { tenant: 'acme', password: PW }, { types: rawTypes });
    const stream = (slow as unknown as { connection: { stream: { pause(): void; resume(): void } } }).connection.stream;
    const seen = new Map<string, number>();
    let rows = 0;
    const q = new pg.Query('SELECT o.product, r.i FROM orders o, range(2000) r(i)');
    q.on('row', (row: { product: string }) => {
      rows++;
      seen.set(row.product, (seen.get(row.product) ?? 0) + 1);
      if (rows === 10) stream.pause();
    });
    const done = new Promise<void>((resolve, reject) => {
      q.on('end', () => resolve());
      q.on('error', reject);
    });
    slow.query(q);
    while (rows < 10) await new Promise((r) => setTimeout(r, 10));

    // A transaction block reads one snapshot from its first query to its end.
    const tx = await pgConnect(gw, { tenant: 'acme', password: PW }, { types: rawTypes });
    await tx.query('BEGIN');
    expect((await tx.query('SELECT count(*) AS n FROM orders')).rows).toEqual([{ n: '1000' }]);

    const oldSnapshot = (await gw.registry.read()).tenants.acme!.snapshot!;
    await loadTable(gw.registry, 'acme', 'orders', csv(gw.dataDir, 'v2.csv', 'second', 1500), 'replace');
    const newSnapshot = (await gw.registry.read()).tenants.acme!.snapshot!;
    expect(newSnapshot).not.toBe(oldSnapshot);
    // The superseded file is gone from the tenant's folder at once...
    expect(fs.existsSync(path.join(gw.registry.tenantDir('acme'), oldSnapshot))).toBe(false);

    // ...while a new session sees the new data, and the open transaction still the old.
    const fresh = await pgConnect(gw, { tenant: 'acme', password: PW }, { types: rawTypes });
    expect((await fresh.query('SELECT product, count(*) AS n FROM orders GROUP BY product')).rows).toEqual([{ product: 'second', n: '1500' }]);
    expect((await tx.query('SELECT count(*) AS n FROM orders')).rows).toEqual([{ n: '1000' }]);
    await tx.query('COMMIT');
    expect((await tx.query('SELECT count(*) AS n FROM orders')).rows).toEqual([{ n: '1500' }]);

    // The slow query finishes on the snapshot it started with: all old rows, none new.
    stream.resume();
    await done;
    expect(rows).toBe(1000 * 2000);
    expect([...seen.keys()]).toEqual(['first']);

    // With no query left on it, the old snapshot's instance closes and its last link goes.
    await slow.end();
    await tx.end();
    await fresh.end();
    const tmp = path.join(gw.dataDir, 'tmp');
    // Snapshot links only: the catalog databases (catalog-*.duckdb) are the gateway's own.
    const linked = filesUnder(tmp).filter((f) => f.endsWith('.duckdb') && !path.basename(f).startsWith('catalog-'));
    expect(linked.length).toBeLessThanOrEqual(1);
  });

  it('keeps serving the old data when a load fails', async () => {
    const c = await pgConnect(gw, { tenant: 'acme', password: PW }, { types: rawTypes });
    const before = (await c.query('SELECT count(*) AS n FROM orders')).rows;
    const bad = path.join(gw.dataDir, 'bad.csv');
    fs.writeFileSync(bad, 'order_id,product,amount\n1,x,1.5\n2,y,not-a-number\n');
    await expect(loadTable(gw.registry, 'acme', 'orders', bad, 'append')).rejects.toThrow();
    expect((await c.query('SELECT count(*) AS n FROM orders')).rows).toEqual(before);
    await c.end();
  });
});
