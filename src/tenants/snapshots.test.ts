import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, TenantError } from './ids.js';
import { Registry, addTenant, getTenant } from './registry.js';
import { buildSnapshot, loadTable, summarizeDuckDBError } from './snapshots.js';
import { querySnapshot } from '../../tests/support/snapshot.js';

let dir: string;
let registry: Registry;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantgate-snapshots-'));
  registry = new Registry(path.join(dir, 'data'));
  await addTenant(registry, { id: 'acme', plan: 'pro', password: 'acme password' });
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

const query = (sql: string, tenant = 'acme') => querySnapshot(registry, tenant, sql);

function tenantFiles(): string[] {
  return fs.readdirSync(registry.tenantDir('acme')).sort();
}

describe('buildSnapshot', () => {
  it('publishes numbered snapshots and removes superseded ones', async () => {
    const a = await buildSnapshot(registry, 'acme', async (c) => {
      await c.run('CREATE TABLE t AS SELECT 1 AS x');
    });
    expect(a.snapshot).toMatch(/^000001-[0-9a-f]{8}\.duckdb$/);
    expect((await getTenant(registry, 'acme')).snapshot).toBe(a.snapshot);
    const b = await buildSnapshot(registry, 'acme', async (c) => {
      await c.run('INSERT INTO t VALUES (2)');
    });
    expect(b.snapshot).toMatch(/^000002-[0-9a-f]{8}\.duckdb$/);
    expect(tenantFiles()).toEqual([b.snapshot]);
    expect(await query('SELECT x FROM t ORDER BY x')).toEqual([[1], [2]]);
  });

  it('a failing build changes nothing and leaves no files', async () => {
    const { snapshot } = await buildSnapshot(registry, 'acme', async (c) => {
      await c.run('CREATE TABLE t AS SELECT 1 AS x');
    });
    const snapPath = path.join(registry.tenantDir('acme'), snapshot);
    const bytes = fs.readFileSync(snapPath);
    const registryBefore = fs.readFileSync(registry.path);
    await expect(
      buildSnapshot(registry, 'acme', async (c) => {
        await c.run('INSERT INTO t VALUES (2)');
        await c.run('DROP TABLE t');
        throw new Error('build failed');
      }),
    ).rejects.toThrow('build failed');
    await expect(
      buildSnapshot(registry, 'acme', async (c) => {
        await c.run('SELECT * FROM no_such_table');
      }),
    ).rejects.toThrow(/no_such_table/);
    expect(tenantFiles()).toEqual([snapshot]);
    expect(fs.readFileSync(snapPath).equals(bytes)).toBe(true);
    expect(fs.readFileSync(registry.path).equals(registryBefore)).toBe(true);
    expect(await query('SELECT x FROM t')).toEqual([[1]]);
    expect(fs.existsSync(`${registry.tenantDir('acme')}.lock`)).toBe(false);
  });

  it('cleans up what a crashed build left behind', async () => {
    const tdir = registry.tenantDir('acme');
    fs.mkdirSync(tdir, { recursive: true });
    const old = new Date(Date.now() - 3600_000);
    for (const leftover of ['.build-deadbeef.duckdb', '.build-deadbeef.duckdb.wal', '000009-deadbeef.duckdb']) {
      fs.writeFileSync(path.join(tdir, leftover), 'junk');
      fs.utimesSync(path.join(tdir, leftover), old, old);
    }
    const { snapshot } = await buildSnapshot(registry, 'acme', async (c) => {
      await c.run('CREATE TABLE t (x INTEGER)');
    });
    // Numbering continues after the highest file seen, and everything else is gone.
    expect(snapshot).toMatch(/^000010-/);
    expect(tenantFiles()).toEqual([snapshot]);
  });

  it('serialises concurrent builds of one tenant: none loses the other', async () => {
    await buildSnapshot(registry, 'acme', async (c) => {
      await c.run('CREATE TABLE t (x INTEGER)');
    });
    await Promise.all(
      [1, 2, 3].map((n) =>
        buildSnapshot(new Registry(registry.dataDir), 'acme', async (c) => {
          await c.run(`INSERT INTO t VALUES (${n})`);
          await new Promise((r) => setTimeout(r, 50));
        }),
      ),
    );
    expect(await query('SELECT x FROM t ORDER BY x')).toEqual([[1], [2], [3]]);
    expect((await getTenant(registry, 'acme')).snapshot).toMatch(/^000004-/);
    expect(tenantFiles()).toHaveLength(1);
  });

  it('fails, publishing nothing, when the tenant is removed during the build', async () => {
    await expect(
      buildSnapshot(registry, 'acme', async (c) => {
        await c.run('CREATE TABLE t (x INTEGER)');
        await registry.update((d) => {
          delete d.tenants.acme;
        });
      }),
    ).rejects.toThrow('tenant acme was removed while its data were being loaded');
    expect(tenantFiles()).toEqual([]);
  });

  it('refuses unknown tenants and shared-isolation tenants', async () => {
    await expect(buildSnapshot(registry, 'nope', async () => undefined)).rejects.toThrow('unknown tenant "nope"');
    await expect(buildSnapshot(registry, '../x', async () => undefined)).rejects.toThrow(InvalidArgumentError);
    await registry.update((d) => {
      d.tenants.acme!.isolation = 'shared';
    });
    await expect(buildSnapshot(registry, 'acme', async () => undefined)).rejects.toThrow(/not supported yet/);
  });
});

describe('loadTable', () => {
  const csv = 'id,name,amount\n1,Café crème,1.50\n2,寿司セット 🍣,2.25\n3,"quoted, comma",3.00\n';

  it('creates a table from CSV, refuses to create it twice, replaces and appends', async () => {
    const f = file('a.csv', csv);
    const r1 = await loadTable(registry, 'acme', 'items', f, 'create');
    expect(r1.rows).toBe(3);
    expect(await query('SELECT id, name, amount FROM items ORDER BY id')).toEqual([
      [1n, 'Café crème', 1.5],
      [2n, '寿司セット 🍣', 2.25],
      [3n, 'quoted, comma', 3],
    ]);
    await expect(loadTable(registry, 'acme', 'items', f, 'create')).rejects.toThrow(
      'table items already exists; use --replace or --append',
    );
    const r2 = await loadTable(registry, 'acme', 'items', file('b.csv', 'amount,name,id\n9.5,appended,4\n'), 'append');
    expect(r2.rows).toBe(1);
    expect(await query('SELECT count(*), max(id) FROM items')).toEqual([[4n, 4n]]);
    const r3 = await loadTable(registry, 'acme', 'items', file('c.csv', 'other\nx\ny\n'), 'replace');
    expect(r3.rows).toBe(2);
    expect(await query('SELECT * FROM items ORDER BY 1')).toEqual([['x'], ['y']]);
  });

  it('loads TSV and Parquet', async () => {
    expect((await loadTable(registry, 'acme', 'tabbed', file('t.tsv', 'a\tb\n1\tx y\n2\tz\n'), 'create')).rows).toBe(2);
    expect(await query('SELECT a, b FROM tabbed ORDER BY a')).toEqual([[1n, 'x y'], [2n, 'z']]);
    const pq = path.join(dir, 'p.parquet');
    const mem = await DuckDBInstance.create(':memory:');
    const c = await mem.connect();
    await c.run(`COPY (SELECT i AS n, 'row ' || i AS label FROM range(100) t(i)) TO '${pq}' (FORMAT parquet)`);
    c.disconnectSync();
    mem.closeSync();
    expect((await loadTable(registry, 'acme', 'pq', pq, 'create')).rows).toBe(100);
    expect((await loadTable(registry, 'acme', 'pq', pq, 'append')).rows).toBe(100);
    expect(await query('SELECT count(*), sum(n) FROM pq')).toEqual([[200n, 9900n]]);
  });

  it('a bad file loads nothing and leaves the current snapshot as it was', async () => {
    await loadTable(registry, 'acme', 'items', file('a.csv', csv), 'create');
    const current = (await getTenant(registry, 'acme')).snapshot!;
    const bytes = fs.readFileSync(path.join(registry.tenantDir('acme'), current));

    const cases: [string, string, 'create' | 'replace' | 'append', RegExp][] = [
      ['letters.csv', 'id,name,amount\n5,e,1\nfive,f,2\n', 'append', /Could not convert string "five"/],
      ['extra.csv', 'id,name,amount\n5,e,1,extra\n6,f,2\n', 'replace', /cannot load/],
      // The sniffer would otherwise skip the first lines and take the last one as the header.
      ['ragged.csv', 'id,name,amount\n5,e,1\n6,f,2,extra\n', 'replace', /cannot load/],
      ['unterminated.csv', 'id,name,amount\n5,"e,1\n6,f,2\n', 'replace', /cannot load/],
      ['columns.csv', 'id,nom\n5,e\n', 'append', /missing name, amount; not in the table: nom/],
      ['subset.csv', 'id,name\n5,e\n', 'append', /missing amount/],
      ['parquet.parquet', 'not parquet at all', 'replace', /cannot load/],
    ];
    for (const [name, text, mode, error] of cases) {
      await expect(loadTable(registry, 'acme', 'items', file(name, text), mode), name).rejects.toThrow(error);
    }
    await expect(loadTable(registry, 'acme', 'items', path.join(dir, 'missing.csv'), 'append')).rejects.toThrow(
      /^file not found: /,
    );
    await expect(loadTable(registry, 'acme', 'items', file('empty.csv', ''), 'append')).rejects.toThrow(/file is empty/);
    await expect(loadTable(registry, 'acme', 'items', file('x.json', '{}'), 'append')).rejects.toThrow(
      /unsupported file type ".json"/,
    );
    await expect(loadTable(registry, 'acme', 'nope', file('n.csv', 'a\n1\n'), 'append')).rejects.toThrow(
      'table nope does not exist',
    );
    await expect(loadTable(registry, 'acme', 'Bad', file('n2.csv', 'a\n1\n'), 'create')).rejects.toThrow(/invalid table name/);
    await expect(loadTable(registry, 'acme', 'pg_class', file('n3.csv', 'a\n1\n'), 'create')).rejects.toThrow(/reserved/);
    await expect(loadTable(registry, 'acme', 'items', dir, 'append')).rejects.toThrow(/unsupported file type|not a regular file/);

    expect((await getTenant(registry, 'acme')).snapshot).toBe(current);
    expect(tenantFiles()).toEqual([current]);
    expect(fs.readFileSync(path.join(registry.tenantDir('acme'), current)).equals(bytes)).toBe(true);
    expect(await query('SELECT count(*) FROM items')).toEqual([[3n]]);
  });

  it('keeps lines that start with # (no comment syntax in data files)', async () => {
    expect((await loadTable(registry, 'acme', 'tags', file('h.csv', 'tag,n\n#one,1\n#two,2\n'), 'create')).rows).toBe(2);
    expect(await query('SELECT tag FROM tags ORDER BY n')).toEqual([['#one'], ['#two']]);
  });

  it('errors are single-line TenantErrors', async () => {
    await loadTable(registry, 'acme', 'items', file('a.csv', csv), 'create');
    try {
      await loadTable(registry, 'acme', 'items', file('bad.csv', 'id,name,amount\nx,y,z\n'), 'append');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TenantError);
      expect((e as Error).message).not.toContain('\n');
    }
    expect(summarizeDuckDBError(new Error('Binder Error: x\n\nDid you mean y'))).toBe('Binder Error: x');
  });
});
