import { describe, expect, it } from 'vitest';
import { exactPercentile, Histogram, prng, summarize } from './stats.js';

describe('Histogram', () => {
  it('gives nearest-rank percentiles within half a percent', () => {
    const rnd = prng(7);
    const values = Array.from({ length: 20_000 }, () => 0.05 + rnd() * rnd() * 200);
    const h = new Histogram();
    for (const v of values) h.record(v);
    for (const p of [1, 50, 90, 95, 99, 99.9, 100]) {
      const exact = exactPercentile(values, p);
      expect(Math.abs(h.percentile(p) - exact) / exact).toBeLessThan(0.006);
    }
    expect(h.count).toBe(values.length);
    expect(h.maxMs).toBe(Math.max(...values));
    expect(h.percentile(100)).toBe(h.maxMs);
  });

  it('is exact at the ends and on a single value', () => {
    const h = new Histogram();
    h.record(3.25);
    expect(h.percentile(50)).toBe(3.25);
    expect(h.percentile(99)).toBe(3.25);
    expect(new Histogram().percentile(50)).toBeNaN();
  });

  it('ignores values that are not latencies', () => {
    const h = new Histogram();
    h.record(NaN);
    h.record(-1);
    h.record(Infinity);
    expect(h.count).toBe(0);
  });

  it('merges and survives a JSON round trip', () => {
    const a = new Histogram();
    const b = new Histogram();
    for (let i = 1; i <= 100; i++) (i % 2 ? a : b).record(i);
    const merged = Histogram.fromJSON(JSON.parse(JSON.stringify(a.toJSON())) as ReturnType<Histogram['toJSON']>).merge(b);
    const s = summarize(merged);
    expect(s.count).toBe(100);
    expect(Math.abs(s.p50Ms - 50) / 50).toBeLessThan(0.006);
    expect(Math.abs(s.p95Ms - 95) / 95).toBeLessThan(0.006);
    expect(s.maxMs).toBe(100);
    expect(s.meanMs).toBeCloseTo(50.5, 10);
  });
});

describe('exactPercentile', () => {
  it('is nearest rank', () => {
    expect(exactPercentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(exactPercentile([5, 1, 4, 2, 3], 95)).toBe(5);
    expect(exactPercentile([5, 1, 4, 2, 3], 1)).toBe(1);
    expect(exactPercentile([], 50)).toBeNaN();
  });
});

describe('prng', () => {
  it('repeats for a seed and differs between seeds', () => {
    const a = prng(42);
    const b = prng(42);
    const c = prng(43);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});
