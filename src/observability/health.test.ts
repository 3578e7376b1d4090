import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PLANS, type Plan } from '../tenants/plans.js';
import {
  HEALTH_THRESHOLDS,
  HEALTH_WINDOW_MS,
  addRecord,
  advise,
  emptyUsage,
  formatSize,
  isLimitHit,
  memoryLimitBytes,
  parseLogLine,
  scanQueryLog,
  type AdviceInput,
  type Usage,
} from './health.js';

const NOW = Date.parse('2030-06-15T12:00:00Z');
const DAY = HEALTH_WINDOW_MS;
const MB = 1024 * 1024;
const free = DEFAULT_PLANS.free!;
const pro = DEFAULT_PLANS.pro!;
const enterprise = DEFAULT_PLANS.enterprise!;

const usage = (u: Partial<Usage> = {}): Usage => ({ ...emptyUsage(), lastQuery: NOW - 1000, ...u });

/** A healthy middle-of-the-road tenant; each test changes what its rule looks at. */
function input(over: Partial<AdviceInput> = {}): AdviceInput {
  return {
    isolation: 'database',
    status: 'active',
    plan: pro,
    planName: 'pro',
    createdAt: NOW - 30 * DAY,
    dataBytes: 200 * MB,
    ownRows: null,
    usage: usage({ queries: 5000 }),
    problems: [],
    ...over,
  };
}

const adviceOf = (over: Partial<AdviceInput>) => advise(input(over), NOW).advice;

describe('advice rules', () => {
  it('a tenant within its plan is OK, with no reasons', () => {
    expect(advise(input(), NOW)).toEqual({ advice: ['OK'], reasons: [] });
  });

  it('SCALE_UP when a database tenant\'s data reach half of the plan memory', () => {
    const half = 0.5 * 1024 * MB;
    expect(adviceOf({ dataBytes: half - 1 })).toEqual(['OK']);
    const r = advise(input({ dataBytes: half }), NOW);
    expect(r.advice).toEqual(['SCALE_UP']);
    expect(r.reasons[0]).toMatch(/^SCALE_UP: data 512MB is 50% of plan pro's memory 1GB/);
    // A shared tenant's size is MOVE's business, not its plan's memory (the shared pool serves it).
    expect(adviceOf({ isolation: 'shared', dataBytes: half, ownRows: 10 })).toEqual(['MOVE']);
  });

  it('SCALE_UP when the queries of a day near queries-per-minute x 1440', () => {
    const perDay = free.queriesPerMinute! * 1440;
    const base = { plan: free, planName: 'free', dataBytes: MB };
    expect(adviceOf({ ...base, usage: usage({ queries: Math.ceil(perDay * 0.8) - 1 }) })).toEqual(['OK']);
    const r = advise(input({ ...base, usage: usage({ queries: Math.ceil(perDay * 0.8) }) }), NOW);
    expect(r.advice).toEqual(['SCALE_UP']);
    expect(r.reasons[0]).toContain('of plan free\'s 60/min');
    // No rate limit: no rate rule.
    expect(adviceOf({ plan: enterprise, planName: 'enterprise', usage: usage({ queries: 10_000_000 }) })).toEqual(['OK']);
  });

  it('SCALE_UP on repeated limit hits, naming them', () => {
    const hits = (n: number): Usage => usage({ queries: 100, limitHits: n, limitHitsBySqlstate: { '54000': n - 1, '57014': 1 } });
    expect(adviceOf({ usage: hits(HEALTH_THRESHOLDS.scaleUpLimitHits - 1) })).toEqual(['OK']);
    const r = advise(input({ usage: hits(HEALTH_THRESHOLDS.scaleUpLimitHits) }), NOW);
    expect(r.advice).toEqual(['SCALE_UP']);
    expect(r.reasons[0]).toMatch(/^SCALE_UP: 5 limit hits in 24 h \(54000 result or query size x4, 57014 statement timeout x1; threshold 5\)$/);
    // Applies on the cheapest plan and to shared tenants too.
    expect(adviceOf({ plan: free, planName: 'free', isolation: 'shared', ownRows: 1, dataBytes: 1000, usage: hits(9) })).toEqual(['SCALE_UP']);
  });

  it('SCALE_DOWN for an old, active, paid tenant with little use and little data', () => {
    const idle = { usage: usage({ queries: 3 }), dataBytes: 10 * MB };
    const r = advise(input(idle), NOW);
    expect(r.advice).toEqual(['SCALE_DOWN']);
    expect(r.reasons[0]).toBe("SCALE_DOWN: 3 queries in 24 h (threshold 10) and data 10MB below 5% of plan pro's memory 1GB");
    expect(adviceOf({ ...idle, usage: usage({ queries: 0, lastQuery: null }) })).toEqual(['SCALE_DOWN']);
    expect(adviceOf({ ...idle, plan: enterprise, planName: 'enterprise' })).toEqual(['SCALE_DOWN']);
    // Not on the cheapest plan, nor with more use, more data, a limit hit, suspended, new, or without a query log.
    expect(adviceOf({ ...idle, plan: free, planName: 'free' })).toEqual(['OK']);
    expect(adviceOf({ ...idle, usage: usage({ queries: 11 }) })).toEqual(['OK']);
    expect(adviceOf({ ...idle, dataBytes: Math.ceil(0.05 * 1024 * MB) })).toEqual(['OK']);
    expect(adviceOf({ ...idle, usage: usage({ queries: 3, limitHits: 1, limitHitsBySqlstate: { '53400': 1 } }) })).toEqual(['OK']);
    expect(adviceOf({ ...idle, status: 'suspended' })).toEqual(['OK']);
    expect(adviceOf({ ...idle, createdAt: NOW - DAY + 1 })).toEqual(['OK']);
    expect(adviceOf({ ...idle, usage: null })).toEqual(['OK']);
    expect(adviceOf({ ...idle, dataBytes: null, problems: ['its snapshot x is missing'] })).toEqual(['PROBLEM']);
    // A custom plan is a paid plan.
    const team: Plan = { ...pro, name: 'team' };
    expect(adviceOf({ ...idle, plan: team, planName: 'team' })).toEqual(['SCALE_DOWN']);
  });

  it('MOVE for a shared tenant with many rows of its own or a large share', () => {
    const shared = { isolation: 'shared' as const, dataBytes: 10 * MB, ownRows: HEALTH_THRESHOLDS.moveMinRows - 1 };
    expect(adviceOf(shared)).toEqual(['OK']);
    const r = advise(input({ ...shared, ownRows: HEALTH_THRESHOLDS.moveMinRows }), NOW);
    expect(r.advice).toEqual(['MOVE']);
    expect(r.reasons[0]).toMatch(/^MOVE: 1000000 rows of its own \(threshold 1000000\): give it a database of its own/);
    expect(adviceOf({ ...shared, ownRows: 5, dataBytes: 128 * MB })).toEqual(['MOVE']);
    // A database tenant is never told to move.
    expect(adviceOf({ isolation: 'database', ownRows: null, dataBytes: 300 * MB, usage: usage({ queries: 5000 }) })).toEqual(['OK']);
  });

  it('several pieces of advice come together, in a fixed order, with one reason each', () => {
    const r = advise(
      input({
        isolation: 'shared',
        ownRows: 2_000_000,
        dataBytes: 10 * MB,
        usage: usage({ queries: 100, limitHits: 7, limitHitsBySqlstate: { '53400': 7 } }),
        problems: ['the shared database snapshot x is unreadable: boom'],
      }),
      NOW,
    );
    expect(r.advice).toEqual(['PROBLEM', 'SCALE_UP', 'MOVE']);
    expect(r.reasons.map((x) => x.split(':')[0])).toEqual(['PROBLEM', 'SCALE_UP', 'MOVE']);
  });

  it('a plan that does not exist is a PROBLEM, and no plan rule runs', () => {
    const r = advise(input({ plan: null, planName: 'gone', dataBytes: 10 * 1024 * MB, usage: usage({ queries: 0 }) }), NOW);
    expect(r).toEqual({ advice: ['PROBLEM'], reasons: ['PROBLEM: plan gone does not exist'] });
  });
});

describe('query log records', () => {
  const line = (o: Record<string, unknown>) =>
    JSON.stringify({ time: new Date(NOW - 1000).toISOString(), tenant: 'acme', user: 'acme', app: '', client: '127.0.0.1', fingerprint: '0', text: 'SELECT 1', protocol: 'simple', ms: 2, rows: 1, bytes: 10, outcome: 'ok', sqlstate: '00000', ...o });

  it('parses records and dropped lines, and rejects malformed ones', () => {
    expect(parseLogLine(line({}))).toEqual({ time: NOW - 1000, tenant: 'acme', outcome: 'ok', sqlstate: '00000', ms: 2 });
    expect(parseLogLine(JSON.stringify({ time: new Date(NOW).toISOString(), dropped: 12 }))).toEqual({ time: NOW, dropped: 12 });
    for (const bad of [line({}).slice(0, 40), '[]', 'null', '"x"', line({ time: 'yesterday' }), line({ tenant: 7 }), line({ sqlstate: undefined })]) {
      expect(parseLogLine(bad), bad).toBeNull();
    }
  });

  it('counts limit SQLSTATEs, and 57014 only when it ran into the plan timeout', () => {
    for (const s of ['54000', '53400', '53200', '53300']) expect(isLimitHit({ outcome: 'error', sqlstate: s, ms: 1 }, free), s).toBe(true);
    expect(isLimitHit({ outcome: 'error', sqlstate: '42601', ms: 1 }, free)).toBe(false);
    expect(isLimitHit({ outcome: 'ok', sqlstate: '00000', ms: 60_000 }, free)).toBe(false);
    // free's statement timeout is 30 s: a cancel after 2 s is a user's, one at 30 s the plan's.
    expect(isLimitHit({ outcome: 'cancelled', sqlstate: '57014', ms: 2000 }, free)).toBe(false);
    expect(isLimitHit({ outcome: 'cancelled', sqlstate: '57014', ms: 30_004 }, free)).toBe(true);
    expect(isLimitHit({ outcome: 'cancelled', sqlstate: '57014', ms: 30_004 }, { ...free, statementTimeoutMs: 0 })).toBe(false);
    expect(isLimitHit({ outcome: 'cancelled', sqlstate: '57014', ms: 30_004 }, null)).toBe(false);
  });

  it('adds records in the window to the counts and any record to the last query time', () => {
    const u = emptyUsage();
    const since = NOW - DAY;
    addRecord(u, { time: since - 5000, tenant: 'acme', outcome: 'error', sqlstate: '54000', ms: 1 }, since, free);
    expect(u).toEqual({ queries: 0, errors: 0, limitHits: 0, limitHitsBySqlstate: {}, lastQuery: since - 5000 });
    addRecord(u, { time: NOW - 10, tenant: 'acme', outcome: 'error', sqlstate: '54000', ms: 1 }, since, free);
    addRecord(u, { time: NOW - 20, tenant: 'acme', outcome: 'error', sqlstate: '42P01', ms: 1 }, since, free);
    addRecord(u, { time: NOW - 30, tenant: 'acme', outcome: 'ok', sqlstate: '00000', ms: 1 }, since, free);
    expect(u).toEqual({ queries: 3, errors: 2, limitHits: 1, limitHitsBySqlstate: { '54000': 1 }, lastQuery: NOW - 10 });
  });

  it('streams current and rotated files, skipping malformed lines and unknown tenants', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantgate-health-'));
    try {
      const old = new Date(NOW - 2 * DAY).toISOString();
      fs.writeFileSync(
        path.join(dir, 'queries-2030-06-13T00-00-00-000Z.jsonl'),
        [line({ time: old }), line({ time: old, tenant: 'beta' }), line({ sqlstate: '53400', outcome: 'error' })].join('\n') + '\n',
      );
      fs.writeFileSync(
        path.join(dir, 'queries.jsonl'),
        [line({}), '{"time": "2030-06-15T11:59', '', line({ tenant: 'stranger' }), JSON.stringify({ time: new Date(NOW - 5).toISOString(), dropped: 4 }), line({ outcome: 'error', sqlstate: '42P01' })].join('\n') +
          '\n' +
          line({}).slice(0, 30), // a line cut short
      );
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a log file\n');
      const scan = await scanQueryLog(dir, new Map([['acme', free], ['beta', pro], ['idle', pro]]), NOW - DAY);
      expect(scan).toMatchObject({ files: 2, records: 3, malformed: 2, dropped: 4 });
      expect(scan.usage.get('acme')).toEqual({ queries: 3, errors: 2, limitHits: 1, limitHitsBySqlstate: { '53400': 1 }, lastQuery: NOW - 1000 });
      expect(scan.usage.get('beta')).toEqual({ queries: 0, errors: 0, limitHits: 0, limitHitsBySqlstate: {}, lastQuery: NOW - 2 * DAY });
      expect(scan.usage.get('idle')).toEqual(emptyUsage());
      expect(scan.usage.has('stranger')).toBe(false);
      expect(await scanQueryLog(path.join(dir, 'absent'), new Map(), NOW)).toMatchObject({ files: 0, records: 0 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sizes', () => {
  it('reads plan memory limits and prints sizes', () => {
    expect(memoryLimitBytes('256MB')).toBe(256 * MB);
    expect(memoryLimitBytes('1GB')).toBe(1024 * MB);
    expect(memoryLimitBytes('1.5 GiB')).toBe(1536 * MB);
    expect(memoryLimitBytes('lots')).toBeNull();
    expect(formatSize(0)).toBe('0B');
    expect(formatSize(1023)).toBe('1023B');
    expect(formatSize(1536)).toBe('1.5KB');
    expect(formatSize(128 * MB)).toBe('128MB');
    expect(formatSize(3 * 1024 * 1024 * MB)).toBe('3TB');
  });
});
