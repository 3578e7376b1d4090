// Latency statistics with bounded memory: a log-bucketed histogram (0.5% relative
// precision from 1 µs to ~1 hour) that closed-loop clients fill, that merges and that
// crosses process boundaries as plain JSON.

/** Relative width of a bucket: bucket i covers [GROWTH^i, GROWTH^(i+1)) microseconds. */
const GROWTH = 1.005;
const LOG_GROWTH = Math.log(GROWTH);
/** Enough buckets for 1 µs .. ~1 hour (GROWTH^4400 µs ≈ 3.5e9 µs). */
const BUCKETS = 4400;

export interface HistogramJson {
  counts: [number, number][];
  count: number;
  sumMs: number;
  minMs: number;
  maxMs: number;
}

export class Histogram {
  private counts = new Uint32Array(BUCKETS);
  count = 0;
  sumMs = 0;
  minMs = Infinity;
  maxMs = 0;

  /** Records one latency in milliseconds. */
  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    const us = ms * 1000;
    const i = us < 1 ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log(us) / LOG_GROWTH));
    this.counts[i]! += 1;
    this.count += 1;
    this.sumMs += ms;
    if (ms < this.minMs) this.minMs = ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  merge(other: Histogram): this {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.sumMs += other.sumMs;
    this.minMs = Math.min(this.minMs, other.minMs);
    this.maxMs = Math.max(this.maxMs, other.maxMs);
    return this;
  }

  /**
   * The p-th percentile (0 < p <= 100), nearest rank: the smallest recorded value with at
   * least p% of the values at or below it, to within one bucket (its geometric middle,
   * clamped to the exact minimum and maximum). NaN when empty.
   */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    if (rank >= this.count) return this.maxMs;
    if (rank === 1) return this.minMs;
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) {
        const mid = i === 0 ? 0.0005 : Math.pow(GROWTH, i + 0.5) / 1000;
        return Math.min(this.maxMs, Math.max(this.minMs, mid));
      }
    }
    return this.maxMs;
  }

  get meanMs(): number {
    return this.count === 0 ? NaN : this.sumMs / this.count;
  }

  toJSON(): HistogramJson {
    const counts: [number, number][] = [];
    this.counts.forEach((n, i) => {
      if (n > 0) counts.push([i, n]);
    });
    return { counts, count: this.count, sumMs: this.sumMs, minMs: this.count ? this.minMs : 0, maxMs: this.maxMs };
  }

  static fromJSON(j: HistogramJson): Histogram {
    const h = new Histogram();
    for (const [i, n] of j.counts) h.counts[i] = n;
    h.count = j.count;
    h.sumMs = j.sumMs;
    h.minMs = j.count ? j.minMs : Infinity;
    h.maxMs = j.maxMs;
    return h;
  }
}

/** What a report keeps of a histogram. */
export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function summarize(h: Histogram): LatencySummary {
  return {
    count: h.count,
    meanMs: h.meanMs,
    p50Ms: h.percentile(50),
    p95Ms: h.percentile(95),
    p99Ms: h.percentile(99),
    maxMs: h.count ? h.maxMs : NaN,
  };
}

/** Exact nearest-rank percentile of a small array (for tests and short series). */
export function exactPercentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** mulberry32: a small seeded PRNG, so that runs pick the same tenants and ids. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
