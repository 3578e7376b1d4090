/**
 * The transaction state of a session: outside a block ('I'), in a BEGIN block ('T'), or
 * in a block that failed ('E', until ROLLBACK). tenantgate is read-only, so a block is
 * about what it reads and its settings: one snapshot for the whole block, and SET / SET
 * LOCAL undone as PostgreSQL undoes them.
 */
import type { TenantEngine, TenantLease } from '../engine/tenantEngine.js';
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import type { TransactionStatus } from '../wire/backend.js';
import type { ParameterChange, SessionSettings } from './settings.js';

export class Transaction {
  status: TransactionStatus = 'I';
  /** The snapshot a transaction block reads: taken by its first statement. */
  private blockLease: TenantLease | null = null;
  /** Settings at BEGIN, to return to on ROLLBACK. */
  private saved: ReadonlyMap<string, string> | null = null;
  private readonly local = new Set<string>();
  /** Savepoints of the block, oldest first, with the settings to return to. */
  private savepoints: { name: string; settings: ReadonlyMap<string, string> }[] = [];

  /** onEnd: the block is over (portals are not holdable: they end with it). */
  constructor(
    private readonly settings: SessionSettings,
    private readonly onEnd: () => void,
  ) {}

  begin(): void {
    this.status = 'T';
    this.saved = this.settings.snapshot();
    this.local.clear();
    this.savepoints = [];
  }

  private findSavepoint(name: string, command: string): number {
    if (this.status === 'I') {
      throw new PgError(SqlState.NoActiveSqlTransaction, `${command} can only be used in transaction blocks`);
    }
    for (let i = this.savepoints.length - 1; i >= 0; i--) if (this.savepoints[i]!.name === name) return i;
    throw new PgError(SqlState.InvalidSavepointSpecification, `savepoint "${name}" does not exist`);
  }

  /** SAVEPOINT: a point inside the block to roll back to. A later one may reuse a name. */
  savepoint(name: string): void {
    if (this.status === 'I') throw new PgError(SqlState.NoActiveSqlTransaction, 'SAVEPOINT can only be used in transaction blocks');
    this.savepoints.push({ name, settings: this.settings.snapshot() });
  }

  /** RELEASE: forgets the savepoint and every later one. */
  release(name: string): void {
    this.savepoints.length = this.findSavepoint(name, 'RELEASE SAVEPOINT');
  }

  /**
   * ROLLBACK TO: back to the savepoint (which stays), undoing later settings; a failed
   * block is usable again. Returns the ParameterStatus messages the restored settings call for.
   */
  rollbackTo(name: string): ParameterChange[] {
    const i = this.findSavepoint(name, 'ROLLBACK TO SAVEPOINT');
    this.savepoints.length = i + 1;
    this.status = 'T';
    return this.settings.restore(this.savepoints[i]!.settings);
  }

  /** A SET LOCAL: undone at the end of the block, even on COMMIT. */
  setLocal(name: string): void {
    this.local.add(name);
  }

  /** An error inside a block makes it failed until ROLLBACK. */
  fail(): void {
    if (this.status === 'T') this.status = 'E';
  }

  /** Ends the block; returns the ParameterStatus messages the restored settings call for. */
  end(rollback: boolean): ParameterChange[] {
    const changes = this.saved ? (rollback ? this.settings.restore(this.saved) : this.settings.restore(this.saved, this.local)) : [];
    this.status = 'I';
    this.saved = null;
    this.local.clear();
    this.savepoints = [];
    this.onEnd();
    this.releaseLease();
    return changes;
  }

  /**
   * The lease a statement reads through: the block's (the first statement of a block takes
   * it), or outside a block a lease of its own, which the caller releases (owned).
   */
  async lease(engine: TenantEngine, tenantId: string): Promise<{ tl: TenantLease; owned: boolean }> {
    if (this.blockLease) return { tl: this.blockLease, owned: false };
    const tl = await engine.lease(tenantId);
    if (this.status === 'I') return { tl, owned: true };
    this.blockLease = tl;
    return { tl, owned: false };
  }

  releaseLease(): void {
    this.blockLease?.lease.release();
    this.blockLease = null;
  }
}
