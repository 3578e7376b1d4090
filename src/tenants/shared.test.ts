import { DuckDBInstance } from '@duckdb/node-api';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TenantError } from './ids.js';
import { Registry, addTenant, getTenant, removeTenant, type Isolation, type RegistryData } from './registry.js';
import {
  TENANT_COLUMN,
  TENANT_LIST_COLUMN,
  buildSharedSnapshot,
  loadMultiTenantTable,
  loadSharedTenantTable,
  moveTenant,
  readSharedTables,
  sharedTablesOfTenant,
  splitTable,
} from './shared.js';
import { buildSnapshot, loadTable } from './snapshots.js';
import { querySharedSnapshot, querySnapshot, sharedRowsChecksum } from '../../tests/support/snapshot.js';

let dir: string;
let registry: Registry;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantgate-shared-'));
  registry = new Registry(path.join(dir, 'data'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

async function parquet(name: string, select: string): Promise<string> {
  const p = path.join(dir, name);
  const mem = await DuckDBInstance.create(':memory:');
  const c = await mem.connect();
  await c.run(`COPY (${select}) TO '${p}' (FORMAT parquet)`);
  c.disconnectSync();
  mem.closeSync();
  return p;
}

async function tenant(id: string, isolation: Isolation = 'shared'): Promise<void> {
  await addTenant(registry, { id, plan: 'pro', password: `${id}-password`, isolation });
}

const shared = (sql: string) => querySharedSnapshot(registry, sql);
const own = (id: string, sql: string) => querySnapshot(registry, id, sql);
const checksumOf = (table: string, id: string) => sharedRowsChecksum(registry, table, id);

function sharedFiles(): string[] {
  return fs.readdirSync(registry.sharedDir).sort();
}

/** Every file under the data directory with its bytes, and the registry: "everything as before". */
function dataState(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(registry.dataDir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const p = path.join(e.parentPath, e.name);
    out[path.relative(registry.dataDir, p)] = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
  }
  return out;
}

/** Fails the n-th registry update (counting from 1). */
class RefusingRegistry extends Registry {
  calls = 0;
  constructor(dataDir: string, private readonly failOn: number) {
    super(dataDir);
  }
  override async update<T>(fn: (data: RegistryData) => T | Promise<T>): Promise<T> {
    if (++this.calls === this.failOn) throw new TenantError('registry update refused');
    return super.update(fn);
  }
}

const ORDERS = 'order_id,product,amount\n1,Café crème,3.80\n2,寿司セット,28.50\n3,"Party pack, 🎉",34.00\n';

describe('buildSharedSnapshot', () => {
  it('publishes numbered snapshots in <data>/shared and removes superseded ones', async () => {
    await tenant('acme');
    const a = await buildSharedSnapshot(registry, async (c) => {
      await c.run(`CREATE TABLE t (${TENANT_COLUMN} VARCHAR NOT NULL, x INTEGER)`);
      await c.run(`INSERT INTO t VALUES ('acme', 1)`);
    });
    expect(a.snapshot).toMatch(/^000001-[0-9a-f]{8}\.duckdb$/);
    const data = await registry.read();
    expect(data.shared.snapshot).toBe(a.snapshot);
    expect(registry.sharedSnapshotPath(data)).toBe(path.join(registry.dataDir, 'shared', a.snapshot));
    const b = await buildSharedSnapshot(registry, async (c) => {
      await c.run(`INSERT INTO t VALUES ('acme', 2)`);
    });
    expect(b.snapshot).toMatch(/^000002-/);
    expect(sharedFiles()).toEqual([b.snapshot]);
    expect(await shared('SELECT x FROM t ORDER BY x')).toEqual([[1], [2]]);
    expect(fs.existsSync(path.join(registry.dataDir, 'shared.lock'))).toBe(false);
  });

  it('refuses other table shapes and views; a failing build changes nothing', async () => {
    await tenant('acme');
    await buildSharedSnapshot(registry, async (c) => {
      await c.run(`CREATE TABLE t (${TENANT_COLUMN} VARCHAR NOT NULL, x INTEGER)`);
    });
    const before = dataState();
    const bad: [string, RegExp][] = [
      ['CREATE TABLE u (x INTEGER)', /table u does not start with tenant_id VARCHAR NOT NULL or tenant_ids VARCHAR\[\] NOT NULL/],
      [`CREATE TABLE u (${TENANT_COLUMN} VARCHAR, x INTEGER)`, /table u does not start with/],
      [`CREATE TABLE u (${TENANT_LIST_COLUMN} VARCHAR NOT NULL, x INTEGER)`, /table u does not start with/],
      [`CREATE TABLE u (${TENANT_COLUMN} VARCHAR NOT NULL)`, /no columns besides tenant_id/],
      [`CREATE TABLE u (${TENANT_COLUMN} VARCHAR NOT NULL, ${TENANT_LIST_COLUMN} VARCHAR[])`, /second tenant column/],
      ['CREATE SCHEMA s; CREATE TABLE s.u (tenant_id VARCHAR NOT NULL, x INTEGER)', /not in schema main/],
      ['CREATE VIEW v AS SELECT * FROM t', /only tables, not views \(main\.v\)/],
    ];
    for (const [sql, error] of bad) {
      await expect(buildSharedSnapshot(registry, async (c) => void (await c.run(sql))), sql).rejects.toThrow(error);
    }
    await expect(
      buildSharedSnapshot(registry, async () => {
        throw new Error('build failed');
      }),
    ).rejects.toThrow('build failed');
    expect(dataState()).toEqual(before);
  });
});

describe('loading a shared tenant', () => {
  beforeEach(async () => {
    await Promise.all([tenant('acme'), tenant('globex'), tenant('solo', 'database')]);
  });

  it('creates the table as tenant_id + the file columns and tags the rows', async () => {
    const r = await loadTable(registry, 'acme', 'orders', file('a.csv', ORDERS), 'create');
    expect(r).toMatchObject({ rows: 3, isolation: 'shared' });
    expect((await registry.read()).shared.snapshot).toBe(r.snapshot);
    expect((await getTenant(registry, 'acme')).snapshot).toBeNull();
    expect(await shared(`SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = 'orders' ORDER BY ordinal_position`)).toEqual([
      ['tenant_id', 'VARCHAR', 'NO'],
      ['order_id', 'BIGINT', 'YES'],
      ['product', 'VARCHAR', 'YES'],
      ['amount', 'DOUBLE', 'YES'],
    ]);
    expect(await shared('SELECT * FROM orders ORDER BY order_id')).toEqual([
      ['acme', 1n, 'Café crème', 3.8],
      ['acme', 2n, '寿司セット', 28.5],
      ['acme', 3n, 'Party pack, 🎉', 34],
    ]);
    // The shared database is where the data are: no tenant directory.
    expect(fs.existsSync(registry.tenantDir('acme'))).toBe(false);
  });

  it('create / replace / append touch only the tenant\'s own rows', async () => {
    await loadTable(registry, 'acme', 'orders', file('a.csv', ORDERS), 'create');
    // Columns in another order are fine; the values are read as the table's types.
    const g = await loadTable(registry, 'globex', 'orders', file('g.csv', 'amount,order_id,product\n1.5,10,g1\n2.5,11,g2\n'), 'create');
    expect(g.rows).toBe(2);
    const acmeBefore = await checksumOf('orders', 'acme');
    const globexBefore = await checksumOf('orders', 'globex');
    expect(acmeBefore?.[0]).toBe(3n);

    await expect(loadTable(registry, 'globex', 'orders', file('g2.csv', 'order_id,product,amount\n12,x,1\n'), 'create')).rejects.toThrow(
      'table orders already has 2 rows of tenant globex; use --replace or --append',
    );
    const rep = await loadSharedTenantTable(registry, 'globex', 'orders', file('g3.csv', 'order_id,product,amount\n20,new,9\n'), 'replace');
    expect(rep.rows).toBe(1);
    expect(await checksumOf('orders', 'acme')).toEqual(acmeBefore);
    expect(await shared(`SELECT order_id FROM orders WHERE tenant_id = 'globex'`)).toEqual([[20n]]);

    const app = await loadTable(registry, 'globex', 'orders', file('g4.csv', 'product,amount,order_id\nmore,1.25,21\n'), 'append');
    expect(app.rows).toBe(1);
    expect(await checksumOf('orders', 'acme')).toEqual(acmeBefore);
    expect(await shared(`SELECT tenant_id, count(*) FROM orders GROUP BY ALL ORDER BY 1`)).toEqual([
      ['acme', 3n],
      ['globex', 2n],
    ]);
    expect(globexBefore).not.toEqual(await checksumOf('orders', 'globex'));
  });

  it('a bad file loads nothing and other tenants are untouched', async () => {
    await loadTable(registry, 'acme', 'orders', file('a.csv', ORDERS), 'create');
    const before = dataState();
    const cases: [string, string, 'create' | 'replace' | 'append', RegExp, string?][] = [
      ['cols.csv', 'order_id,product\n1,x\n', 'append', /the columns of .*cols\.csv do not fit table orders \(missing amount\)/],
      ['extra.csv', 'order_id,product,amount,more\n1,x,1,2\n', 'replace', /not in the table: more/],
      ['type.csv', 'order_id,product,amount\n1,x,1\nseven,y,2\n', 'append', /cannot load .*type\.csv into orders: .*"seven"/],
      ['ragged.csv', 'order_id,product,amount\n1,x,1\n2,y,2,3\n', 'replace', /cannot load .*ragged\.csv/],
      ['tagged.csv', 'tenant_id,order_id,product,amount\nacme,1,x,1\n', 'append', /has a column tenant_id: the load adds tenant_id itself/],
      ['new.csv', 'a\n1\n', 'append', /table fresh does not exist; load it without --append first/, 'fresh'],
    ];
    for (const [name, text, mode, error, table] of cases) {
      await expect(loadTable(registry, 'globex', table ?? 'orders', file(name, text), mode), name).rejects.toThrow(error);
    }
    await expect(loadSharedTenantTable(registry, 'solo', 'orders', file('s.csv', ORDERS), 'create')).rejects.toThrow(
      'tenant solo uses database isolation, not shared',
    );
    expect(dataState()).toEqual(before);
  });

  it('refuses a per-tenant load into a table of rows shared by several tenants', async () => {
    await loadMultiTenantTable(registry, 'segments', file('s.csv', 'tenant_ids,name\n"[acme, globex]",both\n'), 'create');
    await expect(loadTable(registry, 'acme', 'segments', file('x.csv', 'name\nmine\n'), 'append')).rejects.toThrow(
      'table segments holds rows shared by several tenants (tenant_ids); load it with: tenantgate shared load segments <file>',
    );
  });

  it('loads Parquet too', async () => {
    const pq = await parquet('p.parquet', `SELECT i AS n, 'row ' || i AS label FROM range(100) t(i)`);
    expect((await loadTable(registry, 'acme', 'pq', pq, 'create')).rows).toBe(100);
    expect((await loadTable(registry, 'globex', 'pq', pq, 'append')).rows).toBe(100);
    expect(await shared('SELECT tenant_id, count(*), sum(n) FROM pq GROUP BY ALL ORDER BY 1')).toEqual([
      ['acme', 100n, 4950n],
      ['globex', 100n, 4950n],
    ]);
  });

  it('concurrent loads into two shared tenants both land', async () => {
    await loadTable(registry, 'acme', 'events', file('e0.csv', 'id,src\n0,seed\n'), 'create');
    const a = file('ea.csv', `id,src\n${Array.from({ length: 500 }, (_, i) => `${i + 1},a`).join('\n')}\n`);
    const g = file('eg.csv', `id,src\n${Array.from({ length: 500 }, (_, i) => `${i + 1},g`).join('\n')}\n`);
    await Promise.all([
      loadTable(new Registry(registry.dataDir), 'acme', 'events', a, 'append'),
      loadTable(new Registry(registry.dataDir), 'globex', 'events', g, 'create'),
    ]);
    expect(await shared('SELECT tenant_id, src, count(*) FROM events GROUP BY ALL ORDER BY 1, 2')).toEqual([
      ['acme', 'a', 500n],
      ['acme', 'seed', 1n],
      ['globex', 'g', 500n],
    ]);
    expect(sharedFiles()).toHaveLength(1);
    expect((await registry.read()).shared.snapshot).toMatch(/^000003-/);
  });
});

describe('tables of rows shared by several tenants', () => {
  beforeEach(async () => {
    await Promise.all([tenant('acme'), tenant('globex'), tenant('initech'), tenant('solo', 'database')]);
  });

  it('loads tenant_ids from CSV list literals and Parquet lists', async () => {
    const csv = file('seg.csv', 'name,tenant_ids,weight\nboth,"[acme, globex]",1\nacme only,[acme],2\nall,"[acme,globex,initech]",3\n');
    const r = await loadMultiTenantTable(registry, 'segments', csv, 'create');
    expect(r).toMatchObject({ rows: 3, tenants: 3 });
    expect(await shared(`SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = 'segments' ORDER BY ordinal_position`)).toEqual([
      ['tenant_ids', 'VARCHAR[]', 'NO'],
      ['name', 'VARCHAR', 'YES'],
      ['weight', 'BIGINT', 'YES'],
    ]);
    expect(await shared(`SELECT name FROM segments WHERE list_contains(tenant_ids, 'globex') ORDER BY name`)).toEqual([['all'], ['both']]);

    const pq = await parquet('seg.parquet', `SELECT ['initech'] AS tenant_ids, 'parquet' AS name, 4 AS weight`);
    expect((await loadMultiTenantTable(registry, 'segments', pq, 'append')).rows).toBe(1);
    await expect(loadMultiTenantTable(registry, 'segments', csv, 'create')).rejects.toThrow('table segments already exists; use --replace or --append');
    expect((await loadMultiTenantTable(registry, 'segments', file('seg2.csv', 'tenant_ids,name,weight\n[initech],only,1\n'), 'replace')).rows).toBe(1);
    expect(await shared('SELECT tenant_ids, name FROM segments')).toEqual([[expect.objectContaining({ items: ['initech'] }), 'only']]);
  });

  it('refuses unknown ids, naming at most 10 of them, and loads nothing', async () => {
    await loadMultiTenantTable(registry, 'segments', file('ok.csv', 'tenant_ids,name\n[acme],a\n'), 'create');
    const before = dataState();
    const ids = Array.from({ length: 12 }, (_, i) => `ghost${String(i).padStart(2, '0')}`);
    const bad = file('bad.csv', `tenant_ids,name\n"[acme, ${ids.join(', ')}]",x\n"[solo]",y\n`);
    await expect(loadMultiTenantTable(registry, 'segments', bad, 'append')).rejects.toThrow(
      /bad\.csv names tenants that are not registered with shared isolation: "ghost00", "ghost01", .*"ghost09" and 3 more; nothing was loaded$/,
    );
    // A database tenant is not a shared one.
    await expect(loadMultiTenantTable(registry, 'segments', file('solo.csv', 'tenant_ids,name\n[solo],y\n'), 'append')).rejects.toThrow(
      /not registered with shared isolation: "solo"; nothing was loaded/,
    );
    await expect(loadMultiTenantTable(registry, 'segments', file('empty.csv', 'tenant_ids,name\n[],y\n'), 'append')).rejects.toThrow(
      /1 row with an empty tenant_ids list/,
    );
    await expect(loadMultiTenantTable(registry, 'other', file('none.csv', 'name\nx\n'), 'create')).rejects.toThrow(/has no tenant_ids column/);
    await expect(loadMultiTenantTable(registry, 'segments', file('cols.csv', 'tenant_ids,nom\n[acme],x\n'), 'append')).rejects.toThrow(
      /missing name; not in the table: nom/,
    );
    expect(dataState()).toEqual(before);
  });
});

describe('removing a shared tenant', () => {
  it('deletes its rows and its id from every list in one new shared snapshot, with the registry entry', async () => {
    await Promise.all([tenant('acme'), tenant('globex'), tenant('solo', 'database')]);
    await loadTable(registry, 'acme', 'orders', file('a.csv', ORDERS), 'create');
    await loadTable(registry, 'globex', 'orders', file('g.csv', 'order_id,product,amount\n10,g,1\n'), 'create');
    await loadMultiTenantTable(registry, 'segments', file('s.csv', 'tenant_ids,name\n"[acme, globex]",both\n[acme],mine\n'), 'create');
    const globexBefore = await checksumOf('orders', 'globex');
    const snapBefore = (await registry.read()).shared.snapshot;

    await removeTenant(registry, 'acme');
    const data = await registry.read();
    expect(Object.keys(data.tenants).sort()).toEqual(['globex', 'solo']);
    expect(data.shared.snapshot).not.toBe(snapBefore);
    expect(await shared(`SELECT count(*) FROM orders WHERE tenant_id = 'acme'`)).toEqual([[0n]]);
    expect(await checksumOf('orders', 'globex')).toEqual(globexBefore);
    expect(await shared('SELECT tenant_ids, name FROM segments')).toEqual([[expect.objectContaining({ items: ['globex'] }), 'both']]);
    expect(sharedFiles()).toEqual([data.shared.snapshot]);
    await expect(removeTenant(registry, 'acme')).rejects.toThrow('unknown tenant "acme"');
  });

  it('without a shared database it just goes', async () => {
    await tenant('acme');
    await removeTenant(registry, 'acme');
    expect((await registry.read()).tenants).toEqual({});
  });
});

describe('moving a tenant', () => {
  const tableSum = 'SELECT count(*), coalesce(sum(hash(*COLUMNS(*))), 0)::VARCHAR FROM orders';

  beforeEach(async () => {
    await Promise.all([tenant('acme'), tenant('globex'), tenant('solo', 'database')]);
    await loadTable(registry, 'acme', 'orders', file('a.csv', ORDERS), 'create');
    await loadTable(registry, 'acme', 'events', file('e.csv', 'id,kind\n1,click\n2,view\n'), 'create');
    await loadTable(registry, 'globex', 'orders', file('g.csv', 'order_id,product,amount\n10,g,1\n11,h,2\n'), 'create');
    await loadMultiTenantTable(registry, 'segments', file('s.csv', 'tenant_ids,name\n"[acme, globex]",both\n[acme],mine\n'), 'create');
  });

  it('moves to database and back with equal counts and checksums and no duplicates', async () => {
    const acmeShared = await checksumOf('orders', 'acme');
    const globexShared = await checksumOf('orders', 'globex');

    const r = await moveTenant(registry, 'acme', 'database');
    expect(r).toMatchObject({ from: 'shared', to: 'database', cleanup: { done: true } });
    expect(r.tables.map((t) => [t.table, t.rows])).toEqual([
      ['events', 2],
      ['orders', 3],
    ]);
    expect(r.leftBehind).toEqual([{ table: 'segments', rows: 2 }]);
    const t = await getTenant(registry, 'acme');
    expect(t).toMatchObject({ isolation: 'database', snapshot: r.snapshot });
    expect(fs.readdirSync(registry.tenantDir('acme'))).toEqual([r.snapshot]);
    // Its own file holds its rows, without tenant_id, and only tenant_id tables.
    expect(await own('acme', tableSum)).toEqual([[acmeShared![0], acmeShared![1]]]);
    expect(await own('acme', `SELECT table_name FROM duckdb_tables() ORDER BY 1`)).toEqual([['events'], ['orders']]);
    expect(await own('acme', `SELECT count(*) FROM information_schema.columns WHERE column_name = 'tenant_id'`)).toEqual([[0n]]);
    // Its rows left the shared database; the others' did not change.
    expect(await shared(`SELECT count(*) FROM orders WHERE tenant_id = 'acme'`)).toEqual([[0n]]);
    expect(await shared(`SELECT count(*) FROM events`)).toEqual([[0n]]);
    expect(await shared('SELECT tenant_ids FROM segments')).toEqual([[expect.objectContaining({ items: ['globex'] })]]);
    expect(await checksumOf('orders', 'globex')).toEqual(globexShared);
    expect(r.tables.find((x) => x.table === 'orders')?.checksum).toBe(acmeShared![1]);

    const back = await moveTenant(registry, 'acme', 'shared');
    expect(back).toMatchObject({ from: 'database', to: 'shared', snapshot: null, cleanup: { done: true } });
    expect(back.tables.map((x) => [x.table, x.rows])).toEqual([
      ['events', 2],
      ['orders', 3],
    ]);
    expect(await getTenant(registry, 'acme')).toMatchObject({ isolation: 'shared', snapshot: null });
    expect(fs.existsSync(registry.tenantDir('acme'))).toBe(false);
    expect(await checksumOf('orders', 'acme')).toEqual(acmeShared);
    expect(await checksumOf('orders', 'globex')).toEqual(globexShared);
    expect(await shared(`SELECT count(*), count(DISTINCT order_id) FROM orders WHERE tenant_id = 'acme'`)).toEqual([[3n, 3n]]);
    expect(sharedFiles()).toEqual([(await registry.read()).shared.snapshot]);
  });

  it('moves a database tenant into the shared tables, creating missing ones', async () => {
    await loadTable(registry, 'solo', 'orders', file('so.csv', 'product,order_id,amount\nsolo,100,5.5\n'), 'create');
    await loadTable(registry, 'solo', 'notes', file('sn.csv', 'note\nhello\n'), 'create');
    const soloOrders = await own('solo', 'SELECT count(*), sum(hash(order_id, product, amount))::VARCHAR FROM orders');
    const r = await moveTenant(registry, 'solo', 'shared');
    expect(r.tables.map((x) => [x.table, x.rows])).toEqual([
      ['notes', 1],
      ['orders', 1],
    ]);
    expect(await checksumOf('orders', 'solo')).toEqual([soloOrders[0]![0], soloOrders[0]![1]]);
    expect(await shared(`SELECT tenant_id, note FROM notes`)).toEqual([['solo', 'hello']]);
    const tables = await sharedTablesOfTenant(registry, 'solo');
    expect(tables).toEqual([
      { table: 'events', tenantColumn: 'tenant_id', rows: 0 },
      { table: 'notes', tenantColumn: 'tenant_id', rows: 1 },
      { table: 'orders', tenantColumn: 'tenant_id', rows: 1 },
      { table: 'segments', tenantColumn: 'tenant_ids', rows: 0 },
    ]);
    await expect(moveTenant(registry, 'solo', 'shared')).rejects.toThrow('tenant solo already uses shared isolation');
  });

  it('a failure before the switch leaves everything as it was', async () => {
    await loadTable(registry, 'solo', 'orders', file('so.csv', 'order_id,product,amount\n100,solo,"5.5"\n'), 'create');
    await loadTable(registry, 'solo', 'misfit', file('m.csv', 'a\n1\n'), 'create');
    await loadMultiTenantTable(registry, 'misfit', file('mm.csv', 'tenant_ids,a\n[acme],1\n'), 'create');
    // Tables that do not fit the shared ones: the build throws.
    let before = dataState();
    await expect(moveTenant(registry, 'solo', 'shared')).rejects.toThrow(
      'the shared table misfit holds rows shared by several tenants (tenant_ids); table misfit of tenant solo cannot move into it',
    );
    expect(dataState()).toEqual(before);
    await buildSnapshot(registry, 'solo', async (c) => {
      await c.run('DROP TABLE misfit');
      await c.run('ALTER TABLE orders ALTER amount TYPE DECIMAL(10,2)');
    });
    before = dataState();
    await expect(moveTenant(registry, 'solo', 'shared')).rejects.toThrow(
      'table orders of tenant solo does not fit the shared table orders (amount is DECIMAL(10,2), DOUBLE in the shared table)',
    );
    expect(dataState()).toEqual(before);

    // The registry refuses the switch: shared → database.
    before = dataState();
    await expect(moveTenant(new RefusingRegistry(registry.dataDir, 1), 'acme', 'database')).rejects.toThrow('registry update refused');
    expect(dataState()).toEqual(before);
    expect(fs.readdirSync(registry.tenantDir('acme'))).toEqual([]);

    // ...and database → shared.
    await buildSnapshot(registry, 'solo', async (c) => void (await c.run('ALTER TABLE orders ALTER amount TYPE DOUBLE')));
    before = dataState();
    await expect(moveTenant(new RefusingRegistry(registry.dataDir, 1), 'solo', 'shared')).rejects.toThrow('registry update refused');
    expect(dataState()).toEqual(before);
    expect(await getTenant(registry, 'solo')).toMatchObject({ isolation: 'database' });

    // A view cannot move.
    await buildSnapshot(registry, 'solo', async (c) => void (await c.run('CREATE VIEW v AS SELECT * FROM orders')));
    before = dataState();
    await expect(moveTenant(registry, 'solo', 'shared')).rejects.toThrow('tenant solo has views (main.v)');
    expect(dataState()).toEqual(before);
  });

  it('when removing the rows from the old place fails, they stay invisible and the next load removes them', async () => {
    const acmeShared = await checksumOf('orders', 'acme');
    const r = await moveTenant(new RefusingRegistry(registry.dataDir, 2), 'acme', 'database');
    expect(r.cleanup).toEqual({ done: false, error: 'registry update refused' });
    expect(await getTenant(registry, 'acme')).toMatchObject({ isolation: 'database', snapshot: r.snapshot });
    expect(await own('acme', tableSum)).toEqual([[acmeShared![0], acmeShared![1]]]);
    // Still in the shared database, but acme is not a shared tenant any more.
    expect(await checksumOf('orders', 'acme')).toEqual(acmeShared);

    const load = await loadTable(registry, 'globex', 'orders', file('g2.csv', 'order_id,product,amount\n12,i,3\n'), 'append');
    expect(await checksumOf('orders', 'acme')).toEqual([0n, '0']);
    expect(await shared('SELECT tenant_ids FROM segments')).toEqual([[expect.objectContaining({ items: ['globex'] })]]);
    expect(load.rows).toBe(1);

    // Moving back does not duplicate rows either.
    await moveTenant(registry, 'acme', 'shared');
    expect(await checksumOf('orders', 'acme')).toEqual(acmeShared);
  });
});

describe('splitTable', () => {
  it('publishes each tenant\'s slice into its own file or the shared table and reports unknown ids', async () => {
    await Promise.all([tenant('acme', 'database'), tenant('globex'), tenant('initech'), tenant('empty', 'database')]);
    await loadTable(registry, 'initech', 'orders', file('i.csv', 'order_id,product\n1,old\n'), 'create');
    const rows = [
      'tenant_id,order_id,product',
      ...Array.from({ length: 30 }, (_, i) => `${['acme', 'globex', 'initech'][i % 3]},${i},p${i}`),
      'ghost,100,x',
      'ghost,101,y',
      'nobody,102,z',
    ];
    const r = await splitTable(registry, 'orders', file('global.csv', `${rows.join('\n')}\n`));
    expect(r.rows).toBe(33);
    expect(r.tenants.map((t) => [t.id, t.isolation, t.rows, t.error])).toEqual([
      ['acme', 'database', 10, null],
      ['empty', 'database', 0, null],
      ['globex', 'shared', 10, null],
      ['initech', 'shared', 10, null],
    ]);
    expect(r.unknown).toEqual([
      { id: 'ghost', rows: 2 },
      { id: 'nobody', rows: 1 },
    ]);
    expect(await own('acme', 'SELECT count(*), min(order_id) FROM orders')).toEqual([[10n, 0n]]);
    expect(await own('acme', `SELECT column_name FROM information_schema.columns WHERE table_name = 'orders' ORDER BY ordinal_position`)).toEqual([
      ['order_id'],
      ['product'],
    ]);
    expect(await own('empty', 'SELECT count(*) FROM orders')).toEqual([[0n]]);
    expect(await shared('SELECT tenant_id, count(*) FROM orders GROUP BY ALL ORDER BY 1')).toEqual([
      ['globex', 10n],
      ['initech', 10n],
    ]);
    expect(r.tenants.find((t) => t.id === 'globex')?.snapshot).toBe((await registry.read()).shared.snapshot);
    expect(fs.readdirSync(registry.tmpDir)).toEqual([]);
  });

  it('reads a table from a .duckdb file and refuses files without tenant_id', async () => {
    await Promise.all([tenant('acme', 'database'), tenant('globex')]);
    const db = path.join(dir, 'global.duckdb');
    const inst = await DuckDBInstance.create(db);
    const c = await inst.connect();
    await c.run(`CREATE TABLE facts AS SELECT CASE WHEN i % 2 = 0 THEN 'acme' ELSE 'globex' END AS tenant_id, i AS n FROM range(10) t(i)`);
    c.disconnectSync();
    inst.closeSync();
    const r = await splitTable(registry, 'facts', db);
    expect(r.tenants.map((t) => [t.id, t.rows])).toEqual([
      ['acme', 5],
      ['globex', 5],
    ]);
    expect(await own('acme', 'SELECT sum(n) FROM facts')).toEqual([[20n]]);
    expect(await shared(`SELECT sum(n) FROM facts WHERE tenant_id = 'globex'`)).toEqual([[25n]]);
    await expect(splitTable(registry, 'nope', db)).rejects.toThrow(/global\.duckdb has no table main\.nope/);
    await expect(splitTable(registry, 'facts', file('x.csv', 'a,b\n1,2\n'))).rejects.toThrow(/x\.csv has no tenant_id column/);
    await expect(splitTable(registry, 'facts', file('x.json', '{}'))).rejects.toThrow(/use a \.csv, \.tsv, \.parquet or \.duckdb file/);
  });
});

describe('readSharedTables', () => {
  it('lists the tables with their tenant column and other columns', async () => {
    await tenant('acme');
    await loadTable(registry, 'acme', 'orders', file('a.csv', ORDERS), 'create');
    await loadMultiTenantTable(registry, 'segments', file('s.csv', 'tenant_ids,name\n[acme],x\n'), 'create');
    const p = registry.sharedSnapshotPath(await registry.read())!;
    const inst = await DuckDBInstance.create(p, { access_mode: 'READ_ONLY' });
    const c = await inst.connect();
    try {
      expect(await readSharedTables(c)).toEqual([
        {
          name: 'orders',
          tenantColumn: 'tenant_id',
          columns: [
            { name: 'order_id', type: 'BIGINT' },
            { name: 'product', type: 'VARCHAR' },
            { name: 'amount', type: 'DOUBLE' },
          ],
        },
        { name: 'segments', tenantColumn: 'tenant_ids', columns: [{ name: 'name', type: 'VARCHAR' }] },
      ]);
    } finally {
      c.disconnectSync();
      inst.closeSync();
    }
  });
});
