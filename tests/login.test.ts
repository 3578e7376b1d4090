import fs from 'node:fs';
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, setTenantStatus } from '../src/tenants/registry.js';
import { pgConnect } from './support/clients.js';
import { addTestTenant, startGateway, type TestGateway } from './support/gateway.js';

const PW = 'correct horse battery';

describe('login', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
    await addTestTenant(gw.registry, 'acme', PW, { users: [['alice', 'alice-password-1']] });
    await addTestTenant(gw.registry, 'frozen', PW);
    await setTenantStatus(gw.registry, 'frozen', 'suspended');
  });
  afterAll(() => gw.stop());

  async function loginError(login: { tenant: string; user?: string; password: string }) {
    try {
      const c = await pgConnect(gw, login);
      await c.end();
    } catch (e) {
      return e as pg.DatabaseError;
    }
    throw new Error('login unexpectedly succeeded');
  }

  it('accepts the right password over TLS with SCRAM and reports the session parameters', async () => {
    const c = await pgConnect(gw, { tenant: 'acme', password: PW }, { application_name: 'login-test' });
    const params = (c as unknown as { connection: { parameters?: Record<string, string> } }).connection;
    const r = await c.query('SELECT 1 AS one');
    expect(r.rows).toEqual([{ one: 1 }]);
    // node-postgres records ParameterStatus messages here
    const status = (c as unknown as { connectionParameters: unknown; processID: number; secretKey: number });
    expect(status.processID).toBeGreaterThan(0);
    expect(params).toBeDefined();
    const show = await c.query('SHOW application_name');
    expect(show.rows).toEqual([{ application_name: 'login-test' }]);
    await c.end();
  });

  it('sends BackendKeyData and every ParameterStatus a client expects', async () => {
    const statuses: Record<string, string> = {};
    const c = new pg.Client({
      host: '127.0.0.1', port: gw.port, database: 'acme', user: 'acme', password: PW,
      ssl: { ca: fs.readFileSync(gw.caFile) },
    });
    (c as unknown as { connection: { on: (e: string, f: (m: { parameterName: string; parameterValue: string }) => void) => void } })
      .connection.on('parameterStatus', (m) => (statuses[m.parameterName] = m.parameterValue));
    await c.connect();
    expect(statuses.server_version).toMatch(/^16\.\d+$/);
    for (const name of ['server_encoding', 'client_encoding', 'DateStyle', 'TimeZone', 'integer_datetimes',
      'standard_conforming_strings', 'application_name', 'is_superuser', 'session_authorization']) {
      expect(statuses, name).toHaveProperty(name);
    }
    expect(statuses.session_authorization).toBe('acme');
    expect(statuses.is_superuser).toBe('off');
    expect(statuses.integer_datetimes).toBe('on');
    expect((c as unknown as { processID: number }).processID).toBeGreaterThan(0);
    await c.end();
  });

  it('lets a second user of the tenant in with its own password', async () => {
    const c = await pgConnect(gw, { tenant: 'acme', user: 'alice', password: 'alice-password-1' });
    expect((await c.query('SELECT current_database() AS db')).rows).toEqual([{ db: 'acme' }]);
    await c.end();
  });

  it('refuses a wrong password with 28P01', async () => {
    const e = await loginError({ tenant: 'acme', password: 'wrong password' });
    expect(e.code).toBe('28P01');
    expect(e.message).toBe('password authentication failed for user "acme"');
  });

  it('refuses an unknown user and an unknown tenant exactly like a wrong password', async () => {
    const unknownUser = await loginError({ tenant: 'acme', user: 'mallory', password: PW });
    const unknownTenant = await loginError({ tenant: 'nosuch', password: PW });
    expect(unknownUser.code).toBe('28P01');
    expect(unknownUser.message).toBe('password authentication failed for user "mallory"');
    expect(unknownTenant.code).toBe('28P01');
    expect(unknownTenant.message).toBe('password authentication failed for user "nosuch"');
  });

  it('gives an unknown user a stable made-up salt, so repeated tries cannot tell it apart', async () => {
    const { Authenticator } = await import('../src/server/auth.js');
    const auth = new Authenticator(gw.gateway.live, Buffer.alloc(32, 7));
    const a = await auth.credentials('acme', 'mallory');
    const b = await auth.credentials('acme', 'mallory');
    const real = await auth.credentials('acme', 'acme');
    expect(a.account).toBeNull();
    expect(a.scram.salt).toBe(b.scram.salt);
    expect(a.scram.iterations).toBe(real.scram.iterations);
    expect(Buffer.from(a.scram.salt, 'base64').length).toBe(Buffer.from(real.scram.salt, 'base64').length);
  });

  it('refuses a suspended tenant with 28000 only after a correct password', async () => {
    const right = await loginError({ tenant: 'frozen', password: PW });
    expect(right.code).toBe('28000');
    expect(right.message).toMatch(/suspended/);
    const wrong = await loginError({ tenant: 'frozen', password: 'wrong password' });
    expect(wrong.code).toBe('28P01');
  });

  it('takes a resumed tenant back without restart', async () => {
    await setTenantStatus(gw.registry, 'frozen', 'active');
    const c = await pgConnect(gw, { tenant: 'frozen', password: PW });
    await c.end();
    await setTenantStatus(gw.registry, 'frozen', 'suspended');
  });

  it('ends an open session of a tenant that gets suspended, at its next statement', async () => {
    const c = await pgConnect(gw, { tenant: 'acme', password: PW });
    expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    // Other registry changes leave the session alone.
    await addUser(gw.registry, 'acme', 'bob', 'bob-password-1');
    expect((await c.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
    await setTenantStatus(gw.registry, 'acme', 'suspended');
    try {
      await expect(c.query('SELECT 3')).rejects.toMatchObject({ code: '28000', message: 'tenant "acme" is suspended' });
    } finally {
      await setTenantStatus(gw.registry, 'acme', 'active');
    }
  });

  it('refuses plaintext when TLS is required', async () => {
    const c = new pg.Client({ host: '127.0.0.1', port: gw.port, database: 'acme', user: 'acme', password: PW, ssl: false });
    c.on('error', () => {});
    const e = await c.connect().then(() => null, (err: pg.DatabaseError) => err);
    expect(e?.message).toMatch(/SSL connection is required/);
    expect(e?.code).toBe('28000');
  });

  it('answers GSSENCRequest with N and goes on', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const s = net.connect(gw.port, '127.0.0.1', () => {
        const m = Buffer.alloc(8);
        m.writeInt32BE(8, 0);
        m.writeInt32BE(80877104, 4);
        s.write(m);
      });
      s.once('data', (d) => {
        resolve(d.toString('latin1'));
        s.destroy();
      });
      s.once('error', reject);
    });
    expect(reply).toBe('N');
  });

  it('never logs a password or SCRAM data', () => {
    const all = gw.logs.join('\n');
    expect(all).not.toContain(PW);
    expect(all).not.toContain('alice-password-1');
    expect(all).not.toMatch(/storedKey|serverKey|clientProof/);
    expect(all).toMatch(/authentication failed/);
  });
});

describe('plaintext allowed', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ allowPlaintext: true });
    await addTestTenant(gw.registry, 'acme', PW);
  });
  afterAll(() => gw.stop());

  it('accepts both plaintext and TLS when allowPlaintext is set', async () => {
    const plain = new pg.Client({ host: '127.0.0.1', port: gw.port, database: 'acme', user: 'acme', password: PW, ssl: false });
    await plain.connect();
    expect((await plain.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
    await plain.end();
    const tls = await pgConnect(gw, { tenant: 'acme', password: PW });
    expect((await tls.query('SELECT 3 AS three')).rows).toEqual([{ three: 3 }]);
    await tls.end();
  });
});
