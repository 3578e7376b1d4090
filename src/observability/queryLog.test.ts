import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { capText, QUERY_LOG_FILE, QueryLog } from './queryLog.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantgate-qlog-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const rec = (text: string) => ({
  time: new Date().toISOString(),
  tenant: 'acme',
  user: 'acme',
  app: '',
  client: '127.0.0.1',
  fingerprint: '0123456789abcdef',
  text,
  protocol: 'simple' as const,
  ms: 1,
  rows: 0,
  bytes: 10,
  outcome: 'ok' as const,
  sqlstate: '00000',
});

const lines = (file: string) => fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('query log', () => {
  it('appends JSON lines, caps the text, and appends again after a reopen', async () => {
    const dir = tempDir();
    let log = new QueryLog({ dir, maxFileBytes: 1 << 20, keepFiles: 2, maxTextBytes: 10, flushMs: 60_000 });
    log.record(rec('SELECT 1'));
    log.record(rec('SELECT 1234567890123'));
    await log.close();
    log = new QueryLog({ dir, maxFileBytes: 1 << 20, keepFiles: 2, maxTextBytes: 10, flushMs: 60_000 });
    log.record(rec('SELECT 2'));
    await log.close();
    const got = lines(path.join(dir, QUERY_LOG_FILE));
    expect(got.map((r) => r.text)).toEqual(['SELECT 1', 'SELECT 123', 'SELECT 2']);
    expect(got[1]!.truncated).toBe(true);
    expect(got[0]!.truncated).toBeUndefined();
  });

  it('rotates at maxFileBytes and keeps keepFiles rotated files', async () => {
    const dir = tempDir();
    const log = new QueryLog({ dir, maxFileBytes: 4096, keepFiles: 2, maxTextBytes: 4096, flushMs: 60_000 });
    for (let i = 0; i < 12; i++) {
      log.record(rec(`SELECT ${i} ${'x'.repeat(1500)}`));
      await log.flush();
    }
    await log.close();
    const files = fs.readdirSync(dir).sort();
    expect(files).toContain(QUERY_LOG_FILE);
    expect(files.filter((f) => f.startsWith('queries-'))).toHaveLength(2);
    for (const f of files) expect(fs.statSync(path.join(dir, f)).size).toBeLessThanOrEqual(4096);
    // The newest records are in the current file.
    expect(lines(path.join(dir, QUERY_LOG_FILE)).at(-1)!.text).toMatch(/^SELECT 11 /);
  });

  it('drops and counts records when its buffer is full, never blocking', async () => {
    const dir = tempDir();
    let dropped = 0;
    const log = new QueryLog({ dir, maxFileBytes: 1 << 20, keepFiles: 1, maxTextBytes: 100, maxBuffered: 3, flushMs: 60_000, onDrop: (n) => (dropped += n) });
    for (let i = 0; i < 5; i++) log.record(rec(`SELECT ${i}`));
    expect(dropped).toBe(2);
    await log.close();
    const got = lines(path.join(dir, QUERY_LOG_FILE));
    expect(got.map((r) => r.text ?? `dropped ${String(r.dropped)}`)).toEqual(['SELECT 0', 'SELECT 1', 'SELECT 2', 'dropped 2']);
  });

  it('cuts text at a character boundary', () => {
    expect(capText('ab€cd', 4)).toEqual({ text: 'ab', truncated: true });
    expect(capText('abc', 3)).toEqual({ text: 'abc', truncated: false });
  });
});
