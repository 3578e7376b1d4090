/**
 * Failed-login throttling, per client address and per tenant/user pair.
 *
 * Failures are counted in a fixed window per key; when a key reaches its limit within
 * the window it is locked out for a back-off period, and every login from it is refused
 * at the startup packet, before any registry look-up or SCRAM work, whatever password it
 * would have sent. The pair key is the startup's (database, user) as the client gave it,
 * never the account it resolves to, so unknown tenants and users are counted and locked
 * exactly like real ones: the throttle cannot tell anyone which exist.
 *
 * Memory is bounded: each kind of key lives in an LRU map of at most `maxEntries` keys, so
 * a burst from many addresses (or many made-up user names) evicts the oldest counters
 * instead of growing. A key that is being attacked is touched by every attempt and stays.
 */
export interface ThrottleLimits {
  /** Failures within the window that lock a key out (0: this kind is never throttled). */
  maxFailures: number;
  windowMs: number;
  lockoutMs: number;
}

interface Entry {
  windowStart: number;
  failures: number;
  lockedUntil: number;
}

/** One LRU map of counters. */
export class FailureCounter {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly limits: ThrottleLimits,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Milliseconds the key is still locked out for; 0 when it may try. */
  lockedFor(key: string): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    return Math.max(0, e.lockedUntil - this.now());
  }

  /** Counts a failure; true when this failure locks the key out. */
  fail(key: string): boolean {
    if (this.limits.maxFailures <= 0) return false;
    const now = this.now();
    let e = this.entries.get(key);
    if (e) this.entries.delete(key);
    if (!e || now - e.windowStart >= this.limits.windowMs) e = { windowStart: now, failures: 0, lockedUntil: e?.lockedUntil ?? 0 };
    e.failures++;
    let locked = false;
    if (e.failures >= this.limits.maxFailures) {
      e.lockedUntil = now + this.limits.lockoutMs;
      e.failures = 0;
      e.windowStart = now;
      locked = true;
    }
    this.entries.set(key, e); // most recently used last
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return locked;
  }

  /** Forgets the key (a successful login of that pair). */
  clear(key: string): void {
    this.entries.delete(key);
  }
}

/** Keys kept per kind: ~100 bytes each, so a few MB at most. */
export const MAX_THROTTLE_ENTRIES = 10_000;

export interface ThrottleVerdict {
  kind: 'address' | 'user';
  retryInMs: number;
}

export class LoginThrottle {
  readonly byAddress: FailureCounter;
  readonly byUser: FailureCounter;

  constructor(
    limits: { perAddress: number; perUser: number; windowMs: number; lockoutMs: number },
    maxEntries = MAX_THROTTLE_ENTRIES,
    now: () => number = Date.now,
  ) {
    const { windowMs, lockoutMs } = limits;
    this.byAddress = new FailureCounter({ maxFailures: limits.perAddress, windowMs, lockoutMs }, maxEntries, now);
    this.byUser = new FailureCounter({ maxFailures: limits.perUser, windowMs, lockoutMs }, maxEntries, now);
  }

  static userKey(database: string, user: string): string {
    return `${database || user}\0${user}`;
  }

  /** Whether a login from this address for this pair is refused now. */
  check(address: string, database: string, user: string): ThrottleVerdict | null {
    const a = this.byAddress.lockedFor(address);
    if (a > 0) return { kind: 'address', retryInMs: a };
    const u = this.byUser.lockedFor(LoginThrottle.userKey(database, user));
    if (u > 0) return { kind: 'user', retryInMs: u };
    return null;
  }

  /** A failed login; says which keys it locked out. */
  fail(address: string, database: string, user: string): { address: boolean; user: boolean } {
    return { address: this.byAddress.fail(address), user: this.byUser.fail(LoginThrottle.userKey(database, user)) };
  }

  /**
   * A successful login clears its pair's counter. The address counter stays: one valid
   * account must not reset the count of guesses an address makes at others.
   */
  succeed(database: string, user: string): void {
    this.byUser.clear(LoginThrottle.userKey(database, user));
  }
}

/** `::ffff:127.0.0.1` and `127.0.0.1` are one address. */
export function normaliseAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
