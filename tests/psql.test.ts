import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireCommand, run } from './support/clients.js';
import { addTestTenant, startGateway, type TestGateway } from './support/gateway.js';

const PW = 'psql-test-password';
const hasPsql = requireCommand('psql');

describe.runIf(hasPsql)('psql over TLS with SCRAM', () => {
  let gw: TestGateway;
  let conninfo: string;
  beforeAll(async () => {
    gw = await startGateway();
    await addTestTenant(gw.registry, 'acme', PW, {
      sql: ["CREATE TABLE orders AS SELECT i AS id, 'Café crème ☕' AS product FROM range(3) t(i)"],
    });
    conninfo = `host=127.0.0.1 port=${gw.port} dbname=acme user=acme sslmode=verify-full sslrootcert=${gw.caFile}`;
  });
  afterAll(() => gw.stop());

  const psql = (args: string[], password = PW) =>
    run('psql', [conninfo, '-X', ...args], { env: { PGPASSWORD: password, PGCONNECT_TIMEOUT: '10' } });

  it('connects with sslmode=verify-full and queries', async () => {
    const r = await psql(['-A', '-t', '-c', 'SELECT id, product FROM orders ORDER BY id']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('0|Café crème ☕\n1|Café crème ☕\n2|Café crème ☕\n');
    const info = await psql(['-c', '\\conninfo']);
    expect(info.stdout).toMatch(/SSL connection \(protocol: TLSv1\.[23]/);
  });

  it('prints errors with their SQLSTATE and refuses writes', async () => {
    const r = await psql(['-v', 'VERBOSITY=verbose', '-c', 'DELETE FROM orders']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/ERROR:\s+25006: cannot execute DELETE in a read-only transaction/);
  });

  it('reports a wrong password as psql users know it', async () => {
    const r = await psql(['-c', 'SELECT 1'], 'not the password');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/password authentication failed for user "acme"/);
  });

  it('cancels a running query on Ctrl-C (CancelRequest in plaintext while TLS is required)', async () => {
    const child = spawn('psql', [conninfo, '-X', '-c', 'SELECT sum(a.i * b.i) FROM range(100000000) a(i), range(100000) b(i)'], {
      env: { ...process.env, PGPASSWORD: PW },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const end = Date.now() + 10_000;
    while (gw.gateway.runningQueries === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(stderr).toMatch(/canceling statement due to user request/);
    expect(code).not.toBe(0);
  });
});
