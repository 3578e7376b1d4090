// Plans through the operator CLI (a real process) and a running gateway that picks up
// plan changes without a restart.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryData } from '../src/tenants/registry.js';
import { expectError, expectOk, tg } from './support/cli.js';
import { pgConnect, rawTypes } from './support/clients.js';
import { addTestTenant, startGateway, type TestGateway } from './support/gateway.js';

let tmp: string;
let seq = 0;
const dataDir = (): string => path.join(tmp, `data${++seq}`);
const readRegistry = (data: string): RegistryData =>
  JSON.parse(fs.readFileSync(path.join(data, 'registry.json'), 'utf8')) as RegistryData;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantgate-plans-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('tenantgate plan', () => {
  it('lists and shows the built-in plans in a stable format', async () => {
    const d = ['--data', dataDir()];
    const [list, show, json, unknown] = await Promise.all([
      tg(['plan', 'list', ...d]),
      tg(['plan', 'show', 'free', ...d]),
      tg(['plan', 'list', '--json', ...d]),
      tg(['plan', 'show', 'gold', ...d]),
    ]);
    expectOk(list);
    expect(list.stdout).toBe(
      [
        'NAME        MEMORY  THREADS  USERS      TIMEOUT  MAX_ROWS   MAX_BYTES  CONCURRENT  CONNECTIONS  QPM        HISTORY  SOURCE',
        'free        256MB   2        1          30s      100000     64MB       2           5            60         7        built-in',
        'pro         1GB     4        3          5min     1000000    512MB      3           20           600        all      built-in',
        'enterprise  4GB     8        unlimited  30min    unlimited  unlimited  8           100          unlimited  all      built-in',
        '',
      ].join('\n'),
    );
    expectOk(show);
    expect(show.stdout).toBe(
      [
        'name: free',
        'memory: 256MB',
        'threads: 2',
        'max-users: 1',
        'statement-timeout: 30s',
        'max-rows: 100000',
        'max-bytes: 64MB',
        'max-concurrent: 2',
        'max-connections: 5',
        'queries-per-minute: 60',
        'history-days: 7',
        'max-query-bytes: 64KB',
        'source: built-in',
        '',
      ].join('\n'),
    );
    expectOk(json);
    const plans = JSON.parse(json.stdout) as { name: string; statementTimeoutMs: number; maxResultRows: number | null }[];
    expect(plans.map((p) => p.name)).toEqual(['free', 'pro', 'enterprise']);
    expect(plans[0]).toMatchObject({ statementTimeoutMs: 30_000, maxResultRows: 100_000, source: 'built-in' });
    expectError(unknown, 2, 'unknown plan "gold" (known plans: free, pro, enterprise)');
  });

  it('creates and changes plans, stored in the registry; tenants move between plans', async () => {
    const data = dataDir();
    const d = ['--data', data];
    const created = await tg(['plan', 'set', 'team', '--from', 'pro', '--max-users', '10', '--statement-timeout', '2min', '--max-bytes', '100MB', ...d]);
    expectOk(created);
    expect(created.stdout).toContain('plan team created\nname: team\nmemory: 1GB\n');
    expect(created.stdout).toContain('max-users: 10\nstatement-timeout: 2min\n');
    expect(created.stdout).toContain('max-bytes: 100MB\n');
    expect(readRegistry(data).plans?.team).toMatchObject({ name: 'team', maxUsers: 10, statementTimeoutMs: 120_000, maxResultBytes: 100 * 1024 * 1024 });

    // A built-in plan changed by the operator: its other limits stay.
    const changed = await tg(['plan', 'set', 'free', '--max-rows', 'unlimited', '--memory', '512MB', ...d]);
    expectOk(changed);
    expect(changed.stdout).toContain('plan free updated\n');
    const show = await tg(['plan', 'show', 'free', ...d]);
    expect(show.stdout).toContain('memory: 512MB\nthreads: 2\n');
    expect(show.stdout).toContain('max-rows: unlimited\n');
    expect(show.stdout).toContain('source: registry\n');
    const list = await tg(['plan', 'list', ...d]);
    expect(list.stdout.split('\n').filter((l) => l !== '').map((l) => l.split(/\s{2,}/)[0])).toEqual(['NAME', 'free', 'pro', 'enterprise', 'team']);

    const [bad1, bad2, bad3, bad4] = await Promise.all([
      tg(['plan', 'set', 'x1', '--threads', '0', ...d]),
      tg(['plan', 'set', 'x2', '--statement-timeout', 'soon', ...d]),
      tg(['plan', 'set', 'Bad Name', ...d]),
      tg(['plan', 'set', 'free', '--from', 'pro', ...d]),
    ]);
    expectError(bad1, 2, 'invalid thread count "0"');
    expectError(bad2, 2, 'invalid duration "soon"');
    expectError(bad3, 2, 'invalid plan name');
    expectError(bad4, 2, 'plan free exists already: --from is for a new plan');
    expect(Object.keys(readRegistry(data).plans ?? {}).sort()).toEqual(['free', 'team']);

    expectOk(await tg(['tenant', 'add', 'acme', '--plan', 'team', '--password', 'acme-password-1', ...d]));
    const [moved, unknown, noTenant] = await Promise.all([
      tg(['tenant', 'set', 'acme', '--plan', 'enterprise', ...d]),
      tg(['tenant', 'set', 'acme', '--plan', 'gold', ...d]),
      tg(['tenant', 'set', 'nobody', '--plan', 'pro', ...d]),
    ]);
    expectOk(moved);
    expect(moved.stdout).toBe('tenant acme: plan team -> enterprise\n');
    expectError(unknown, 2, 'unknown plan "gold" (known plans: free, pro, enterprise, team)');
    expectError(noTenant, 1, 'unknown tenant "nobody"');
    const again = await tg(['tenant', 'set', 'acme', '--plan', 'enterprise', ...d]);
    expect(again.stdout).toBe('tenant acme is already on plan enterprise\n');
    expect(readRegistry(data).tenants.acme!.plan).toBe('enterprise');

    // Users over the plan's count: neither added nor kept by a move to a smaller plan.
    expectOk(await tg(['user', 'add', 'acme', 'bob', '--password', 'bob-password-1', ...d]));
    expectError(await tg(['tenant', 'set', 'acme', '--plan', 'free', ...d]), 1, 'plan free allows 1 user; tenant acme has 2: remove users first');
    expectOk(await tg(['plan', 'set', 'team', '--max-users', '2', ...d]));
    expectOk(await tg(['tenant', 'set', 'acme', '--plan', 'team', ...d]));
    expectError(await tg(['user', 'add', 'acme', 'carol', '--password', 'carol-password-1', ...d]), 1, 'plan team allows 2 users; tenant acme has 2 already');
    const tenantShow = await tg(['tenant', 'show', 'acme', ...d]);
    expect(tenantShow.stdout).toContain('plan:      team (memory 1GB, 4 threads, 2 users)');
  });

  it('documents the commands and the output format in --help', async () => {
    const [help, set, tenantSet] = await Promise.all([tg(['plan', '--help']), tg(['plan', 'set', '--help']), tg(['tenant', 'set', '--help'])]);
    expect(help.stdout).toContain('NAME MEMORY THREADS USERS TIMEOUT MAX_ROWS MAX_BYTES CONCURRENT CONNECTIONS QPM HISTORY SOURCE');
    for (const opt of ['--memory', '--threads', '--statement-timeout', '--max-rows', '--max-bytes', '--max-concurrent', '--max-connections', '--queries-per-minute', '--history-days', '--max-users']) {
      expect(set.stdout).toContain(opt);
    }
    expect(tenantSet.stdout).toContain('--plan <plan>');
  });
});

describe('a running gateway and plan changes', () => {
  let gw: TestGateway;
  const PW = 'plans-live-password';
  beforeAll(async () => {
    gw = await startGateway();
    await addTestTenant(gw.registry, 'acme', PW, { plan: 'pro' });
  });
  afterAll(() => gw.stop());

  it('applies a changed plan and a tenant moved to another plan at the next statement, in the same session', async () => {
    const d = ['--data', gw.dataDir];
    const c = await pgConnect(gw, { tenant: 'acme', password: PW }, { types: rawTypes });
    const long = `SELECT 1 AS x /* ${'y'.repeat(3000)} */`;
    expect((await c.query(long)).rows).toEqual([{ x: '1' }]);
    // A new plan that allows shorter query texts; the tenant moves to it.
    expectOk(await tg(['plan', 'set', 'tiny', '--from', 'pro', '--max-query-bytes', '2KB', ...d]));
    expectOk(await tg(['tenant', 'set', 'acme', '--plan', 'tiny', ...d]));
    const e = await c.query(long).then(() => null, (x: Error & { code?: string }) => x);
    expect(e?.code).toBe('54000');
    expect(e?.message).toContain('(plan tiny)');
    // The plan itself changed: in force at once as well.
    expectOk(await tg(['plan', 'set', 'tiny', '--max-query-bytes', '8KB', ...d]));
    expect((await c.query(long)).rows).toEqual([{ x: '1' }]);
    await c.end();
  });
});
