/**
 * Queries per minute per tenant (plan.queriesPerMinute), over all the tenant's sessions: a
 * token bucket per tenant that holds up to queriesPerMinute tokens and gains
 * queriesPerMinute of them per 60 s, continuously. A query takes one token when it is
 * about to run; a bucket that is out of tokens makes the query wait for the next one, if
 * it comes soon enough, and otherwise refuses it. The plan is read on every take, so a
 * changed limit is in force at once: the bucket refills at the new rate and never holds
 * more than the new limit (it is not topped up: a raised limit fills it over time).
 *
 * The buckets outlive a restart: they are written to <data>/quotas.json (atomically) at
 * most once per SAVE_INTERVAL_MS while they change, and at stop, and read back at start;
 * time that passes while the gateway is down refills them as it would have. A crash loses
 * the takes of the last interval at most, so a tenant may then run that many more.
 * A full bucket is not written: it is the same as a bucket never used.
 */
import fs from 'node:fs';
import writeFileAtomic from 'write-file-atomic';

/** The file, in the data directory. */
export const QUOTA_FILE = 'quotas.json';

/** Changed buckets are written at most this often. */
export const SAVE_INTERVAL_MS = 1000;

const MINUTE_MS = 60_000;
const FORMAT_VERSION = 1;

interface Bucket {
  /** Tokens as of `at`; below 0 when tokens have been promised to waiting queries. */
  tokens: number;
  /** When `tokens` was computed (ms since the epoch). */
  at: number;
  /** The limit the bucket was last used with (its size). */
  perMinute: number;
}

/** What take() says: the token is the query's after waitMs (0: now), or none comes within the wait. */
export type Take = { ok: true; waitMs: number } | { ok: false; retryInMs: number };

export interface RateQuotaOptions {
  /** Where the buckets are kept; null: in memory only. */
  file?: string | null;
  saveIntervalMs?: number;
  /** The clock (ms since the epoch); for tests. */
  now?: () => number;
  /** A file that could not be read or written (the gateway goes on: the limit holds in memory). */
  onError?: (message: string) => void;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export class RateQuota {
  private readonly buckets = new Map<string, Bucket>();
  private readonly file: string | null;
  private readonly saveIntervalMs: number;
  private readonly now: () => number;
  private readonly onError: (message: string) => void;
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(opts: RateQuotaOptions = {}) {
    this.file = opts.file ?? null;
    this.saveIntervalMs = opts.saveIntervalMs ?? SAVE_INTERVAL_MS;
    this.now = opts.now ?? Date.now;
    this.onError = opts.onError ?? (() => {});
    if (this.file) this.read(this.file);
  }

  /**
   * Takes one of the tenant's tokens for a query, under a limit of perMinute. With a token
   * in the bucket: { ok, waitMs: 0 }. Without one, the next token to come is promised to
   * this query (queries waiting are served in order) if it comes within maxWaitMs: the
   * query must wait waitMs for it. Otherwise nothing is taken and retryInMs says when a
   * token would be there.
   */
  take(tenantId: string, perMinute: number, maxWaitMs: number): Take {
    const b = this.bucket(tenantId, perMinute);
    const left = b.tokens - 1;
    const waitMs = left >= 0 ? 0 : Math.ceil((-left * MINUTE_MS) / perMinute);
    if (waitMs > maxWaitMs) return { ok: false, retryInMs: waitMs };
    b.tokens = left;
    this.changed();
    return { ok: true, waitMs };
  }

  /** Gives back a token taken for a query that did not run after all. */
  giveBack(tenantId: string, perMinute: number): void {
    const b = this.bucket(tenantId, perMinute);
    b.tokens = Math.min(perMinute, b.tokens + 1);
    this.changed();
  }

  /** Tokens the tenant has now (for tests and diagnostics). */
  tokens(tenantId: string, perMinute: number): number {
    return this.bucket(tenantId, perMinute).tokens;
  }

  /** Writes the buckets now if they changed since the last write. */
  save(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const next = this.writing.then(() => this.write());
    this.writing = next;
    return next;
  }

  /** Writes what changed and stops writing; further changes stay in memory. */
  async close(): Promise<void> {
    await this.save();
    this.closed = true;
  }

  /** The tenant's bucket, refilled up to now under the limit in force now. */
  private bucket(tenantId: string, perMinute: number): Bucket {
    const now = this.now();
    const b = this.buckets.get(tenantId);
    if (!b) {
      const fresh = { tokens: perMinute, at: now, perMinute };
      this.buckets.set(tenantId, fresh);
      return fresh;
    }
    // A clock set back refills nothing (and takes nothing back).
    const elapsed = Math.max(0, now - b.at);
    b.tokens = Math.min(perMinute, b.tokens + (elapsed * perMinute) / MINUTE_MS);
    b.at = Math.max(b.at, now);
    b.perMinute = perMinute;
    return b;
  }

  private changed(): void {
    this.dirty = true;
    if (this.closed || !this.file || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.save();
    }, this.saveIntervalMs);
    this.timer.unref();
  }

  private async write(): Promise<void> {
    if (!this.dirty || !this.file) return;
    this.dirty = false;
    const now = this.now();
    const buckets: Record<string, { tokens: number; at: number; perMinute: number }> = {};
    for (const [id, b] of this.buckets) {
      const tokens = Math.min(b.perMinute, b.tokens + (Math.max(0, now - b.at) * b.perMinute) / MINUTE_MS);
      // Full by now: the same as no bucket; forgotten in memory too, so the map holds only tenants in use.
      if (tokens >= b.perMinute) {
        this.buckets.delete(id);
        continue;
      }
      buckets[id] = { tokens: b.tokens, at: b.at, perMinute: b.perMinute };
    }
    const text = `${JSON.stringify({ version: FORMAT_VERSION, buckets }, null, 1)}\n`;
    try {
      await writeFileAtomic(this.file, text, { mode: 0o600, fsync: true });
    } catch (e) {
      this.dirty = true;
      this.onError(`cannot write ${this.file}: ${(e as Error).message}`);
    }
  }

  /** Reads the buckets a previous run left; a missing file is no buckets, an unreadable one too (with a word). */
  private read(file: string): void {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.onError(`cannot read ${file}: ${(e as Error).message}`);
      return;
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      this.onError(`${file} is not valid JSON (${(e as Error).message}); rate quotas start afresh`);
      return;
    }
    const d = data as { version?: unknown; buckets?: unknown } | null;
    if (typeof d !== 'object' || d === null || d.version !== FORMAT_VERSION || typeof d.buckets !== 'object' || d.buckets === null) {
      this.onError(`${file} is not a quota file of this version; rate quotas start afresh`);
      return;
    }
    for (const [id, v] of Object.entries(d.buckets)) {
      const b = v as Partial<Bucket> | null;
      if (!b || !isCount(b.tokens) || !isCount(b.at) || !isCount(b.perMinute) || b.perMinute < 1) continue;
      this.buckets.set(id, { tokens: Math.min(b.tokens, b.perMinute), at: b.at, perMinute: b.perMinute });
    }
  }
}
