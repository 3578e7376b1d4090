import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateQuota } from './rateQuota.js';

let tmp: string;
let seq = 0;
const file = (): string => path.join(tmp, `quotas${++seq}.json`);
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantgate-quota-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A clock the test moves. */
const clock = (start = 1_700_000_000_000) => {
  const c = { t: start, now: () => c.t };
  return c;
};

describe('RateQuota', () => {
  it('gives a tenant its limit at once, then one token per 60 s / limit; other tenants have their own', () => {
    const c = clock();
    const q = new RateQuota({ now: c.now });
    for (let i = 0; i < 3; i++) expect(q.take('a', 3, 0)).toEqual({ ok: true, waitMs: 0 });
    expect(q.take('a', 3, 0)).toEqual({ ok: false, retryInMs: 20_000 });
    expect(q.take('b', 3, 0)).toEqual({ ok: true, waitMs: 0 });
    c.t += 19_000;
    expect(q.take('a', 3, 0)).toMatchObject({ ok: false });
    c.t += 1_000;
    expect(q.take('a', 3, 0)).toEqual({ ok: true, waitMs: 0 });
    // Never more than the limit, however long it was unused.
    c.t += 3_600_000;
    expect(q.tokens('a', 3)).toBe(3);
  });

  it('promises the next tokens to waiting queries in order, within the longest wait', () => {
    const c = clock();
    const q = new RateQuota({ now: c.now });
    q.take('a', 60, 0);
    for (let i = 1; i < 60; i++) q.take('a', 60, 0);
    expect(q.take('a', 60, 2500)).toEqual({ ok: true, waitMs: 1000 });
    expect(q.take('a', 60, 2500)).toEqual({ ok: true, waitMs: 2000 });
    // The third would wait 3 s: refused, and nothing is taken.
    expect(q.take('a', 60, 2500)).toEqual({ ok: false, retryInMs: 3000 });
    expect(q.take('a', 60, 2500)).toEqual({ ok: false, retryInMs: 3000 });
    // A waiting query that gives up gives its token back.
    q.giveBack('a', 60);
    expect(q.take('a', 60, 2500)).toEqual({ ok: true, waitMs: 2000 });
  });

  it('follows a changed limit at once: refills at the new rate, never above the new size', () => {
    const c = clock();
    const q = new RateQuota({ now: c.now });
    for (let i = 0; i < 5; i++) q.take('a', 5, 0);
    expect(q.take('a', 5, 2000)).toMatchObject({ ok: false });
    // Raised to 600 a minute: a token every 100 ms, so the next one comes within the wait.
    expect(q.take('a', 600, 2000)).toMatchObject({ ok: true });
    c.t += 60_000;
    expect(q.tokens('a', 600)).toBeGreaterThan(500);
    // Lowered: the bucket holds no more than the new limit.
    expect(q.tokens('a', 2)).toBe(2);
  });

  it('keeps the buckets across a restart; time while stopped refills them', async () => {
    const c = clock();
    const f = file();
    const q = new RateQuota({ file: f, now: c.now });
    for (let i = 0; i < 4; i++) q.take('a', 4, 0);
    q.take('b', 4, 0);
    await q.close();
    const saved = JSON.parse(fs.readFileSync(f, 'utf8')) as { buckets: Record<string, { tokens: number }> };
    expect(Object.keys(saved.buckets).sort()).toEqual(['a', 'b']);
    expect((fs.statSync(f).mode & 0o777).toString(8)).toBe('600');

    const again = new RateQuota({ file: f, now: c.now });
    expect(again.take('a', 4, 0)).toMatchObject({ ok: false });
    expect(again.tokens('b', 4)).toBe(3);
    c.t += 15_000;
    expect(again.take('a', 4, 0)).toEqual({ ok: true, waitMs: 0 });
    // Full buckets are not written: the same as a bucket never used.
    c.t += 60_000;
    again.take('b', 4, 0);
    c.t += 60_000;
    await again.save();
    expect(JSON.parse(fs.readFileSync(f, 'utf8'))).toMatchObject({ buckets: {} });
  });

  it('writes changes by itself, at most once per interval', async () => {
    const f = file();
    const q = new RateQuota({ file: f, saveIntervalMs: 20 });
    q.take('a', 10, 0);
    expect(fs.existsSync(f)).toBe(false);
    for (let i = 0; i < 200 && !fs.existsSync(f); i++) await new Promise((r) => setTimeout(r, 10));
    const saved = JSON.parse(fs.readFileSync(f, 'utf8')) as { buckets: Record<string, { tokens: number }> };
    expect(saved.buckets.a!.tokens).toBeLessThan(10);
    await q.close();
  });

  it('starts afresh, with a word, from a file it cannot read', () => {
    const f = file();
    fs.writeFileSync(f, '{"version": 1, "buck');
    const errors: string[] = [];
    const q = new RateQuota({ file: f, onError: (m) => errors.push(m) });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('not valid JSON');
    expect(q.take('a', 1, 0)).toEqual({ ok: true, waitMs: 0 });
    fs.writeFileSync(f, 'null');
    new RateQuota({ file: f, onError: (m) => errors.push(m) });
    expect(errors[1]).toContain('not a quota file');
  });
});
