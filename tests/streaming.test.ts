import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from '../src/tenants/registry.js';
import { addTestTenant, certsDir } from './support/gateway.js';
import { startServerProcess, type ServerProcess } from './support/serverProcess.js';

const PW = 'streaming-password';
const ROWS = 10_000_000;

describe('large results', () => {
  let dir: string;
  let server: ServerProcess;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantgate-stream-'));
    await addTestTenant(new Registry(dir), 'acme', PW);
    server = await startServerProcess(dir, { logLevel: 'warn' });
  });
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const connect = async () => {
    const c = new pg.Client({
      host: '127.0.0.1', port: server.port, database: 'acme', user: 'acme', password: PW,
      ssl: { ca: fs.readFileSync(path.join(certsDir(), 'ca.crt')) },
      types: { getTypeParser: () => (v: string) => v },
    });
    await c.connect();
    return c;
  };

  it('streams a 10-million-row result with bounded server memory', async () => {
    const c = await connect();
    await c.query('SELECT 1');
    const before = server.peakRss();
    let rows = 0;
    let bytes = 0;
    let last = '';
    const q = new pg.Query(`SELECT i, 'row number ' || i AS label FROM range(${ROWS}) t(i)`);
    q.on('row', (row: { i: string; label: string }) => {
      rows++;
      bytes += row.i.length + row.label.length;
      last = row.i;
    });
    await new Promise<void>((resolve, reject) => {
      q.on('end', () => resolve());
      q.on('error', reject);
      c.query(q);
    });
    const grown = server.peakRss() - before;
    expect(rows).toBe(ROWS);
    expect(last).toBe(String(ROWS - 1));
    // The result is ~250 MB of text: holding it, or even a large part of it, would show here.
    expect(bytes).toBeGreaterThan(200 * 1024 * 1024);
    expect(grown).toBeLessThan(120 * 1024 * 1024);
    await c.end();
  });

  it('lets a slow reader slow only its own query', async () => {
    const slow = await connect();
    const other = await connect();
    const before = server.peakRss();
    // The slow client stops reading its socket; the server must wait for it, not buffer for it.
    const stream = (slow as unknown as { connection: { stream: NodeJS.ReadableStream & { pause(): void; resume(): void } } }).connection.stream;
    let rows = 0;
    const q = new pg.Query(`SELECT i, repeat('x', 100) AS pad FROM range(${ROWS}) t(i)`);
    q.on('row', () => {
      rows++;
      if (rows === 1000) stream.pause();
    });
    const done = new Promise<void>((resolve, reject) => {
      q.on('end', () => resolve());
      q.on('error', reject);
    });
    slow.query(q);
    await new Promise((r) => setTimeout(r, 1500));
    // Meanwhile another session is served at once.
    expect((await other.query('SELECT 42 AS answer')).rows).toEqual([{ answer: '42' }]);
    const grownWhilePaused = server.peakRss() - before;
    expect(grownWhilePaused).toBeLessThan(120 * 1024 * 1024);
    expect(rows).toBeLessThan(ROWS);
    // Hanging up mid-result stops the query; the server keeps serving.
    slow.on('error', () => {});
    await slow.end().catch(() => {});
    void done.catch(() => {});
    expect((await other.query('SELECT 43 AS answer')).rows).toEqual([{ answer: '43' }]);
    await other.end();
  });
});
