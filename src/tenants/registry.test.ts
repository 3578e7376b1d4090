import { createScramSha256Data } from 'pg-gateway';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, TenantError } from './ids.js';
import {
  Registry,
  addTenant,
  addUser,
  emptyRegistry,
  getTenant,
  parseRegistry,
  removeTenant,
  removeUser,
  resolveDataDir,
  setTenantStatus,
  setUserPassword,
  tenantSummary,
  type RegistryData,
} from './registry.js';

let dir: string;
let registry: Registry;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantgate-registry-'));
  registry = new Registry(path.join(dir, 'data'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const PASSWORD = 'correct horse battery';

async function validRegistryJson(): Promise<RegistryData> {
  const scram = await createScramSha256Data(PASSWORD);
  const at = '2025-01-01T00:00:00.000Z';
  return {
    version: 1,
    tenants: {
      acme: {
        id: 'acme',
        name: 'Acme',
        plan: 'free',
        isolation: 'database',
        status: 'active',
        users: [{ name: 'acme', scram, createdAt: at }],
        snapshot: '000001-0123abcd.duckdb',
        createdAt: at,
        updatedAt: at,
      },
    },
    shared: { snapshot: null },
  };
}

describe('Registry paths', () => {
  it('lays out the data directory', () => {
    expect(registry.path).toBe(path.join(dir, 'data', 'registry.json'));
    expect(registry.tenantDir('acme')).toBe(path.join(dir, 'data', 'tenants', 'acme'));
    expect(() => registry.tenantDir('../x')).toThrow(InvalidArgumentError);
    expect(registry.sharedDir).toBe(path.join(dir, 'data', 'shared'));
    expect(registry.tmpDir).toBe(path.join(dir, 'data', 'tmp'));
  });

  it('resolves the snapshot path of a tenant', async () => {
    const data = await validRegistryJson();
    const t = data.tenants.acme!;
    expect(registry.snapshotPath(t)).toBe(path.join(dir, 'data', 'tenants', 'acme', '000001-0123abcd.duckdb'));
    expect(registry.snapshotPath({ ...t, snapshot: null })).toBeNull();
    expect(() => registry.snapshotPath({ ...t, snapshot: '../../etc/passwd' })).toThrow(TenantError);
  });

  it('resolves the path of the shared database', async () => {
    const data = await validRegistryJson();
    expect(registry.sharedSnapshotPath(data)).toBeNull();
    data.shared.snapshot = '000003-89abcdef.duckdb';
    expect(registry.sharedSnapshotPath(data)).toBe(path.join(dir, 'data', 'shared', '000003-89abcdef.duckdb'));
    data.shared.snapshot = '../registry.json';
    expect(() => registry.sharedSnapshotPath(data)).toThrow(TenantError);
    expect(() => parseRegistry(JSON.stringify(data))).toThrow(/shared\.snapshot: not a snapshot file name/);
  });

  it('resolves the data directory from --data, then $TENANTGATE_DATA, then ./data', () => {
    const saved = process.env.TENANTGATE_DATA;
    try {
      delete process.env.TENANTGATE_DATA;
      expect(resolveDataDir()).toBe(path.resolve('data'));
      process.env.TENANTGATE_DATA = '/srv/tg';
      expect(resolveDataDir()).toBe('/srv/tg');
      expect(resolveDataDir('rel')).toBe(path.resolve('rel'));
    } finally {
      if (saved === undefined) delete process.env.TENANTGATE_DATA;
      else process.env.TENANTGATE_DATA = saved;
    }
  });
});

describe('Registry.read / update', () => {
  it('an absent file is an empty registry', async () => {
    expect(await registry.read()).toEqual(emptyRegistry());
    expect(fs.existsSync(registry.path)).toBe(false);
  });

  it('writes the file with mode 0600 and reads it back', async () => {
    const t = await addTenant(registry, { id: 'acme', plan: 'free', password: PASSWORD });
    expect(t.users.map((u) => u.name)).toEqual(['acme']);
    expect(fs.statSync(registry.path).mode & 0o777).toBe(0o600);
    const data = await registry.read();
    expect(data.tenants.acme).toEqual(t);
    expect(fs.existsSync(registry.lockPath)).toBe(false);
  });

  it('a throwing update writes nothing', async () => {
    await addTenant(registry, { id: 'acme', plan: 'free', password: PASSWORD });
    const before = fs.readFileSync(registry.path);
    await expect(
      registry.update((data) => {
        data.tenants.acme!.status = 'suspended';
        delete data.tenants.acme;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(fs.readFileSync(registry.path).equals(before)).toBe(true);
    await expect(
      registry.update(async (data) => {
        data.tenants.acme!.name = 'changed';
        await new Promise((r) => setTimeout(r, 5));
        throw new Error('async boom');
      }),
    ).rejects.toThrow('async boom');
    expect(fs.readFileSync(registry.path).equals(before)).toBe(true);
    // The lock was released both times.
    expect(fs.existsSync(registry.lockPath)).toBe(false);
  });

  it('an update producing an invalid registry writes nothing', async () => {
    await addTenant(registry, { id: 'acme', plan: 'free', password: PASSWORD });
    const before = fs.readFileSync(registry.path);
    await expect(
      registry.update((data) => {
        data.tenants.acme!.users = [];
      }),
    ).rejects.toThrow(/at least one user/);
    await expect(
      registry.update((data) => {
        data.tenants['Bad-Id'] = { ...data.tenants.acme!, id: 'Bad-Id' };
      }),
    ).rejects.toThrow(/invalid tenant id/);
    await expect(
      registry.update((data) => {
        data.tenants.acme!.snapshot = '../other/000001-0123abcd.duckdb';
      }),
    ).rejects.toThrow(/snapshot/);
    expect(fs.readFileSync(registry.path).equals(before)).toBe(true);
  });

  it('returns what fn returns', async () => {
    expect(await registry.update(() => 42)).toBe(42);
    expect(await registry.update(async () => 'x')).toBe('x');
  });

  it('parallel updates lose nothing', async () => {
    const ids = Array.from({ length: 16 }, (_, i) => `t${i}`);
    // Separate Registry objects, as separate processes would have.
    await Promise.all(ids.map((id) => addTenant(new Registry(registry.dataDir), { id, plan: 'pro', password: PASSWORD })));
    const data = await registry.read();
    expect(Object.keys(data.tenants).sort()).toEqual([...ids].sort());
  });

  it('waits for a held lock, and takes over a stale one', async () => {
    fs.mkdirSync(registry.dataDir, { recursive: true });
    // Held by someone else: the update waits until it is released.
    fs.mkdirSync(registry.lockPath);
    let done = false;
    const p = registry.update(() => void (done = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(done).toBe(false);
    fs.rmdirSync(registry.lockPath);
    await p;
    expect(done).toBe(true);

    // Left behind by a crashed process (not refreshed for a minute): taken over.
    fs.mkdirSync(registry.lockPath);
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(registry.lockPath, old, old);
    await registry.update((data) => {
      data.shared.snapshot = null;
    });
    expect(fs.existsSync(registry.lockPath)).toBe(false);
  });
});

describe('parseRegistry', () => {
  it('accepts a valid registry', async () => {
    const data = await validRegistryJson();
    expect(parseRegistry(JSON.stringify(data))).toEqual(data);
  });

  it('names the file when the JSON is corrupt', () => {
    expect(() => parseRegistry('{"version": 1, "tenants": {', '/data/registry.json')).toThrow(
      /^registry \/data\/registry\.json is corrupt: not valid JSON/,
    );
    expect(() => parseRegistry('')).toThrow(TenantError);
  });

  it('names the file and the field when the content is invalid', async () => {
    const data = await validRegistryJson();
    const bad = (mutate: (d: any) => void): string => {
      const copy = JSON.parse(JSON.stringify(data));
      mutate(copy);
      return JSON.stringify(copy);
    };
    expect(() => parseRegistry(bad((d) => (d.version = 2)), '/d/registry.json')).toThrow(
      /^registry \/d\/registry\.json is invalid: version/,
    );
    expect(() => parseRegistry(bad((d) => (d.tenants.acme.plan = 7)))).toThrow(/tenants\.acme\.plan/);
    expect(() => parseRegistry(bad((d) => (d.tenants.acme.isolation = 'hybrid'))))
      .toThrow(/tenants\.acme\.isolation/);
    expect(() => parseRegistry(bad((d) => (d.tenants.acme.id = 'other')))).toThrow(/differs from its key/);
    expect(() => parseRegistry(bad((d) => d.tenants.acme.users.push(d.tenants.acme.users[0])))).toThrow(
      /duplicate user "acme"/,
    );
    expect(() => parseRegistry(bad((d) => delete d.tenants.acme.users[0].scram.storedKey))).toThrow(/storedKey/);
    expect(() => parseRegistry(bad((d) => (d.tenants.acme.users[0].password = 'x')))).toThrow(/password/);
    expect(() => parseRegistry(bad((d) => (d.tenants['../x'] = { ...d.tenants.acme, id: '../x' })))).toThrow(
      /invalid tenant id/,
    );
    expect(() => parseRegistry('[]')).toThrow(/invalid/);
  });

  it('a corrupt file on disk is reported by read() and blocks updates', async () => {
    fs.mkdirSync(registry.dataDir, { recursive: true });
    fs.writeFileSync(registry.path, '{"version":1,"tenants":{"acme":');
    await expect(registry.read()).rejects.toThrow(`registry ${registry.path} is corrupt`);
    await expect(addTenant(registry, { id: 'beta', plan: 'free', password: PASSWORD })).rejects.toThrow(/corrupt/);
    expect(fs.readFileSync(registry.path, 'utf8')).toBe('{"version":1,"tenants":{"acme":');
  });
});

describe('tenant and user operations', () => {
  it('adds a tenant whose first user is named like it, storing no password', async () => {
    const t = await addTenant(registry, { id: 'acme', plan: 'pro', password: PASSWORD, name: ' Acme Corp ' });
    expect(t).toMatchObject({ id: 'acme', name: 'Acme Corp', plan: 'pro', isolation: 'database', status: 'active', snapshot: null });
    expect(t.users).toHaveLength(1);
    expect(t.users[0]!.name).toBe('acme');
    expect(Object.keys(t.users[0]!.scram).sort()).toEqual(['iterations', 'salt', 'serverKey', 'storedKey']);
    expect(fs.readFileSync(registry.path, 'utf8')).not.toContain(PASSWORD);
  });

  it('refuses duplicates, bad ids, unknown plans and short passwords', async () => {
    await addTenant(registry, { id: 'acme', plan: 'free', password: PASSWORD });
    await expect(addTenant(registry, { id: 'acme', plan: 'free', password: PASSWORD })).rejects.toThrow(
      'tenant acme already exists',
    );
    await expect(addTenant(registry, { id: 'A', plan: 'free', password: PASSWORD })).rejects.toThrow(InvalidArgumentError);
    await expect(addTenant(registry, { id: 'beta', plan: 'gold', password: PASSWORD })).rejects.toThrow(/unknown plan/);
    await expect(addTenant(registry, { id: 'beta', plan: 'free', password: 'short' })).rejects.toThrow(/too short/);
    await expect(addTenant(registry, { id: 'beta', plan: 'free', password: PASSWORD, isolation: 'hybrid' as 'shared' })).rejects.toThrow(
      'unknown isolation "hybrid"',
    );
    expect(Object.keys((await registry.read()).tenants)).toEqual(['acme']);
  });

  it('adds a tenant with shared isolation: no snapshot of its own', async () => {
    const t = await addTenant(registry, { id: 'beta', plan: 'free', password: PASSWORD, isolation: 'shared' });
    expect(t).toMatchObject({ id: 'beta', isolation: 'shared', snapshot: null });
    expect((await getTenant(registry, 'beta')).isolation).toBe('shared');
    expect((await registry.read()).shared.snapshot).toBeNull();
  });

  it('enforces the plan user limit', async () => {
    await addTenant(registry, { id: 'free_t', plan: 'free', password: PASSWORD });
    await expect(addUser(registry, 'free_t', 'bob', PASSWORD)).rejects.toThrow(
      'plan free allows 1 user; tenant free_t has 1 already',
    );
    await addTenant(registry, { id: 'pro_t', plan: 'pro', password: PASSWORD });
    await addUser(registry, 'pro_t', 'bob', PASSWORD);
    await addUser(registry, 'pro_t', 'carol', PASSWORD);
    await expect(addUser(registry, 'pro_t', 'dave', PASSWORD)).rejects.toThrow('plan pro allows 3 users');
    await addTenant(registry, { id: 'ent', plan: 'enterprise', password: PASSWORD });
    for (let i = 0; i < 5; i++) await addUser(registry, 'ent', `u${i}`, PASSWORD);
    expect((await getTenant(registry, 'ent')).users).toHaveLength(6);
  });

  it('adds, removes and re-keys users', async () => {
    await addTenant(registry, { id: 'acme', plan: 'pro', password: PASSWORD });
    await addUser(registry, 'acme', 'bob', 'bobs password');
    await expect(addUser(registry, 'acme', 'bob', 'bobs password')).rejects.toThrow('user bob already exists');
    await expect(addUser(registry, 'nope', 'bob', PASSWORD)).rejects.toThrow('unknown tenant "nope"');
    const before = (await getTenant(registry, 'acme')).users.find((u) => u.name === 'bob')!.scram;
    await setUserPassword(registry, 'acme', 'bob', 'a new password');
    const after = (await getTenant(registry, 'acme')).users.find((u) => u.name === 'bob')!.scram;
    expect(after.storedKey).not.toBe(before.storedKey);
    expect(after.salt).not.toBe(before.salt);
    await expect(setUserPassword(registry, 'acme', 'nobody', PASSWORD)).rejects.toThrow('unknown user nobody');
    await removeUser(registry, 'acme', 'acme');
    await expect(removeUser(registry, 'acme', 'bob')).rejects.toThrow(/last user of tenant acme/);
    expect((await getTenant(registry, 'acme')).users.map((u) => u.name)).toEqual(['bob']);
    const text = fs.readFileSync(registry.path, 'utf8');
    for (const pw of [PASSWORD, 'bobs password', 'a new password']) expect(text).not.toContain(pw);
  });

  it('suspends, resumes and removes tenants', async () => {
    await addTenant(registry, { id: 'acme', plan: 'free', password: PASSWORD });
    expect(await setTenantStatus(registry, 'acme', 'suspended')).toBe(true);
    expect(await setTenantStatus(registry, 'acme', 'suspended')).toBe(false);
    expect((await getTenant(registry, 'acme')).status).toBe('suspended');
    expect(await setTenantStatus(registry, 'acme', 'active')).toBe(true);
    fs.mkdirSync(registry.tenantDir('acme'), { recursive: true });
    fs.writeFileSync(path.join(registry.tenantDir('acme'), '000001-0123abcd.duckdb'), 'x');
    await removeTenant(registry, 'acme');
    expect(fs.existsSync(registry.tenantDir('acme'))).toBe(false);
    await expect(getTenant(registry, 'acme')).rejects.toThrow('unknown tenant "acme"');
    await expect(removeTenant(registry, 'acme')).rejects.toThrow('unknown tenant "acme"');
  });

  it('summaries carry no verifiers', async () => {
    const t = await addTenant(registry, { id: 'acme', plan: 'free', password: PASSWORD });
    const s = JSON.stringify(tenantSummary(t));
    expect(s).not.toContain('scram');
    expect(s).not.toContain(t.users[0]!.scram.storedKey);
    expect(tenantSummary(t).users).toEqual([{ name: 'acme', createdAt: t.createdAt }]);
  });
});
