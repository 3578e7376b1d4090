// The instance cache on real DuckDB files: the instance cap (least recently used unleased
// instances closed first, never one in use), shared opens, and the tenant catalog files'
// reference counts and bound.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIGINT, DECIMAL, DuckDBInstance, INTEGER } from '@duckdb/node-api';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TenantCatalogInput } from '../catalog/build.js';
import { instanceEvictions } from '../observability/metrics.js';
import { InstanceCache, catalogKey, type DescribeTenants, type InstanceSpec, type Lease } from './instances.js';

const LIMITS = { memoryLimit: '256MB', threads: 1 };

async function evictions(reason: string): Promise<number> {
  return (await instanceEvictions.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

describe('InstanceCache', () => {
  let dir: string;
  let tempRoot: string;
  let cache: InstanceCache | undefined;
  /** The catalog key each owner's instance was last opened with. */
  let keys: Map<string, string>;

  const describeTenants: DescribeTenants = async (spec, _conn, tables) => {
    const tenants: TenantCatalogInput[] = [
      {
        tenantId: spec.owner,
        users: [spec.owner],
        tables: [...tables.values()].map((t) => ({
          name: t.name,
          columns: t.columns.map((name, i) => ({ name, type: t.types[i]!, nullable: t.nullable[i] ?? true })),
        })),
      },
    ];
    keys.set(spec.owner, catalogKey(tenants));
    return { tenants };
  };

  const open = async (maxOpen: number): Promise<InstanceCache> => {
    cache = new InstanceCache({ tempRoot, idleMs: 600_000, logger: pino({ level: 'silent' }), describe: describeTenants, maxOpen });
    await cache.prepare();
    return cache;
  };

  /** A snapshot file whose table t names its owner; `version` makes a distinct file. */
  const snapshot = async (owner: string, version = 1): Promise<string> => {
    const file = path.join(dir, `${owner}-${version}.duckdb`);
    if (fs.existsSync(file)) return file;
    const db = await DuckDBInstance.create(file);
    const conn = await db.connect();
    await conn.run(`CREATE TABLE t AS SELECT '${owner}' AS who, ${version} AS version`);
    conn.closeSync();
    db.closeSync();
    return file;
  };
  const spec = async (owner: string, version = 1): Promise<InstanceSpec> => ({
    owner,
    snapshotPath: await snapshot(owner, version),
    limits: LIMITS,
  });

  const who = async (lease: Lease): Promise<string> => {
    const conn = await lease.connect();
    try {
      const rows = (await conn.runAndReadAll('SELECT who FROM t')).getRowsJS();
      return rows.map((r) => String(r[0])).join(',');
    } finally {
      conn.closeSync();
    }
  };

  /** One query of the owner's data, lease released after. */
  const use = async (c: InstanceCache, owner: string): Promise<void> => {
    const lease = await c.acquire(await spec(owner));
    try {
      expect(await who(lease)).toBe(owner);
    } finally {
      lease.release();
    }
  };

  /** Owners with an instance open now: each has its folder in tempRoot. */
  const openOwners = (): string[] =>
    fs
      .readdirSync(tempRoot, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name.replace(/-[0-9a-f]{8}$/, ''))
      .sort();
  /** Tenant catalog files on disk (the static catalog's name is shorter). */
  const catalogFiles = (): string[] => fs.readdirSync(tempRoot).filter((f) => /^catalog-[0-9a-f]{32}\.duckdb$/.test(f));
  const catalogOf = (owner: string): string => path.join(tempRoot, `catalog-${keys.get(owner)}.duckdb`);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantgate-instances-'));
    tempRoot = path.join(dir, 'tmp');
    keys = new Map();
  });
  afterEach(() => {
    cache?.close();
    cache = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('closes the least recently used unleased instance when one more would exceed the cap', async () => {
    const c = await open(2);
    const before = await evictions('lru');
    await use(c, 'a');
    await use(c, 'b');
    expect(openOwners()).toEqual(['a', 'b']);
    await use(c, 'c');
    expect(c.size).toBe(2);
    expect(openOwners()).toEqual(['b', 'c']);
    // b is used again (a hit), so c is now the least recently used.
    await use(c, 'b');
    await use(c, 'a');
    expect(openOwners()).toEqual(['a', 'b']);
    expect(await evictions('lru')).toBe(before + 2);
  });

  it('opens over the cap when every instance is leased, and closes the surplus as leases end', async () => {
    const c = await open(2);
    const a = await c.acquire(await spec('a'));
    const b = await c.acquire(await spec('b'));
    const x = await c.acquire(await spec('c'));
    expect(c.size).toBe(3);
    const conn = await a.connect(); // a connection held across the other opens
    expect([await who(a), await who(b), await who(x)]).toEqual(['a', 'b', 'c']);
    b.release();
    expect(openOwners()).toEqual(['a', 'c']);
    expect((await conn.runAndReadAll('SELECT who FROM t')).getRowsJS()).toEqual([['a']]);
    expect(await who(x)).toBe('c');
    a.release();
    x.release();
    expect(c.size).toBe(2);
    // Concurrent opens of distinct files all go ahead, then shrink back to the cap.
    const leases = await Promise.all(['d', 'e', 'f', 'g'].map(async (o) => c.acquire(await spec(o))));
    expect(await Promise.all(leases.map(who))).toEqual(['d', 'e', 'f', 'g']);
    for (const l of leases) l.release();
    expect(c.size).toBe(2);
    expect(openOwners()).toEqual(['f', 'g']);
  });

  it('shares one open between concurrent acquires of one file, under any cap', async () => {
    const c = await open(1);
    const s = await spec('a');
    const leases = await Promise.all([c.acquire(s), c.acquire(s), c.acquire(s)]);
    expect(new Set(leases.map((l) => l.key)).size).toBe(1);
    expect(openOwners()).toEqual(['a']);
    leases[0]!.release();
    await use(c, 'b'); // a is still leased twice: it stays
    expect(openOwners()).toEqual(['a']);
    expect(await who(leases[1]!)).toBe('a');
    leases[1]!.release();
    leases[2]!.release();
    expect(openOwners()).toEqual(['a']);
    expect(c.size).toBe(1);
  });

  it('closes a superseded instance at its last release, and counts it as superseded', async () => {
    const c = await open(4);
    const before = await evictions('superseded');
    const old = await c.acquire(await spec('a', 1));
    const fresh = await c.acquire(await spec('a', 2));
    expect(c.size).toBe(2);
    const conn = await old.connect();
    expect((await conn.runAndReadAll('SELECT version FROM t')).getRowsJS()).toEqual([[1]]);
    old.release();
    expect(c.size).toBe(1);
    expect(await evictions('superseded')).toBe(before + 1);
    fresh.release();
    expect(c.size).toBe(1);
  });

  it('keeps catalog files while attached, a few unused ones for reuse, and deletes the rest', async () => {
    const c = await open(2); // keeps min(64, 2) unused files
    const held = await c.acquire(await spec('t0'));
    const heldCatalog = catalogOf('t0');
    const owners = ['t1', 't2', 't3', 't4', 't5', 't6', 't7'];
    for (const o of owners) await use(c, o);
    // t0 is leased (its catalog is attached), t7 is open; t5 and t6 are kept unused.
    expect(openOwners()).toEqual(['t0', 't7']);
    expect(fs.existsSync(heldCatalog)).toBe(true);
    expect(catalogFiles().sort()).toEqual([catalogOf('t0'), catalogOf('t5'), catalogOf('t6'), catalogOf('t7')].map((f) => path.basename(f)).sort());
    expect(c.catalogFileCount).toBe(4);
    expect(await who(held)).toBe('t0');
    // An instance reopened on the same data reuses its file rather than writing it again.
    const inode = fs.statSync(catalogOf('t6')).ino;
    await use(c, 't6');
    expect(fs.statSync(catalogOf('t6')).ino).toBe(inode);
    // t1's was deleted: reopening writes it again.
    expect(fs.existsSync(catalogOf('t1'))).toBe(false);
    await use(c, 't1');
    expect(fs.existsSync(catalogOf('t1'))).toBe(true);
    held.release();
    for (const o of owners) await use(c, o);
    expect(catalogFiles().length).toBeLessThanOrEqual(4);
    expect(c.catalogFileCount).toBe(catalogFiles().length);
  });

  it('keys a catalog by its inputs, types included', () => {
    const input = (type: TenantCatalogInput['tables'][number]['columns'][number]['type'], nullable = true): TenantCatalogInput[] => [
      { tenantId: 'a', users: ['a'], tables: [{ name: 't', columns: [{ name: 'x', type, nullable }] }] },
    ];
    expect(catalogKey(input(INTEGER))).toBe(catalogKey(input(INTEGER)));
    const distinct = [
      catalogKey(input(INTEGER)),
      catalogKey(input(BIGINT)),
      catalogKey(input(DECIMAL(10, 2))),
      catalogKey(input(DECIMAL(10, 3))),
      catalogKey(input(INTEGER, false)),
      catalogKey([{ ...input(INTEGER)[0]!, users: ['a', 'b'] }]),
    ];
    expect(new Set(distinct).size).toBe(distinct.length);
  });
});
