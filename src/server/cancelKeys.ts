/**
 * BackendKeyData for each session, and CancelRequest lookups. Process ids are
 * connection numbers; secret keys are random, compared in constant time.
 */
import crypto from 'node:crypto';

export interface Cancellable {
  cancel(): void;
}

export class CancelKeys {
  private next = 1;
  private readonly sessions = new Map<number, { secret: number; target: Cancellable }>();

  /** A new (processId, secretKey) pair for a session. */
  issue(target: Cancellable): { processId: number; secretKey: number } {
    const processId = this.next;
    this.next = this.next >= 0x7fffffff ? 1 : this.next + 1;
    const secretKey = crypto.randomBytes(4).readInt32BE(0);
    this.sessions.set(processId, { secret: secretKey, target });
    return { processId, secretKey };
  }

  revoke(processId: number): void {
    this.sessions.delete(processId);
  }

  /** Cancels the session's running query when the key matches; a wrong key does nothing, as in PostgreSQL. */
  cancel(processId: number, secretKey: number): boolean {
    const s = this.sessions.get(processId);
    if (!s) return false;
    const a = Buffer.alloc(4);
    const b = Buffer.alloc(4);
    a.writeInt32BE(s.secret);
    b.writeInt32BE(secretKey | 0);
    if (!crypto.timingSafeEqual(a, b)) return false;
    s.target.cancel();
    return true;
  }
}
