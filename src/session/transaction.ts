/**
 * The transaction state of a session: outside a block ('I'), in a BEGIN block ('T'), or
 * in a block that failed ('E', until ROLLBACK). tenantgate is read-only, so a block is
 * about what it reads, its settings and its portals: one snapshot for the whole block,
 * SET / SET LOCAL undone as PostgreSQL undoes them, and the portals and cursors made in
 * it closed as PostgreSQL closes them (TransactionHooks).
 */
import type { TenantLease } from '../engine/tenantEngine.js';
import type { SessionEngine } from './session.js';
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import type { TransactionStatus } from '../wire/backend.js';
import type { ParameterChange, SessionSettings } from './settings.js';

/** What the portals (cursors) of a session do as its transaction goes. */
export interface TransactionHooks {
  /** The block ended, committed or rolled back (a failed block always rolls back). */
  end(rollback: boolean): void;
  /** A mark for a new savepoint. */
  mark(): number;
  /** ROLLBACK TO the savepoint with this mark. */
  rollbackTo(mark: number): void;
}

/** The snapshot a block reads, shared with the cursors WITH HOLD declared in it, which may outlive it. */
interface BlockLease {
  tl: TenantLease;
  refs: number;
}

function unref(b: BlockLease): void {
  if (--b.refs === 0) b.tl.lease.release();
}

export class Transaction {
  status: TransactionStatus = 'I';
  /** The snapshot a transaction block reads: taken by its first statement. */
  private blockLease: BlockLease | null = null;
  /** Settings at BEGIN, to return to on ROLLBACK. */
  private saved: ReadonlyMap<string, string> | null = null;
  private readonly local = new Set<string>();
  /** Savepoints of the block, oldest first, with the settings to return to and the portals' mark. */
  private savepoints: { name: string; settings: ReadonlyMap<string, string>; mark: number }[] = [];

  constructor(
    private readonly settings: SessionSettings,
    private readonly hooks: TransactionHooks,
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
    this.savepoints.push({ name, settings: this.settings.snapshot(), mark: this.hooks.mark() });
  }

  /** RELEASE: forgets the savepoint and every later one. */
  release(name: string): void {
    this.savepoints.length = this.findSavepoint(name, 'RELEASE SAVEPOINT');
  }

  /**
   * ROLLBACK TO: back to the savepoint (which stays), undoing later settings and closing
   * later portals; a failed block is usable again. Returns the ParameterStatus messages
   * the restored settings call for.
   */
  rollbackTo(name: string): ParameterChange[] {
    const i = this.findSavepoint(name, 'ROLLBACK TO SAVEPOINT');
    this.savepoints.length = i + 1;
    this.status = 'T';
    this.hooks.rollbackTo(this.savepoints[i]!.mark);
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
    this.hooks.end(rollback);
    this.releaseLease();
    return changes;
  }

  /**
   * The lease a statement reads through: the block's (the first statement of a block takes
   * it), or outside a block a lease of its own, which the caller releases (owned).
   */
  async lease(engine: SessionEngine, tenantId: string): Promise<{ tl: TenantLease; owned: boolean }> {
    if (this.blockLease) return { tl: this.blockLease.tl, owned: false };
    const tl = await engine.lease(tenantId);
    if (this.status === 'I') return { tl, owned: true };
    this.blockLease = { tl, refs: 1 };
    return { tl, owned: false };
  }

  /**
   * A reference to the block's lease (`tl`, as lease() gave it) that outlives the block:
   * a cursor WITH HOLD keeps reading the block's snapshot after COMMIT. Call the function
   * returned to let go; the lease is released when the block and every holder have.
   */
  holdLease(tl: TenantLease): () => void {
    const b = this.blockLease;
    if (b?.tl !== tl) throw PgError.internal('a held cursor must read its block\'s snapshot');
    b.refs++;
    let held = true;
    return () => {
      if (held) unref(b);
      held = false;
    };
  }

  releaseLease(): void {
    const b = this.blockLease;
    this.blockLease = null;
    if (b) unref(b);
  }
}
