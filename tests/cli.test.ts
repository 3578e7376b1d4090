// The operator CLI, run as a real process (`node --import tsx src/cli/main.ts ...`) on a
// temporary data directory. Spawning costs ~0.5 s, so independent commands run in parallel.
import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry, type RegistryData } from '../src/tenants/registry.js';
import { expectError, expectOk, tg } from './support/cli.js';
import { querySnapshot } from './support/snapshot.js';

let tmp: string;
let seq = 0;

/** A fresh data directory for one test. */
function dataDir(): string {
  return path.join(tmp, `data${++seq}`);
}

function readRegistry(data: string): RegistryData {
  return JSON.parse(fs.readFileSync(path.join(data, 'registry.json'), 'utf8')) as RegistryData;
}

const queryTenant = (data: string, tenant: string, sql: string) => querySnapshot(new Registry(data), tenant, sql);

function writeFile(name: string, text: string): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, text);
  return p;
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantgate-cli-'));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('tenantgate CLI', () => {
  it('manages tenants: add, list, show, suspend, resume, remove', async () => {
    const data = dataDir();
    const d = ['--data', data];
    const pw = 'first-password-1';
    const [acme, beta] = await Promise.all([
      tg(['tenant', 'add', 'acme', '--plan', 'free', '--name', 'Acme Corp', '--password-stdin', ...d], { input: `${pw}\n` }),
      // $TENANTGATE_DATA is the default data directory.
      tg(['tenant', 'add', 'beta', '--plan', 'pro', '--password', 'beta-password'], { env: { TENANTGATE_DATA: data } }),
    ]);
    expectOk(acme);
    expect(acme.stdout).toBe('tenant acme created (plan free, isolation database, user acme)\n');
    expect(acme.stderr).toBe('');
    expectOk(beta);
    expect(beta.stderr).toContain('--password is visible in the process list');

    const reg = readRegistry(data);
    expect(Object.keys(reg.tenants).sort()).toEqual(['acme', 'beta']);
    expect(reg.tenants.acme).toMatchObject({ name: 'Acme Corp', plan: 'free', isolation: 'database', status: 'active', snapshot: null });
    expect(reg.tenants.acme!.users.map((u) => u.name)).toEqual(['acme']);
    const regText = fs.readFileSync(path.join(data, 'registry.json'), 'utf8');
    expect(regText).not.toContain(pw);
    expect(regText).not.toContain('beta-password');
    expect(fs.statSync(path.join(data, 'registry.json')).mode & 0o777).toBe(0o600);

    const [suspend, list, listJson, show, showJson] = await Promise.all([
      tg(['tenant', 'suspend', 'beta', ...d]),
      tg(['tenant', 'list', ...d]),
      tg(['tenant', 'list', '--json', ...d]),
      tg(['tenant', 'show', 'acme', ...d]),
      tg(['tenant', 'show', 'acme', '--json', ...d]),
    ]);
    for (const r of [suspend, list, listJson, show, showJson]) expectOk(r);
    expect(suspend.stdout).toBe('tenant beta suspended\n');
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+PLAN\s+ISOLATION\s+STATUS\s+USERS\s+DATA$/);
    expect(lines[1]).toMatch(/^acme\s+Acme Corp\s+free\s+database\s+(active|suspended)\s+1\s+no$/);
    expect(lines[2]).toMatch(/^beta\s+beta\s+pro\s+database\s+(active|suspended)\s+1\s+no$/);
    // Columns are aligned.
    expect(lines[1]!.indexOf('free')).toBe(lines[0]!.indexOf('PLAN'));
    const json = JSON.parse(listJson.stdout) as { id: string; users: { name: string }[] }[];
    expect(json.map((t) => t.id)).toEqual(['acme', 'beta']);
    expect(json[0]!.users).toEqual([{ name: 'acme', createdAt: expect.any(String) }]);
    for (const out of [listJson.stdout, show.stdout, showJson.stdout, list.stdout]) {
      expect(out).not.toMatch(/scram|storedKey|serverKey|salt/);
      expect(out).not.toContain(reg.tenants.acme!.users[0]!.scram.storedKey);
    }
    expect(show.stdout).toMatch(/^id:\s+acme$/m);
    expect(show.stdout).toMatch(/^plan:\s+free \(memory 256MB, 2 threads, 1 user\)$/m);
    expect(show.stdout).toMatch(/^users:\s+acme$/m);
    expect(show.stdout).toMatch(/^data:\s+none$/m);
    expect(JSON.parse(showJson.stdout)).toMatchObject({ id: 'acme', name: 'Acme Corp', snapshot: null });

    const [again, resume] = await Promise.all([
      tg(['tenant', 'suspend', 'beta', ...d]),
      tg(['tenant', 'resume', 'acme', ...d]),
    ]);
    // After resume, not beside it: the two touch the same tenant.
    const remove = await tg(['tenant', 'remove', 'acme', ...d]);
    expectOk(again);
    expect(again.stdout).toBe('tenant beta is already suspended\n');
    expectOk(resume);
    expectOk(remove);
    expect(remove.stdout).toBe('tenant acme removed\n');
    const after = readRegistry(data);
    expect(Object.keys(after.tenants)).toEqual(['beta']);
    expect(after.tenants.beta!.status).toBe('suspended');
    expect(fs.existsSync(path.join(data, 'tenants', 'acme'))).toBe(false);
  });

  it('reports every error on one line with a non-zero exit status', async () => {
    const data = dataDir();
    const d = ['--data', data];
    expectOk(await tg(['tenant', 'add', 'acme', '--plan', 'free', '--password-stdin', ...d], { input: 'acme-password\n' }));
    const csv = writeFile('one.csv', 'a\n1\n');
    const cases: [string[], number, string | RegExp, string?][] = [
      [['tenant', 'add', 'acme', '--plan', 'free', '--password', 'acme-password'], 1, 'tenant acme already exists'],
      [['tenant', 'add', '../x', '--plan', 'free', '--password-stdin'], 2, 'invalid tenant id "../x"', 'x'],
      [['tenant', 'add', 'beta', '--plan', 'gold', '--password-stdin'], 2, 'unknown plan "gold" (known plans: free, pro, enterprise)'],
      [['tenant', 'add', 'beta', '--plan', 'free'], 2, 'a password is required'],
      [['tenant', 'add', 'beta', '--plan', 'free', '--password', 'x1234567', '--password-stdin'], 2, /cannot be used with/],
      [['tenant', 'add', 'beta', '--plan', 'free', '--password-stdin'], 2, 'password read from standard input is empty', '\n'],
      [['tenant', 'add', 'beta', '--plan', 'free', '--password-stdin'], 2, 'password is too short (at least 8 characters)', 'short\n'],
      [['tenant', 'add', 'beta', '--plan', 'free', '--isolation', 'hybrid', '--password-stdin'], 2, 'unknown isolation "hybrid" (use database or shared)', 'long-enough\n'],
      [['tenant', 'add', 'beta', '--password-stdin'], 2, "required option '--plan <plan>' not specified"],
      [['tenant', 'show', 'nope'], 1, 'unknown tenant "nope"'],
      [['tenant', 'frobnicate'], 2, /unknown command 'frobnicate'/],
      [['user', 'add', 'acme', 'Bob', '--password', 'bob-password'], 2, 'invalid user name "Bob"'],
      [['user', 'remove', 'acme', 'acme'], 1, 'cannot remove acme: it is the last user of tenant acme'],
      [['load', 'acme', 't', path.join(tmp, 'missing.csv')], 1, /file not found: .*missing\.csv$/],
      [['load', 'acme', 't', path.join(tmp, 'file.xlsx')], 2, 'unsupported file type ".xlsx"'],
      [['load', 'acme', 't', csv, '--replace', '--append'], 2, /cannot be used with/],
      [['load', 'acme', 't', csv, '--append'], 1, 'table t does not exist'],
    ];
    const results = await Promise.all(cases.map(([args, , , input]) => tg([...args, ...d], { input })));
    results.forEach((r, i) => {
      const [args, code, message] = cases[i]!;
      try {
        expectError(r, code, message);
      } catch (e) {
        throw new Error(`tenantgate ${args.join(' ')}: ${(e as Error).message}`);
      }
    });
    expect(Object.keys(readRegistry(data).tenants)).toEqual(['acme']);
  });

  it('manages users: add, remove, passwd, plan limits; stores no passwords', async () => {
    const data = dataDir();
    const d = ['--data', data];
    await Promise.all([
      tg(['tenant', 'add', 'freeco', '--plan', 'free', '--password-stdin', ...d], { input: 'freeco-password\n' }),
      tg(['tenant', 'add', 'proco', '--plan', 'pro', '--password-stdin', ...d], { input: 'proco-password\n' }),
    ]).then((rs) => rs.forEach(expectOk));

    const addBob = await tg(['user', 'add', 'proco', 'bob', '--password-stdin', ...d], { input: 'bob-secret-one\n' });
    expectOk(addBob);
    expect(addBob.stdout).toBe('user bob added to tenant proco\n');
    const [carol, freeLimit] = await Promise.all([
      tg(['user', 'add', 'proco', 'carol', '--password-stdin', ...d], { input: 'carol-secret\r\n' }),
      tg(['user', 'add', 'freeco', 'bob', '--password-stdin', ...d], { input: 'bob-secret-one\n' }),
    ]);
    expectOk(carol);
    expectError(freeLimit, 1, 'plan free allows 1 user; tenant freeco has 1 already');
    expectError(
      await tg(['user', 'add', 'proco', 'dave', '--password-stdin', ...d], { input: 'dave-secret\n' }),
      1,
      'plan pro allows 3 users; tenant proco has 3 already',
    );

    const before = readRegistry(data).tenants.proco!.users.find((u) => u.name === 'bob')!.scram;
    const passwd = await tg(['user', 'passwd', 'proco', 'bob', '--password-stdin', ...d], { input: 'bob-secret-two\n' });
    expectOk(passwd);
    expect(passwd.stdout).toBe('password of user bob in tenant proco changed\n');
    const after = readRegistry(data).tenants.proco!.users.find((u) => u.name === 'bob')!.scram;
    expect(after.storedKey).not.toBe(before.storedKey);
    expect(after.serverKey).not.toBe(before.serverKey);

    const remove = await tg(['user', 'remove', 'proco', 'carol', ...d]);
    expectOk(remove);
    expect(readRegistry(data).tenants.proco!.users.map((u) => u.name)).toEqual(['proco', 'bob']);

    const text = fs.readFileSync(path.join(data, 'registry.json'), 'utf8');
    for (const pw of ['freeco-password', 'proco-password', 'bob-secret-one', 'bob-secret-two', 'carol-secret']) {
      expect(text).not.toContain(pw);
    }
  });

  it('loads CSV and Parquet, with --replace and --append', async () => {
    const data = dataDir();
    const d = ['--data', data];
    expectOk(await tg(['tenant', 'add', 'acme', '--plan', 'pro', '--password-stdin', ...d], { input: 'acme-password\n' }));

    const pq = path.join(tmp, 'events.parquet');
    const mem = await DuckDBInstance.create(':memory:');
    const c = await mem.connect();
    await c.run(
      `COPY (SELECT i AS id, 'event ' || i AS label, DATE '2025-01-01' + i::INTEGER AS day FROM range(1, 251) t(i))
         TO '${pq}' (FORMAT parquet)`,
    );
    c.disconnectSync();
    mem.closeSync();
    const csv1 = writeFile('items1.csv', 'id,name,price\n1,Café crème,3.80\n2,寿司セット,28.50\n3,"Party pack 🎉",34.00\n');

    const [loadCsv, loadPq] = await Promise.all([tg(['load', 'acme', 'items', csv1, ...d]), tg(['load', 'acme', 'events', pq, ...d])]);
    expectOk(loadCsv);
    expect(loadCsv.stdout).toMatch(/^loaded 3 rows into acme\.items \(snapshot \d{6}-[0-9a-f]{8}\.duckdb\)\n$/);
    expectOk(loadPq);
    expect(loadPq.stdout).toMatch(/^loaded 250 rows into acme\.events/);
    expect(await queryTenant(data, 'acme', 'SELECT id, name, price FROM items ORDER BY id')).toEqual([
      [1n, 'Café crème', 3.8],
      [2n, '寿司セット', 28.5],
      [3n, 'Party pack 🎉', 34],
    ]);
    expect(await queryTenant(data, 'acme', `SELECT count(*), max(label), max(day)::VARCHAR FROM events`)).toEqual([
      [250n, 'event 99', '2025-09-08'],
    ]);

    const exists = await tg(['load', 'acme', 'items', csv1, ...d]);
    expectError(exists, 1, 'table items already exists; use --replace or --append');

    const csv2 = writeFile('items2.csv', 'price,id,name\n1.25,4,appended\n2.50,5,also appended\n');
    const append = await tg(['load', 'acme', 'items', csv2, '--append', ...d]);
    expectOk(append);
    expect(append.stdout).toMatch(/^appended 2 rows into acme\.items/);
    expect(await queryTenant(data, 'acme', 'SELECT count(*), sum(id) FROM items')).toEqual([[5n, 15n]]);

    const replace = await tg(['load', 'acme', 'events', csv2, '--replace', ...d]);
    expectOk(replace);
    expect(await queryTenant(data, 'acme', 'SELECT count(*) FROM events')).toEqual([[2n]]);

    // Only the current snapshot is left in the tenant's directory.
    const reg = readRegistry(data);
    expect(fs.readdirSync(path.join(data, 'tenants', 'acme'))).toEqual([reg.tenants.acme!.snapshot]);
    const show = await tg(['tenant', 'list', ...d]);
    expect(show.stdout).toMatch(/^acme\s.*\syes$/m);
  });

  it('a malformed file loads nothing and the previous snapshot stays current and intact', async () => {
    const data = dataDir();
    const d = ['--data', data];
    expectOk(await tg(['tenant', 'add', 'acme', '--plan', 'pro', '--password-stdin', ...d], { input: 'acme-password\n' }));
    expectOk(await tg(['load', 'acme', 'nums', writeFile('nums.csv', 'n,label\n1,one\n2,two\n'), ...d]));
    const snap = readRegistry(data).tenants.acme!.snapshot!;
    const snapPath = path.join(data, 'tenants', 'acme', snap);
    const bytes = fs.readFileSync(snapPath);

    const notNumeric = writeFile('bad-type.csv', `n,label\n${Array.from({ length: 500 }, (_, i) => `${i + 3},ok`).join('\n')}\nthree,bad\n`);
    const truncated = writeFile('truncated.csv', 'n,label\n3,three\n4,"fo');
    const ragged = writeFile('ragged.csv', 'n,label\n3,three\n4,four,extra\n');
    const [r1, r2, r3, r4] = await Promise.all([
      tg(['load', 'acme', 'nums', notNumeric, '--append', ...d]),
      tg(['load', 'acme', 'nums', truncated, '--append', ...d]),
      tg(['load', 'acme', 'nums', ragged, '--replace', ...d]),
      tg(['load', 'acme', 'other', truncated, ...d]),
    ]);
    expectError(r1, 1, /cannot load .*bad-type\.csv into nums: .*Could not convert string "three"/);
    expectError(r2, 1, /cannot load .*truncated\.csv into nums/);
    expectError(r3, 1, /cannot load .*ragged\.csv into nums/);
    expectError(r4, 1, /cannot load .*truncated\.csv into other/);

    expect(readRegistry(data).tenants.acme!.snapshot).toBe(snap);
    expect(fs.readdirSync(path.join(data, 'tenants', 'acme'))).toEqual([snap]);
    expect(fs.readFileSync(snapPath).equals(bytes)).toBe(true);
    expect(await queryTenant(data, 'acme', 'SELECT count(*), sum(n) FROM nums')).toEqual([[2n, 3n]]);
    expect(await queryTenant(data, 'acme', "SELECT count(*) FROM information_schema.tables WHERE table_name = 'other'")).toEqual([[0n]]);
  });

  it('8 concurrent commands lose no update', async () => {
    const data = dataDir();
    const d = ['--data', data];
    expectOk(await tg(['tenant', 'add', 'big', '--plan', 'enterprise', '--password-stdin', ...d], { input: 'big-password\n' }));
    const results = await Promise.all([
      ...[1, 2, 3, 4].map((i) =>
        tg(['tenant', 'add', `t${i}`, '--plan', 'pro', '--password-stdin', ...d], { input: `tenant-${i}-password\n` }),
      ),
      ...[1, 2, 3, 4].map((i) => tg(['user', 'add', 'big', `u${i}`, '--password-stdin', ...d], { input: `user-${i}-password\n` })),
    ]);
    results.forEach(expectOk);
    const reg = readRegistry(data);
    expect(Object.keys(reg.tenants).sort()).toEqual(['big', 't1', 't2', 't3', 't4']);
    expect(reg.tenants.big!.users.map((u) => u.name).sort()).toEqual(['big', 'u1', 'u2', 'u3', 'u4']);
    expect(fs.existsSync(path.join(data, 'registry.json.lock'))).toBe(false);
    expect(fs.readdirSync(data).filter((f) => f.startsWith('registry.json'))).toEqual(['registry.json']);
  });

  it('two concurrent loads into one tenant both land', async () => {
    const data = dataDir();
    const d = ['--data', data];
    expectOk(await tg(['tenant', 'add', 'acme', '--plan', 'pro', '--password-stdin', ...d], { input: 'acme-password\n' }));
    expectOk(await tg(['load', 'acme', 'events', writeFile('e0.csv', 'id,src\n0,seed\n'), ...d]));
    const a = writeFile('ea.csv', `id,src\n${Array.from({ length: 1000 }, (_, i) => `${i + 1},a`).join('\n')}\n`);
    const b = writeFile('eb.csv', `id,src\n${Array.from({ length: 1000 }, (_, i) => `${i + 1001},b`).join('\n')}\n`);
    const [ra, rb] = await Promise.all([tg(['load', 'acme', 'events', a, '--append', ...d]), tg(['load', 'acme', 'events', b, '--append', ...d])]);
    expectOk(ra);
    expectOk(rb);
    expect(await queryTenant(data, 'acme', 'SELECT src, count(*) FROM events GROUP BY src ORDER BY src')).toEqual([
      ['a', 1000n],
      ['b', 1000n],
      ['seed', 1n],
    ]);
    const snap = readRegistry(data).tenants.acme!.snapshot!;
    expect(snap).toMatch(/^000003-/);
    expect(fs.readdirSync(path.join(data, 'tenants', 'acme'))).toEqual([snap]);
  });

  it('demo creates three tenants with data; --if-missing leaves existing ones alone', async () => {
    const data = dataDir();
    const d = ['--data', data];
    const first = await tg(['demo', ...d]);
    expectOk(first);
    expect(first.stdout).toContain(
      'PGPASSWORD=acme-demo-password psql "host=127.0.0.1 port=6432 dbname=acme user=acme sslmode=verify-full sslrootcert=certs/ca.crt"',
    );
    expect(first.stdout).toContain('PGPASSWORD=globex-demo-password psql');
    expect(first.stdout).toContain('PGPASSWORD=initech-demo-password psql');
    const reg = readRegistry(data);
    expect(Object.fromEntries(Object.values(reg.tenants).map((t) => [t.id, t.plan]))).toEqual({
      acme: 'free',
      globex: 'pro',
      initech: 'enterprise',
    });
    const [again, ifMissing] = await Promise.all([tg(['demo', ...d]), tg(['demo', '--if-missing', ...d])]);
    expectError(again, 1, 'demo tenant acme already exists');
    expectOk(ifMissing);
    expect(ifMissing.stdout).toContain('acme (plan free): already exists, left unchanged');
    expect(readRegistry(data)).toEqual(reg);
    expect(await queryTenant(data, 'globex', 'SELECT count(*) FROM orders')).toEqual([[3500n]]);
    expect(await queryTenant(data, 'initech', 'SELECT count(*) > 0 FROM daily_summary')).toEqual([[true]]);
  });

  it('--help describes every command', async () => {
    const cmds = [[], ['tenant', 'add'], ['load'], ['serve']];
    const results = await Promise.all(cmds.map((c) => tg([...c, '--help'])));
    results.forEach((r, i) => {
      expectOk(r);
      expect(r.stdout, cmds[i]!.join(' ')).toMatch(/^Usage: tenantgate/);
    });
    const [top, add, load, serve] = results.map((r) => r.stdout);
    for (const c of ['serve', 'tenant', 'user', 'load', 'shared', 'split', 'demo']) expect(top).toContain(c);
    for (const o of ['--plan', '--isolation', '--name', '--password-stdin', '--password', '--data']) expect(add).toContain(o);
    expect(add!.replace(/\s+/g, ' ')).toContain(
      '--isolation <mode> where its data live: database (a DuckDB file of its own) or shared (its rows in the shared database)',
    );
    for (const o of ['--replace', '--append', '--data', '.parquet', 'shared isolation']) expect(load).toContain(o);
    for (const o of ['--data', '--host', '--port', '--config', '--demo']) expect(serve).toContain(o);
  });
});
