import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.js';
import { Registry } from '../src/tenants/registry.js';
import { addTestTenant, certsDir } from './support/gateway.js';
import { startServerProcess, type ServerProcess } from './support/serverProcess.js';
import { ENDLESS_QUERY, until } from './support/wait.js';

const PW = 'shutdown-test-password';
const ROWS = 500_000;
/** The grace period of the server under test: the only time the test depends on. */
const GRACE_MS = 6000;

describe('graceful shutdown of tenantgate serve', () => {
  let dir: string;
  let server: ServerProcess | null = null;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantgate-shutdown-'));
    await addTestTenant(new Registry(dir), 'acme', PW);
  });
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const connect = async (port: number, errors: Error[] = []) => {
    const c = new pg.Client({
      host: '127.0.0.1', port, database: 'acme', user: 'acme', password: PW,
      ssl: { ca: fs.readFileSync(path.join(certsDir(), 'ca.crt')) },
      types: { getTypeParser: () => (v: string) => v },
    });
    // An idle session's FATAL arrives as an 'error' event.
    c.on('error', (e) => errors.push(e));
    await c.connect();
    return c;
  };

  const exitOf = (s: ServerProcess) =>
    new Promise<number | null>((resolve) => {
      if (s.child.exitCode !== null) resolve(s.child.exitCode);
      else s.child.once('exit', (code) => resolve(code));
    });

  it('on SIGTERM stops listening, lets a running query finish, ends the rest with 57P01 at the deadline, exits 0', async () => {
    const s = await startServerProcess(dir, { logLevel: 'info', shutdownGraceMs: GRACE_MS });
    server = s;
    const exited = exitOf(s);

    // An idle session, a query that runs past the deadline, and one that finishes within it.
    const idleErrors: Error[] = [];
    const idle = await connect(s.port, idleErrors);
    const endlessErrors: Error[] = [];
    const endless = await connect(s.port, endlessErrors);
    const endlessResult = endless.query(ENDLESS_QUERY).then(() => null, (e: pg.DatabaseError) => e);
    const drainingErrors: Error[] = [];
    const draining = await connect(s.port, drainingErrors);

    let rows = 0;
    let last = '';
    let signalled = false;
    const q = new pg.Query(`SELECT i FROM range(${ROWS}) t(i)`);
    q.on('row', (row: { i: string }) => {
      rows++;
      last = row.i;
      // The first row is in: the query is running now. Shut the server down.
      if (!signalled) {
        signalled = true;
        s.child.kill('SIGTERM');
      }
    });
    const drained = new Promise<void>((resolve, reject) => {
      q.on('end', () => resolve());
      q.on('error', reject);
      draining.query(q);
    });

    // The idle session is ended at once, with PostgreSQL's words for it.
    await until(() => idleErrors.length > 0, 30_000);
    expect(idleErrors[0]).toMatchObject({ code: '57P01', message: 'terminating connection due to administrator command' });

    // The listener is closed: a new connection is refused.
    await expect(connect(s.port)).rejects.toThrow(/ECONNREFUSED|shutting down/);

    // The running query completes with every row, then its session ends with 57P01.
    await drained;
    expect(rows).toBe(ROWS);
    expect(last).toBe(String(ROWS - 1));
    await until(() => drainingErrors.length > 0);
    expect(drainingErrors[0]).toMatchObject({ code: '57P01' });

    // The query still running at the deadline is ended with FATAL 57P01.
    const e = await endlessResult;
    expect(e).toMatchObject({ code: '57P01', message: 'terminating connection due to administrator command' });

    expect(await exited).toBe(0);
    expect(s.output()).toMatch(/shutting down/);
    expect(s.output()).toMatch(/"msg":"shut down"/);
    void idle;
  });

  it('exits at once on a second signal', async () => {
    const s = await startServerProcess(dir, { logLevel: 'info', shutdownGraceMs: 600_000 });
    server = s;
    const exited = exitOf(s);
    const c = await connect(s.port);
    const running = c.query(ENDLESS_QUERY).then(() => null, (err: Error) => err);
    s.child.kill('SIGTERM');
    await until(() => /draining/.test(s.output()), 30_000);
    s.child.kill('SIGTERM');
    // Bounded by the test's timeout, far below the 10-minute grace period.
    expect(await exited).toBe(1);
    expect(s.output()).toMatch(/second signal/);
    expect(await running).toBeInstanceOf(Error);
  });
});

describe('shutdownGraceMs', () => {
  it('defaults to 30 s and is set by flag, environment or file, in that order', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantgate-shutdown-config-'));
    try {
      const file = path.join(dir, 'config.json');
      fs.writeFileSync(file, JSON.stringify({ shutdownGraceMs: 1000 }));
      expect(loadConfig({}, {}).shutdownGraceMs).toBe(30_000);
      expect(loadConfig({ config: file }, {}).shutdownGraceMs).toBe(1000);
      expect(loadConfig({ config: file }, { TENANTGATE_SHUTDOWN_GRACE_MS: '2000' }).shutdownGraceMs).toBe(2000);
      expect(loadConfig({ config: file, shutdownGrace: '3000' }, { TENANTGATE_SHUTDOWN_GRACE_MS: '2000' }).shutdownGraceMs).toBe(3000);
      expect(() => loadConfig({ shutdownGrace: '5s' }, {})).toThrow(/shutdown grace/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
