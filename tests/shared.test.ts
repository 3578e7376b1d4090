import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTenant } from '../src/tenants/registry.js';
import { moveTenant } from '../src/tenants/shared.js';
import { loadTable } from '../src/tenants/snapshots.js';
import { pgConnect, rawTypes } from './support/clients.js';
import { startGateway, writeCsv, type TestGateway } from './support/gateway.js';

const PW = 'shared-test-password';

const csv = (dir: string, name: string, rows: string[][]): string =>
  writeCsv(dir, name, 'id,product,amount', rows.map((r) => r.join(',')));

describe('shared isolation through the gateway', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
    for (const id of ['acme', 'globex']) await addTenant(gw.registry, { id, plan: 'pro', password: PW, isolation: 'shared' });
    await loadTable(gw.registry, 'acme', 'orders', csv(gw.dataDir, 'a.csv', [['1', 'ACME-widget', '10.5'], ['2', 'ACME-gadget', '20']]), 'create');
    await loadTable(gw.registry, 'globex', 'orders', csv(gw.dataDir, 'g.csv', [['1', 'GLOBEX-SECRET', '999'], ['3', 'GLOBEX-lamp', '5']]), 'create');
  });
  afterAll(() => gw.stop());

  it('shows each shared tenant its own rows only, without tenant_id', async () => {
    const acme = await pgConnect(gw, { tenant: 'acme', password: PW }, { types: rawTypes });
    const all = await acme.query('SELECT * FROM orders ORDER BY id');
    expect(all.fields.map((f) => f.name)).toEqual(['id', 'product', 'amount']);
    expect(all.rows).toEqual([
      { id: '1', product: 'ACME-widget', amount: '10.5' },
      { id: '2', product: 'ACME-gadget', amount: '20' },
    ]);
    for (const sql of [
      'SELECT count(*) AS n FROM public.orders o JOIN orders p USING (id)',
      'SELECT count(*) AS n FROM (SELECT * FROM orders UNION ALL SELECT * FROM main.orders) x WHERE product NOT LIKE \'ACME%\'',
    ]) {
      const r = await acme.query(sql);
      expect(JSON.stringify(r.rows), sql).not.toContain('GLOBEX');
    }
    await expect(acme.query('SELECT tenant_id FROM orders')).rejects.toMatchObject({ code: '42703' });
    expect((await acme.query('SELECT current_database() AS db')).rows).toEqual([{ db: 'acme' }]);
    await acme.end();
  });

  it('shows a shared tenant only the shared tables it has rows in', async () => {
    await loadTable(gw.registry, 'globex', 'secret_project', csv(gw.dataDir, 's.csv', [['1', 'GLOBEX-PLAN', '1']]), 'create');
    const acme = await pgConnect(gw, { tenant: 'acme', password: PW }, { types: rawTypes });
    const unknown = await acme.query('SELECT * FROM no_such_table').catch((e: Error) => e);
    const other = await acme.query('SELECT * FROM secret_project').catch((e: Error) => e);
    expect(other).toMatchObject({ code: '42P01', message: 'relation "secret_project" does not exist' });
    expect(unknown).toMatchObject({ code: '42P01' });
    const globex = await pgConnect(gw, { tenant: 'globex', password: PW }, { types: rawTypes });
    expect((await globex.query('SELECT product FROM secret_project')).rows).toEqual([{ product: 'GLOBEX-PLAN' }]);
    await acme.end();
    await globex.end();
  });

  it('moves a tenant to its own file while its session goes on, losing and duplicating nothing', async () => {
    const globex = await pgConnect(gw, { tenant: 'globex', password: PW }, { types: rawTypes });
    const checksum = 'SELECT count(*) AS n, sum(hash(id, product, amount)) AS h FROM orders';
    const before = (await globex.query(checksum)).rows;
    const result = await moveTenant(gw.registry, 'globex', 'database');
    expect(result.cleanup).toEqual({ done: true });
    expect((await globex.query(checksum)).rows).toEqual(before);
    expect((await gw.registry.read()).tenants.globex!.isolation).toBe('database');
    // The other shared tenant is untouched and still sees no foreign row.
    const acme = await pgConnect(gw, { tenant: 'acme', password: PW }, { types: rawTypes });
    expect((await acme.query('SELECT count(*) AS n FROM orders')).rows).toEqual([{ n: '2' }]);
    await moveTenant(gw.registry, 'globex', 'shared');
    expect((await globex.query(checksum)).rows).toEqual(before);
    expect(JSON.stringify((await acme.query('SELECT * FROM orders')).rows)).not.toContain('GLOBEX');
    await globex.end();
    await acme.end();
  });
});
