import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginThrottle } from '../src/server/loginThrottle.js';
import { pgConnect } from './support/clients.js';
import { addTestTenant, startGateway, type TestGateway } from './support/gateway.js';

const PW = 'throttle-test-password';
const ALICE_PW = 'alice-password-1';

async function loginError(gw: TestGateway, login: { tenant: string; user?: string; password: string }): Promise<pg.DatabaseError | null> {
  try {
    const c = await pgConnect(gw, login);
    await c.query('SELECT 1');
    await c.end();
    return null;
  } catch (e) {
    return e as pg.DatabaseError;
  }
}

const THROTTLED = { code: '28000', message: 'too many failed login attempts; try again later' };

describe('failed logins throttled per tenant/user pair', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ loginMaxFailuresPerUser: 3, loginMaxFailuresPerAddress: 1000, loginLockoutMs: 600_000 });
    await addTestTenant(gw.registry, 'acme', PW, { users: [['alice', ALICE_PW]] });
  });
  afterAll(() => gw.stop());

  it('refuses even the right password once a user had too many failures, leaves other users alone', async () => {
    expect(await loginError(gw, { tenant: 'acme', password: PW })).toBeNull();
    for (let i = 0; i < 3; i++) {
      expect(await loginError(gw, { tenant: 'acme', password: 'wrong password' })).toMatchObject({ code: '28P01' });
    }
    expect(await loginError(gw, { tenant: 'acme', password: PW })).toMatchObject(THROTTLED);
    expect(await loginError(gw, { tenant: 'acme', password: 'wrong password' })).toMatchObject(THROTTLED);
    // Another user of the same tenant, from the same address, is not affected.
    expect(await loginError(gw, { tenant: 'acme', user: 'alice', password: ALICE_PW })).toBeNull();
    const logs = gw.logs.join('\n');
    expect(logs).toMatch(/login throttled: too many failed logins for this user/);
    expect(logs).toMatch(/login refused: throttled/);
    expect(logs).not.toContain(PW);
    expect(logs).not.toContain('wrong password');
  });

  it('throttles an unknown user exactly like a known one, so it reveals nothing', async () => {
    for (const user of ['mallory']) {
      for (let i = 0; i < 3; i++) {
        const e = await loginError(gw, { tenant: 'acme', user, password: 'guess' });
        expect(e).toMatchObject({ code: '28P01', message: `password authentication failed for user "${user}"` });
      }
      expect(await loginError(gw, { tenant: 'acme', user, password: 'guess' })).toMatchObject(THROTTLED);
    }
    for (let i = 0; i < 3; i++) await loginError(gw, { tenant: 'nosuch', password: 'guess' });
    expect(await loginError(gw, { tenant: 'nosuch', password: 'guess' })).toMatchObject(THROTTLED);
  });

  it('does not slow or count successful logins', async () => {
    for (let i = 0; i < 5; i++) {
      expect(await loginError(gw, { tenant: 'acme', user: 'alice', password: ALICE_PW })).toBeNull();
    }
  });
});

describe('failed logins throttled per client address', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ loginMaxFailuresPerAddress: 3, loginMaxFailuresPerUser: 1000, loginLockoutMs: 1500 });
    await addTestTenant(gw.registry, 'acme', PW, { users: [['alice', ALICE_PW]] });
  });
  afterAll(() => gw.stop());

  it('refuses every login from an address with too many failures, across users, until the lock-out ends', async () => {
    await loginError(gw, { tenant: 'acme', password: 'wrong' });
    await loginError(gw, { tenant: 'acme', user: 'bob', password: 'wrong' });
    await loginError(gw, { tenant: 'other', password: 'wrong' });
    expect(await loginError(gw, { tenant: 'acme', user: 'alice', password: ALICE_PW })).toMatchObject(THROTTLED);
    expect(gw.logs.join('\n')).toMatch(/login throttled: too many failed logins from this address/);
    // The lock-out ends by itself (1.5 s here); then the right password works again.
    let e: pg.DatabaseError | null = THROTTLED as pg.DatabaseError;
    const end = Date.now() + 20_000;
    while (e && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 200));
      e = await loginError(gw, { tenant: 'acme', user: 'alice', password: ALICE_PW });
      if (e) expect(e).toMatchObject(THROTTLED);
    }
    expect(e).toBeNull();
  });
});

describe('LoginThrottle memory', () => {
  it('keeps at most its cap of counters under a burst from many addresses', () => {
    let now = 0;
    const t = new LoginThrottle({ perAddress: 3, perUser: 3, windowMs: 60_000, lockoutMs: 60_000 }, 100, () => now);
    for (let i = 0; i < 10_000; i++) t.fail(`10.0.${i >> 8}.${i & 255}`, 'acme', `user${i}`);
    expect(t.byAddress.size).toBe(100);
    expect(t.byUser.size).toBe(100);
    // A key that keeps failing stays and locks, whatever else comes through.
    for (let i = 0; i < 3; i++) {
      t.fail('192.0.2.1', 'acme', 'acme');
      for (let j = 0; j < 50; j++) t.fail(`198.51.100.${j}`, 'x', `y${j}`);
    }
    expect(t.check('192.0.2.1', 'other', 'other')).toMatchObject({ kind: 'address' });
    now += 60_001;
    expect(t.check('192.0.2.1', 'other', 'other')).toBeNull();
  });
});
