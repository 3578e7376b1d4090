/**
 * The PostgreSQL-side second opinion on a statement (DESIGN.md, "Defence in depth" 2).
 *
 * node-sql-parser (postgresql dialect) reads a statement's kind and the tables it names.
 * The gate's authority stays DuckDB's parser; where node-sql-parser can read a statement
 * and disagrees, the gate refuses.
 *
 * node-sql-parser is synchronous and slow on hostile input: a 10 MB comment takes ~10 s,
 * a million-element IN list over a minute, and as few as 15 unclosed parentheses
 * (`SELECT ((((((((((((((( 1`) take seconds, because its backtracking is exponential
 * there. So it never runs on the main thread: a small pool of worker threads parses, each
 * request gets a time budget measured from the moment a worker takes it, and a worker that
 * overruns is terminated and replaced; requests queued behind it go to the replacement.
 * A worker that runs out of memory counts as over budget too.
 *
 * Requests are served first come, first served. A hostile statement holds up those queued
 * behind it for at most `timeoutMs` (plus ~70 ms to start the replacement), and only while
 * every worker is busy: with `workers: 1` a burst of N hostile statements delays the next
 * one by up to N × timeoutMs; with more workers the others keep going. Fairness between
 * tenants (how many statements one tenant may have waiting here) is the caller's to enforce.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { WORKER_SOURCE } from './secondOpinion/workerSource.js';

export type StatementKind = 'select' | 'write' | 'other';

export type Opinion =
  /**
   * tables: lower-cased, unqualified names of the base tables the statement names (for a
   * write, its targets too), sorted and unique; not CTE names where they refer to the CTE,
   * never table functions; file paths (`FROM 'x.csv'`) as written, lower-cased.
   * Quoted names are lower-cased too: node-sql-parser does not say whether a name was quoted.
   */
  | { status: 'parsed'; kind: StatementKind; tables: string[] }
  /** node-sql-parser cannot read it (syntax it does not know, or nesting too deep). */
  | { status: 'unparsed' }
  /** It did not finish within the budget (time, memory or input size). */
  | { status: 'overBudget' };

export interface SecondOpinionOptions {
  /** Worker threads; requests run in parallel up to this many. Default 1. */
  workers?: number;
  /** Budget per statement, from the moment a worker takes it. Default 250. */
  timeoutMs?: number;
  /** Statements longer than this (UTF-8 bytes) are over budget at once. Default 4 MiB. */
  maxBytes?: number;
}

export const DEFAULT_TIMEOUT_MS = 250;
export const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;

/** Heap limit per worker; running out counts as over budget. */
const WORKER_HEAP_MB = 256;
/** Workers that die before they are ready, in a row, before the pool gives up. */
const MAX_START_FAILURES = 3;

interface Job {
  id: number;
  sql: string;
  resolve(opinion: Opinion): void;
  reject(error: Error): void;
}

/** One place in the pool; its worker is replaced when it overruns or dies. */
class Slot {
  worker!: Worker;
  ready = false;
  job: Job | undefined;
  timer: NodeJS.Timeout | undefined;
}

type WorkerMessage = { ready: true } | { id: number; opinion: Opinion };

let parserPath: string | undefined;

/** The PostgreSQL-only build of node-sql-parser: a tenth of the full bundle, so a replacement worker starts in ~60 ms. */
function resolveParser(): string {
  parserPath ??= createRequire(import.meta.url).resolve('node-sql-parser/build/postgresql');
  return parserPath;
}

const OVER_BUDGET: Opinion = Object.freeze({ status: 'overBudget' });
const UNPARSED: Opinion = Object.freeze({ status: 'unparsed' });

export class SecondOpinion {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  /** Workers terminated but not yet exited; close() waits for them. */
  private readonly dying = new Set<Promise<unknown>>();
  private nextId = 1;
  private startFailures = 0;
  private failure: Error | undefined;
  private closed = false;

  private constructor(
    workers: number,
    private readonly timeoutMs: number,
    private readonly maxBytes: number,
    private readonly parserPath: string,
  ) {
    for (let i = 0; i < workers; i++) {
      const slot = new Slot();
      this.start(slot);
      this.slots.push(slot);
    }
    this.updateRefs();
  }

  static create(opts: SecondOpinionOptions = {}): SecondOpinion {
    const workers = opts.workers ?? 1;
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be a positive integer, not ${workers}`);
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw new RangeError(`timeoutMs must be a positive number, not ${timeoutMs}`);
    if (!(maxBytes >= 0)) throw new RangeError(`maxBytes must be a non-negative number, not ${maxBytes}`);
    return new SecondOpinion(workers, timeoutMs, maxBytes, resolveParser());
  }

  /** The opinion on one statement's text. Rejects only if the pool is closed or cannot start workers. */
  read(sql: string): Promise<Opinion> {
    if (this.closed) return Promise.reject(new Error('the SQL second opinion is closed'));
    if (this.failure) return Promise.reject(this.failure);
    // sql.length (UTF-16 units) <= UTF-8 bytes <= 3 * sql.length: count bytes only when it matters.
    if (sql.length > this.maxBytes || (sql.length * 3 > this.maxBytes && Buffer.byteLength(sql, 'utf8') > this.maxBytes)) {
      return Promise.resolve(OVER_BUDGET);
    }
    return new Promise<Opinion>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, sql, resolve, reject });
      this.pump();
    });
  }

  /** Terminates every worker; pending requests are rejected. Idempotent. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      const error = new Error('the SQL second opinion was closed');
      for (const job of this.queue.splice(0)) job.reject(error);
      for (const slot of this.slots) {
        this.finish(slot)?.reject(error);
        this.retire(slot.worker);
      }
    }
    while (this.dying.size > 0) await Promise.all([...this.dying]);
  }

  /** Starts a fresh worker in the slot. */
  private start(slot: Slot): void {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { parserPath: this.parserPath },
      // Not the parent's flags: the worker runs plain JavaScript and needs no loader (tsx's).
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    });
    slot.worker = worker;
    slot.ready = false;
    worker.on('message', (message: WorkerMessage) => {
      if (slot.worker !== worker) return;
      if ('ready' in message) {
        slot.ready = true;
        this.startFailures = 0;
        this.pump();
        return;
      }
      if (slot.job?.id !== message.id) return;
      this.finish(slot)?.resolve(message.opinion);
      this.pump();
    });
    // An old worker's late events are ignored, but an 'error' listener must stay attached.
    worker.on('error', (error: Error & { code?: string }) => {
      if (slot.worker !== worker) return;
      this.lost(slot, error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? OVER_BUDGET : UNPARSED);
    });
    worker.on('exit', () => {
      if (slot.worker !== worker) return;
      this.lost(slot, UNPARSED);
    });
  }

  /** The slot's worker died on its own (uncaught error, out of memory): answer, then replace it. */
  private lost(slot: Slot, opinion: Opinion): void {
    if (this.closed || this.failure) return;
    if (!slot.ready && ++this.startFailures >= MAX_START_FAILURES) {
      this.failure = new Error('the SQL second opinion cannot start its worker threads');
      for (const job of this.queue.splice(0)) job.reject(this.failure);
      for (const s of this.slots) {
        this.finish(s)?.reject(this.failure);
        this.retire(s.worker);
      }
      return;
    }
    this.finish(slot)?.resolve(opinion);
    this.replace(slot);
  }

  private replace(slot: Slot): void {
    this.retire(slot.worker);
    this.start(slot);
    this.pump();
  }

  /** Terminates a worker that no slot uses any more. */
  private retire(worker: Worker): void {
    const done = worker.terminate().catch(() => undefined);
    this.dying.add(done);
    void done.then(() => this.dying.delete(done));
  }

  /** Detaches and returns the slot's current job, stopping its timer. */
  private finish(slot: Slot): Job | undefined {
    const job = slot.job;
    if (slot.timer) clearTimeout(slot.timer);
    slot.job = undefined;
    slot.timer = undefined;
    return job;
  }

  private pump(): void {
    if (this.closed || this.failure) return;
    for (const slot of this.slots) {
      if (this.queue.length === 0) break;
      if (!slot.ready || slot.job) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.timer = setTimeout(() => {
        if (slot.job !== job) return;
        this.finish(slot);
        job.resolve(OVER_BUDGET);
        this.replace(slot);
      }, this.timeoutMs);
      slot.worker.postMessage({ id: job.id, sql: job.sql });
    }
    this.updateRefs();
  }

  /** Workers keep the process alive only while there is work: an idle pool never holds it open. */
  private updateRefs(): void {
    const busy = this.queue.length > 0 || this.slots.some((slot) => slot.job !== undefined);
    for (const slot of this.slots) {
      if (busy) slot.worker.ref();
      else slot.worker.unref();
    }
  }
}
