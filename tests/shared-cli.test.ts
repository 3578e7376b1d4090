// The operator CLI for shared isolation: `tenant add --isolation shared`, `load` into the
// shared database, `shared load`, `tenant move`, `split`, run as real processes on a
// temporary data directory.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry, addTenant, type RegistryData } from '../src/tenants/registry.js';
import { loadMultiTenantTable, moveTenant } from '../src/tenants/shared.js';
import { loadTable } from '../src/tenants/snapshots.js';
import { expectError, expectOk, tg } from './support/cli.js';
import { querySharedSnapshot, querySnapshot, sharedRowsChecksum } from './support/snapshot.js';

let tmp: string;
let seq = 0;

function dataDir(): string {
  return path.join(tmp, `data${++seq}`);
}

function readRegistry(data: string): RegistryData {
  return JSON.parse(fs.readFileSync(path.join(data, 'registry.json'), 'utf8')) as RegistryData;
}

function writeFile(name: string, text: string): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, text);
  return p;
}

/** Hashes of every file under the data directory: equal means nothing changed. */
function dataState(data: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(data, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const p = path.join(e.parentPath, e.name);
    out[path.relative(data, p)] = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
  }
  return out;
}

const checksum = (data: string, table: string, tenant: string) => sharedRowsChecksum(new Registry(data), table, tenant);
const shared = (data: string, sql: string) => querySharedSnapshot(new Registry(data), sql);
const own = (data: string, tenant: string, sql: string) => querySnapshot(new Registry(data), tenant, sql);

function orders(first: number, n: number, product: string): string {
  return `order_id,product,amount\n${Array.from({ length: n }, (_, i) => `${first + i},${product},${(i % 7) + 0.5}`).join('\n')}\n`;
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantgate-shared-cli-'));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('tenantgate with shared isolation', () => {
  it('adds, loads, replaces, appends, shows and removes shared tenants without touching the others', async () => {
    const data = dataDir();
    const d = ['--data', data];
    const add = await tg(['tenant', 'add', 'acme', '--plan', 'pro', '--isolation', 'shared', '--password-stdin', ...d], { input: 'acme-password\n' });
    expectOk(add);
    expect(add.stdout).toBe('tenant acme created (plan pro, isolation shared, user acme)\n');
    expect(readRegistry(data).tenants.acme).toMatchObject({ isolation: 'shared', snapshot: null });
    // The others through the library: spawning the CLI is the slow part of these tests.
    const registry = new Registry(data);
    await addTenant(registry, { id: 'globex', plan: 'pro', password: 'globex-password', isolation: 'shared' });
    await addTenant(registry, { id: 'solo', plan: 'pro', password: 'solo-password' });

    // Two loads at once into two shared tenants: serialised by the shared lock, both land.
    const [acmeLoad, globexLoad] = await Promise.all([
      tg(['load', 'acme', 'orders', writeFile('a.csv', orders(1, 1000, 'acme')), ...d]),
      tg(['load', 'globex', 'orders', writeFile('g.csv', orders(1, 500, 'globex')), ...d]),
    ]);
    expectOk(acmeLoad);
    expectOk(globexLoad);
    expect(acmeLoad.stdout).toMatch(/^loaded 1000 rows into acme\.orders \(shared snapshot 00000[12]-[0-9a-f]{8}\.duckdb\)\n$/);
    expect(await shared(data, 'SELECT tenant_id, product, count(*) FROM orders GROUP BY ALL ORDER BY 1')).toEqual([
      ['acme', 'acme', 1000n],
      ['globex', 'globex', 500n],
    ]);
    expect(readRegistry(data).shared.snapshot).toMatch(/^000002-/);
    expect(fs.readdirSync(path.join(data, 'shared'))).toEqual([readRegistry(data).shared.snapshot]);
    expect(fs.existsSync(path.join(data, 'shared.lock'))).toBe(false);
    const globex = await checksum(data, 'orders', 'globex');
    expect(globex?.[0]).toBe(500n);

    // Refusals change nothing.
    const before = dataState(data);
    const [again, unknownIds, wrongKind] = await Promise.all([
      tg(['load', 'acme', 'orders', writeFile('a2.csv', orders(21, 5, 'acme2')), ...d]),
      tg(['shared', 'load', 'segments', writeFile('seg-bad.csv', 'tenant_ids,name\n"[acme, ghost]",x\n"[solo]",y\n'), ...d]),
      tg(['shared', 'load', 'orders', writeFile('ce.csv', 'tenant_ids,order_id,product,amount\n[acme],1,x,1\n'), '--append', ...d]),
    ]);
    expectError(again, 1, 'table orders already has 1000 rows of tenant acme; use --replace or --append');
    expectError(unknownIds, 1, /seg-bad\.csv names tenants that are not registered with shared isolation: "ghost", "solo"; nothing was loaded$/);
    expectError(wrongKind, 1, 'table orders holds rows of single tenants (tenant_id); load it per tenant with: tenantgate load <tenant> orders <file>');
    expect(dataState(data)).toEqual(before);

    const replace = await tg(['load', 'acme', 'orders', writeFile('a3.csv', orders(1, 10, 'acme3')), '--replace', ...d]);
    expectOk(replace);
    expect(await checksum(data, 'orders', 'globex')).toEqual(globex);
    const [append, seg] = await Promise.all([
      tg(['load', 'acme', 'orders', writeFile('a4.csv', 'amount,product,order_id\n9.5,late,99\n'), '--append', ...d]),
      tg(['shared', 'load', 'segments', writeFile('seg.csv', 'tenant_ids,name\n"[acme, globex]",both\n[acme],mine\n'), ...d]),
    ]);
    expectOk(append);
    expect(append.stdout).toMatch(/^appended 1 row into acme\.orders \(shared snapshot /);
    expectOk(seg);
    expect(seg.stdout).toMatch(/^loaded 2 rows into shared table segments \(now visible to 2 tenants; shared snapshot /);
    expect(await checksum(data, 'orders', 'globex')).toEqual(globex);
    expect(await shared(data, `SELECT tenant_id, count(*) FROM orders GROUP BY ALL ORDER BY 1`)).toEqual([
      ['acme', 11n],
      ['globex', 500n],
    ]);

    const [show, showJson, list] = await Promise.all([
      tg(['tenant', 'show', 'acme', ...d]),
      tg(['tenant', 'show', 'acme', '--json', ...d]),
      tg(['tenant', 'list', ...d]),
    ]);
    [show, showJson, list].forEach(expectOk);
    expect(show.stdout).toMatch(/^isolation:\s+shared$/m);
    expect(show.stdout).toMatch(new RegExp(`^data:\\s+shared database .*${path.sep}shared${path.sep}\\d{6}-[0-9a-f]{8}\\.duckdb$`, 'm'));
    expect(show.stdout).toMatch(/^tables:\s+orders\s+11 rows$/m);
    expect(show.stdout).toMatch(/^\s+segments\s+2 rows\s+\(rows shared by several tenants\)$/m);
    expect(JSON.parse(showJson.stdout).sharedTables).toEqual([
      { table: 'orders', tenantColumn: 'tenant_id', rows: 11 },
      { table: 'segments', tenantColumn: 'tenant_ids', rows: 2 },
    ]);
    expect(list.stdout).toMatch(/^acme\s+acme\s+pro\s+shared\s+active\s+1\s+shared$/m);
    expect(list.stdout).toMatch(/^solo\s+solo\s+pro\s+database\s+active\s+1\s+no$/m);

    const remove = await tg(['tenant', 'remove', 'acme', ...d]);
    expectOk(remove);
    expect(remove.stdout).toBe('tenant acme removed\n');
    expect(Object.keys(readRegistry(data).tenants).sort()).toEqual(['globex', 'solo']);
    expect(await checksum(data, 'orders', 'globex')).toEqual(globex);
    expect(await shared(data, `SELECT count(*) FROM orders WHERE tenant_id = 'acme'`)).toEqual([[0n]]);
    expect(await shared(data, 'SELECT name, tenant_ids FROM segments')).toEqual([['both', expect.objectContaining({ items: ['globex'] })]]);
    expect(fs.readdirSync(path.join(data, 'shared'))).toEqual([readRegistry(data).shared.snapshot]);
  });

  it('moves a tenant to its own database and back with equal counts and checksums', async () => {
    const data = dataDir();
    const d = ['--data', data];
    // The setup goes through the library: only the moves are under test here.
    const registry = new Registry(data);
    await addTenant(registry, { id: 'acme', plan: 'pro', password: 'acme-password', isolation: 'shared' });
    await addTenant(registry, { id: 'globex', plan: 'pro', password: 'globex-password', isolation: 'shared' });
    await loadTable(registry, 'acme', 'orders', writeFile('ma.csv', orders(1, 300, 'acme')), 'create');
    await loadTable(registry, 'globex', 'orders', writeFile('mg.csv', orders(1, 200, 'globex')), 'create');
    await loadMultiTenantTable(registry, 'segments', writeFile('ms.csv', 'tenant_ids,name\n"[acme, globex]",both\n'), 'create');
    const acme = await checksum(data, 'orders', 'acme');
    const globex = await checksum(data, 'orders', 'globex');

    const toDb = await tg(['tenant', 'move', 'acme', '--isolation', 'database', ...d]);
    expectOk(toDb);
    expect(toDb.stdout).toContain(`  orders: 300 rows, checksum ${acme![1]} on both sides\n`);
    expect(toDb.stdout).toMatch(/^tenant acme moved to database isolation: 1 table, 300 rows verified \(snapshot 000001-[0-9a-f]{8}\.duckdb\)$/m);
    expect(toDb.stdout).toContain('note: 1 row of segments, a table of rows shared by several tenants (tenant_ids), did not move; acme no longer sees it');
    expect(readRegistry(data).tenants.acme).toMatchObject({ isolation: 'database', snapshot: expect.stringMatching(/^000001-/) });
    expect(await own(data, 'acme', 'SELECT count(*), count(DISTINCT order_id), sum(hash(order_id, product, amount))::VARCHAR FROM orders')).toEqual([
      [300n, 300n, acme![1]],
    ]);
    expect(await checksum(data, 'orders', 'acme')).toEqual([0n, '0']);
    expect(await checksum(data, 'orders', 'globex')).toEqual(globex);

    const toShared = await tg(['tenant', 'move', 'acme', '--isolation', 'shared', ...d]);
    expectOk(toShared);
    expect(toShared.stdout).toMatch(/^tenant acme moved to shared isolation: 1 table, 300 rows verified \(shared snapshot \d{6}-[0-9a-f]{8}\.duckdb\)$/m);
    expect(await checksum(data, 'orders', 'acme')).toEqual(acme);
    expect(await checksum(data, 'orders', 'globex')).toEqual(globex);
    expect(await shared(data, `SELECT count(*), count(DISTINCT order_id) FROM orders WHERE tenant_id = 'acme'`)).toEqual([[300n, 300n]]);
    expect(readRegistry(data).tenants.acme).toMatchObject({ isolation: 'shared', snapshot: null });
    expect(fs.existsSync(path.join(data, 'tenants', 'acme'))).toBe(false);

    // A table that does not fit the shared one: refused before the switch, nothing changes.
    await moveTenant(registry, 'acme', 'database');
    await loadTable(registry, 'acme', 'orders', writeFile('mx.csv', 'order_id,product\n1,x\n'), 'replace');
    const before = dataState(data);
    const [misfit, same, missing] = await Promise.all([
      tg(['tenant', 'move', 'acme', '--isolation', 'shared', ...d]),
      tg(['tenant', 'move', 'acme', '--isolation', 'database', ...d]),
      tg(['tenant', 'move', 'acme', ...d]),
    ]);
    expectError(misfit, 1, 'table orders of tenant acme does not fit the shared table orders (missing amount)');
    expectError(same, 1, 'tenant acme already uses database isolation');
    expectError(missing, 2, "required option '--isolation <mode>' not specified");
    expect(dataState(data)).toEqual(before);
    expect(readRegistry(data).tenants.acme!.isolation).toBe('database');
  });

  it('splits one global table into database and shared tenants and reports unknown ids', async () => {
    const data = dataDir();
    const d = ['--data', data];
    const registry = new Registry(data);
    for (const [id, isolation] of [['acme', 'database'], ['globex', 'shared'], ['initech', 'shared'], ['quiet', 'database']] as const) {
      await addTenant(registry, { id, plan: 'pro', password: `${id}-password`, isolation });
    }
    const lines = ['tenant_id,day,revenue'];
    for (let i = 0; i < 60; i++) lines.push(`${['acme', 'globex', 'initech'][i % 3]},2025-01-${String((i % 28) + 1).padStart(2, '0')},${i}`);
    lines.push('ghost,2025-01-01,1', 'ghost,2025-01-02,2', 'nobody,2025-01-03,3');
    const r = await tg(['split', 'revenue', writeFile('global.csv', `${lines.join('\n')}\n`), ...d]);
    expectOk(r);
    const out = r.stdout.split('\n');
    expect(out).toContainEqual(expect.stringMatching(/^acme \(database\): 20 rows, snapshot 000001-[0-9a-f]{8}\.duckdb$/));
    expect(out).toContainEqual(expect.stringMatching(/^globex \(shared\): 20 rows, shared snapshot 000001-[0-9a-f]{8}\.duckdb$/));
    expect(out).toContainEqual(expect.stringMatching(/^initech \(shared\): 20 rows, shared snapshot 000001-/));
    expect(out).toContainEqual(expect.stringMatching(/^quiet \(database\): 0 rows, snapshot 000001-/));
    expect(out).toContain('unknown tenant "ghost": 2 rows not loaded');
    expect(out).toContain('unknown tenant "nobody": 1 row not loaded');
    expect(out).toContain('split revenue: 60 rows into 4 tenants; 3 rows of unknown tenants not loaded');
    expect(await own(data, 'acme', 'SELECT count(*), sum(revenue) FROM revenue')).toEqual([[20n, 570n]]);
    expect(await own(data, 'acme', `SELECT column_name FROM information_schema.columns WHERE table_name = 'revenue' ORDER BY ordinal_position`)).toEqual([
      ['day'],
      ['revenue'],
    ]);
    expect(await own(data, 'quiet', 'SELECT count(*) FROM revenue')).toEqual([[0n]]);
    expect(await shared(data, 'SELECT tenant_id, count(*), sum(revenue) FROM revenue GROUP BY ALL ORDER BY 1')).toEqual([
      ['globex', 20n, 590n],
      ['initech', 20n, 610n],
    ]);

    const before = dataState(data);
    const [badType, ragged] = await Promise.all([
      tg(['split', 'revenue', writeFile('global.json', '{}'), ...d]),
      tg(['split', 'revenue', writeFile('ragged.csv', 'tenant_id,revenue\nacme,1\nacme,2,3\n'), ...d]),
    ]);
    expectError(badType, 2, 'unsupported file type ".json": use a .csv, .tsv, .parquet or .duckdb file');
    expectError(ragged, 1, /cannot read .*ragged\.csv: /);
    expect(dataState(data)).toEqual(before);
  });

  it('--help describes the new commands', async () => {
    // `tenant add --help` and `load --help` are checked in cli.test.ts.
    const cmds = [['tenant', 'move'], ['shared', 'load'], ['split']];
    const results = await Promise.all(cmds.map((c) => tg([...c, '--help'])));
    results.forEach(expectOk);
    const [move, sharedLoad, split] = results.map((r) => r.stdout);
    for (const o of ['--isolation', 'database', 'shared', '--data', 'checksum']) expect(move).toContain(o);
    for (const o of ['--replace', '--append', '--data', 'tenant_ids', '[acme, globex]']) expect(sharedLoad).toContain(o);
    for (const o of ['tenant_id', '.duckdb', '--data', 'not a registered']) expect(split).toContain(o);
  });
});
