import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from './ids.js';
import { DEFAULT_PLANS, describeUserLimit, getPlan, planNames } from './plans.js';

describe('plans', () => {
  it('defines free, pro and enterprise', () => {
    expect(planNames()).toEqual(['free', 'pro', 'enterprise']);
    expect(getPlan('free')).toEqual({ name: 'free', memoryLimit: '256MB', threads: 2, maxUsers: 1, maxQueryBytes: 65536 });
    expect(getPlan('pro')).toEqual({ name: 'pro', memoryLimit: '1GB', threads: 4, maxUsers: 3, maxQueryBytes: 262144 });
    expect(getPlan('enterprise')).toEqual({ name: 'enterprise', memoryLimit: '4GB', threads: 8, maxUsers: null, maxQueryBytes: 1048576 });
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
});
