/**
 * The query log: one JSON line per statement that reached the engine or was refused,
 * in `<data>/querylog/queries.jsonl`. It survives restarts (the file is appended to)
 * and is size-bounded: when the current file would pass `maxFileBytes` it is renamed to
 * `queries-<UTC time>.jsonl` and the oldest rotated files beyond `keepFiles` are deleted.
 *
 * Written off the hot path: record() only pushes onto an in-memory buffer; a timer
 * writes the buffer with one asynchronous append. The buffer is bounded: when it is
 * full (a disk slower than the queries), records are dropped and counted, never waited
 * for; the next write adds a line `{"time": ..., "dropped": N}` so the loss is visible in
 * the log itself, and onDrop is told (the metric tenantgate_querylog_dropped_total).
 *
 * A record holds no password and no row data: the statement's text (capped), never its
 * bound parameter values or results.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';

export type Outcome = 'ok' | 'error' | 'cancelled';

export interface QueryRecord {
  /** When the statement started (ISO 8601, UTC). */
  time: string;
  tenant: string;
  user: string;
  app: string;
  /** The client's address (IP), as the connection saw it. */
  client: string;
  /** Hash of the statement with its literals normalised away (fingerprint.ts). */
  fingerprint: string;
  /** The statement's text, at most maxTextBytes of it (`truncated` says when cut). */
  text: string;
  truncated?: true;
  /** simple: a Query message; extended: Parse (refused) or Execute. */
  protocol: 'simple' | 'extended';
  ms: number;
  rows: number;
  /** Bytes of replies sent for the statement (row description, rows, CommandComplete; not an ErrorResponse). */
  bytes: number;
  outcome: Outcome;
  /** 00000 when it succeeded. */
  sqlstate: string;
}

export interface QueryLogOptions {
  dir: string;
  maxFileBytes: number;
  keepFiles: number;
  maxTextBytes: number;
  /** Most records waiting to be written; beyond it they are dropped and counted. */
  maxBuffered?: number;
  flushMs?: number;
  logger?: Logger;
  /** Told of records dropped (buffer full, or a failed write). */
  onDrop?: (records: number) => void;
}

export const QUERY_LOG_FILE = 'queries.jsonl';

/** Cuts `text` to at most `max` UTF-8 bytes without splitting a character. */
export function capText(text: string, max: number): { text: string; truncated: boolean } {
  if (text.length * 3 <= max || Buffer.byteLength(text) <= max) return { text, truncated: false };
  let cut = Buffer.from(text).subarray(0, max).toString('utf8');
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return { text: cut, truncated: true };
}

export class QueryLog {
  private buffer: string[] = [];
  private dropped = 0;
  private writing: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly file: string;
  private size = 0;
  private closed = false;
  private readonly maxBuffered: number;

  constructor(private readonly opts: QueryLogOptions) {
    fs.mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    this.file = path.join(opts.dir, QUERY_LOG_FILE);
    try {
      this.size = fs.statSync(this.file).size;
    } catch {
      this.size = 0;
    }
    this.maxBuffered = opts.maxBuffered ?? 10_000;
    this.timer = setInterval(() => void this.flush(), opts.flushMs ?? 200);
    this.timer.unref();
  }

  /** Queues one record; never blocks and never throws. */
  record(r: Omit<QueryRecord, 'text' | 'truncated'> & { text: string }): void {
    if (this.closed) return;
    if (this.buffer.length >= this.maxBuffered) {
      this.dropped++;
      this.opts.onDrop?.(1);
      return;
    }
    const { text, truncated } = capText(r.text, this.opts.maxTextBytes);
    const rec: QueryRecord = { ...r, text, ...(truncated && { truncated: true as const }) };
    this.buffer.push(JSON.stringify(rec));
  }

  /** Writes what is buffered; resolves when it is on disk (tests, shutdown). */
  flush(): Promise<void> {
    this.writing ??= this.writeAll().finally(() => (this.writing = null));
    return this.writing;
  }

  private async writeAll(): Promise<void> {
    while (this.buffer.length > 0 || this.dropped > 0) {
      const lines = this.buffer;
      this.buffer = [];
      if (this.dropped > 0) {
        lines.push(JSON.stringify({ time: new Date().toISOString(), dropped: this.dropped }));
        this.dropped = 0;
      }
      const data = lines.join('\n') + '\n';
      const bytes = Buffer.byteLength(data);
      try {
        if (this.size > 0 && this.size + bytes > this.opts.maxFileBytes) await this.rotate();
        await fs.promises.appendFile(this.file, data, { mode: 0o600 });
        this.size += bytes;
      } catch (e) {
        // A full or failing disk loses these records, not the queries.
        this.dropped += lines.length;
        this.opts.onDrop?.(lines.length);
        this.opts.logger?.warn({ err: (e as Error).message }, 'query log write failed');
        return;
      }
    }
  }

  private async rotate(): Promise<void> {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    let target = path.join(this.opts.dir, `queries-${stamp}.jsonl`);
    for (let i = 1; fs.existsSync(target); i++) target = path.join(this.opts.dir, `queries-${stamp}-${i}.jsonl`);
    await fs.promises.rename(this.file, target);
    this.size = 0;
    const rotated = (await fs.promises.readdir(this.opts.dir)).filter((f) => /^queries-.+\.jsonl$/.test(f)).sort();
    for (const old of rotated.slice(0, Math.max(0, rotated.length - this.opts.keepFiles))) {
      await fs.promises.rm(path.join(this.opts.dir, old), { force: true });
    }
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    this.closed = true;
  }
}
