import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from './ids.js';
import {
  DEFAULT_PLANS,
  describeUserLimit,
  formatBytes,
  formatTimeout,
  getPlan,
  parseBytes,
  parseCount,
  parseTimeout,
  planNames,
  validatePlan,
} from './plans.js';

describe('plans', () => {
  it('defines free, pro and enterprise', () => {
    expect(planNames()).toEqual(['free', 'pro', 'enterprise']);
    expect(getPlan('free')).toMatchObject({ name: 'free', memoryLimit: '256MB', threads: 2, maxUsers: 1, maxQueryBytes: 65536, historyDays: 7 });
    expect(getPlan('pro')).toMatchObject({ name: 'pro', memoryLimit: '1GB', threads: 4, maxUsers: 3, maxQueryBytes: 262144, historyDays: null });
    expect(getPlan('enterprise')).toMatchObject({ name: 'enterprise', memoryLimit: '4GB', threads: 8, maxUsers: null, maxQueryBytes: 1048576 });
    for (const plan of Object.values(DEFAULT_PLANS)) expect(validatePlan(plan)).toEqual(plan);
    for (const [key, plan] of Object.entries(DEFAULT_PLANS)) expect(plan.name).toBe(key);
  });

  it('an unknown plan is a clear error listing the known ones', () => {
    expect(() => getPlan('gold')).toThrow(InvalidArgumentError);
    expect(() => getPlan('gold')).toThrow('unknown plan "gold" (known plans: free, pro, enterprise)');
    // Not fooled by Object.prototype.
    expect(() => getPlan('constructor')).toThrow(/unknown plan/);
    expect(() => getPlan('__proto__')).toThrow(/unknown plan/);
  });

  it('cannot be changed at run time', () => {
    expect(() => {
      (DEFAULT_PLANS.free as { threads: number }).threads = 64;
    }).toThrow();
    expect(getPlan('free').threads).toBe(2);
  });

  it('describes user limits', () => {
    expect(describeUserLimit(getPlan('free'))).toBe('1 user');
    expect(describeUserLimit(getPlan('pro'))).toBe('3 users');
    expect(describeUserLimit(getPlan('enterprise'))).toBe('unlimited users');
  });

  it('takes plans from the registry, which replace built-in ones of the same name', () => {
    const team = { ...getPlan('pro'), name: 'team', maxUsers: 10 };
    const free = { ...getPlan('free'), statementTimeoutMs: 5000 };
    const source = { plans: { team, free } };
    expect(planNames(source)).toEqual(['free', 'pro', 'enterprise', 'team']);
    expect(getPlan('team', source).maxUsers).toBe(10);
    expect(getPlan('free', source).statementTimeoutMs).toBe(5000);
    expect(() => getPlan('team')).toThrow('unknown plan "team" (known plans: free, pro, enterprise)');
  });

  it('reads and writes sizes, durations and counts', () => {
    expect(parseBytes('100MB')).toBe(100 * 1024 * 1024);
    expect(parseBytes('65536')).toBe(65536);
    expect(formatBytes(64 * 1024 * 1024)).toBe('64MB');
    expect(formatBytes(1000)).toBe('1000B');
    expect(parseTimeout('30s')).toBe(30_000);
    expect(parseTimeout('5min')).toBe(300_000);
    expect(parseTimeout('250')).toBe(250);
    expect(formatTimeout(300_000)).toBe('5min');
    expect(formatTimeout(1500)).toBe('1500ms');
    expect(formatTimeout(0)).toBe('0');
    expect(parseCount('x', 'unlimited', true)).toBeNull();
    expect(() => parseCount('x', 'unlimited', false)).toThrow(InvalidArgumentError);
    expect(() => parseCount('x', '0', true)).toThrow(/at least 1/);
    expect(() => parseTimeout('soon')).toThrow(InvalidArgumentError);
    expect(() => parseBytes('lots')).toThrow(InvalidArgumentError);
    expect(() => validatePlan({ ...getPlan('free'), memoryLimit: 'big' })).toThrow(/memoryLimit/);
  });
});
