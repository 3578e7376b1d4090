// The workloads, written once against a Driver: node-postgres for the network targets
// (tenantgate, PostgreSQL), @duckdb/node-api in-process for the physical limit. Every
// phase is bounded in time (or in count, for the short ones) and returns plain JSON, so
// the in-process target can run it in a child process and send the result back.
import type { BenchTenant } from './data.js';
import { DASHBOARD, HEAVY, type BenchQuery } from './queries.js';
import { Histogram, prng, type HistogramJson } from './stats.js';

export interface Session {
  /** Runs one statement; resolves to the number of rows it returned. */
  run(q: BenchQuery, k: number, rows: number, rnd: () => number): Promise<number>;
  /** Reads every row of the tenant's table; resolves to the row count. */
  exportAll(): Promise<number>;
  /** Lowers the statement timeout of this session (SET statement_timeout). */
  setStatementTimeout(ms: number): Promise<void>;
  /** Cancels the running statement, if any (CancelRequest, or DuckDB's interrupt). */
  cancel(): Promise<void>;
  close(): Promise<void>;
}

export interface Driver {
  connect(t: BenchTenant): Promise<Session>;
}

export type PhaseSpec =
  | { kind: 'connect'; tenants: BenchTenant[]; iterations: number; maxMs: number }
  | { kind: 'dashboard'; tenants: BenchTenant[]; rows: number; durationMs: number; warmupMs: number }
  | { kind: 'warm'; tenant: BenchTenant; rows: number; perQueryMs: number; maxIterations: number }
  | { kind: 'export'; tenant: BenchTenant; repeats: number }
  | { kind: 'sweep'; tenants: BenchTenant[]; rows: number; workers: number; durationMs: number; warmupMs: number }
  | {
      kind: 'noisy';
      victim: BenchTenant;
      noisy: BenchTenant | null;
      rows: number;
      durationMs: number;
      warmupMs: number;
      victimClients: number;
      noisyClients: number;
      noisyTimeoutMs: number;
    };

export interface LoopResult {
  /** Measured window (after warm-up), ms. */
  durationMs: number;
  /** Statements completed in the window, over all queries. */
  completed: number;
  /** Latency per query name (and `all`), of statements that succeeded in the window. */
  latency: Record<string, HistogramJson>;
  /** Errors by `query sqlstate-or-message`, in the window. */
  errors: Record<string, number>;
  errorCount: number;
  errorSamples: string[];
  /** Time to connect every session before the loop, ms. */
  setupMs: number;
  /** CPU seconds of the server (the probe) during the measured window, when probed. */
  windowServerCpuS: number | null;
  /** CPU seconds of the process running the clients during the measured window. */
  windowClientCpuS: number | null;
}

/** Reads the server's CPU seconds so far (for the measured window's CPU cost). */
export type CpuProbe = () => number;

export interface ExportResult {
  rows: number;
  /** Each repeat's wall time, ms. */
  runsMs: number[];
}

export interface NoisyResult {
  victim: LoopResult;
  /** The noisy tenant's statements: ok and refused/failed counts, by outcome. */
  noisy: { ok: number; errors: Record<string, number>; connectErrors: number };
}

export type PhaseResult =
  | { kind: 'connect'; result: LoopResult }
  | { kind: 'dashboard'; result: LoopResult }
  | { kind: 'warm'; result: LoopResult }
  | { kind: 'export'; result: ExportResult }
  | { kind: 'sweep'; result: LoopResult }
  | { kind: 'noisy'; result: NoisyResult };

const now = (): number => performance.now();
/** How long statements may run on after a closed loop's window before they are cancelled. */
const STRAGGLER_GRACE_MS = 3000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A short, value-free description of an error: its SQLSTATE, else its first words. */
export function errorKey(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && code !== '') return code;
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/\s+/g, ' ').slice(0, 60);
}

/** Collects latencies and errors of one phase. */
class Recorder {
  private readonly h = new Map<string, Histogram>();
  private readonly all = new Histogram();
  readonly errors: Record<string, number> = {};
  errorCount = 0;
  readonly samples: string[] = [];
  completed = 0;
  measureFrom = Infinity;
  measureTo = Infinity;
  private cpu0: [number, NodeJS.CpuUsage] | null = null;
  private cpuWindow: [number, number] | null = null;

  constructor(private readonly probe?: CpuProbe) {}

  /** Starts (or resumes) counting CPU for the measured window. */
  cpuStart(): void {
    if (this.probe && !this.cpu0) this.cpu0 = [this.probe(), process.cpuUsage()];
  }

  /** Stops (or pauses) counting; the window's CPU is the sum of its start/end spans. */
  cpuEnd(): void {
    if (!this.probe || !this.cpu0) return;
    const c = process.cpuUsage(this.cpu0[1]);
    const [server, client] = this.cpuWindow ?? [0, 0];
    this.cpuWindow = [server + this.probe() - this.cpu0[0], client + (c.user + c.system) / 1e6];
    this.cpu0 = null;
  }

  /** Calls cpuStart at measureFrom and cpuEnd at measureTo (timers; the loop keeps running). */
  scheduleCpu(): Promise<void> {
    const delay = (t: number): number => Math.max(0, t - now());
    setTimeout(() => this.cpuStart(), delay(this.measureFrom));
    return new Promise((resolve) =>
      setTimeout(() => {
        this.cpuEnd();
        resolve();
      }, delay(this.measureTo)),
    );
  }

  inWindow(t: number): boolean {
    return t >= this.measureFrom && t <= this.measureTo;
  }

  /**
   * A statement that completed in the measured window counts, whenever it started: in a
   * closed loop under saturation a statement can take longer than the window itself.
   */
  ok(name: string, start: number, end: number): void {
    if (!this.inWindow(end)) return;
    const ms = end - start;
    let h = this.h.get(name);
    if (!h) this.h.set(name, (h = new Histogram()));
    h.record(ms);
    this.all.record(ms);
    this.completed += 1;
  }

  fail(name: string, e: unknown): void {
    if (!this.inWindow(now())) return;
    const key = `${name} ${errorKey(e)}`;
    this.errors[key] = (this.errors[key] ?? 0) + 1;
    this.errorCount += 1;
    if (this.samples.length < 5) this.samples.push(`${name}: ${(e instanceof Error ? e.message : String(e)).slice(0, 200)}`);
  }

  result(setupMs: number): LoopResult {
    const latency: Record<string, HistogramJson> = {};
    for (const [name, h] of this.h) latency[name] = h.toJSON();
    latency.all = this.all.toJSON();
    return {
      durationMs: this.measureTo - this.measureFrom,
      completed: this.completed,
      latency,
      errors: this.errors,
      errorCount: this.errorCount,
      errorSamples: this.samples,
      setupMs,
      windowServerCpuS: this.cpuWindow?.[0] ?? null,
      windowClientCpuS: this.cpuWindow?.[1] ?? null,
    };
  }
}

/** Connects one session per tenant, `parallel` at a time. */
async function connectAll(driver: Driver, tenants: BenchTenant[], parallel = 16): Promise<Session[]> {
  const sessions: Session[] = new Array(tenants.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tenants.length) {
      const i = next++;
      sessions[i] = await driver.connect(tenants[i]!);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(parallel, tenants.length) }, worker));
  } catch (e) {
    await closeAll(sessions.filter(Boolean));
    throw e;
  }
  return sessions;
}

async function closeAll(sessions: Session[]): Promise<void> {
  await Promise.all(sessions.map((s) => s.close().catch(() => undefined)));
}

/** connect + SCRAM + first query (SELECT 1) + close, one after another, over the tenants. */
async function connectPhase(driver: Driver, spec: Extract<PhaseSpec, { kind: 'connect' }>, probe?: CpuProbe): Promise<LoopResult> {
  const rec = new Recorder(probe);
  const select1 = DASHBOARD.find((q) => q.name === 'select_1')!;
  const rnd = prng(1);
  const start = now();
  rec.measureFrom = start;
  rec.measureTo = start + spec.maxMs;
  rec.cpuStart();
  for (let i = 0; i < spec.iterations && now() < rec.measureTo; i++) {
    const t = spec.tenants[i % spec.tenants.length]!;
    const t0 = now();
    let s: Session | null = null;
    try {
      s = await driver.connect(t);
      await s.run(select1, t.k, 1, rnd);
      rec.ok('connect_first_query', t0, now());
    } catch (e) {
      rec.fail('connect_first_query', e);
    } finally {
      await s?.close().catch(() => undefined);
    }
  }
  rec.cpuEnd();
  rec.measureTo = now();
  return rec.result(0);
}

/** Most time spent priming before a closed loop: after it the loop starts anyway. */
const PRIME_MAX_MS = 60_000;

/**
 * Runs the whole dashboard once on every session (unrecorded), `workers` at a time, so
 * that the measured loop starts with every tenant's data open: cold opens belong to the
 * connect phase, not to the steady state.
 */
async function prime(sessions: Session[], tenants: BenchTenant[], rows: number, workers: number): Promise<void> {
  const end = now() + PRIME_MAX_MS;
  const rnd = prng(99);
  let next = 0;
  const loop = async (): Promise<void> => {
    while (next < sessions.length && now() < end) {
      const i = next++;
      for (const q of DASHBOARD) await sessions[i]!.run(q, tenants[i]!.k, rows, rnd).catch(() => 0);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(workers, sessions.length)) }, loop));
}

/**
 * A closed loop: `workers` loops, each taking a session (its own, or a random idle one of
 * the pool when there are more sessions than workers) and running the dashboard's next
 * statement on it, back to back, until the end. Every session has run the dashboard once
 * before; then come the warm-up and the measured window.
 */
async function closedLoop(
  sessions: Session[],
  tenants: BenchTenant[],
  rows: number,
  workers: number,
  durationMs: number,
  warmupMs: number,
  rec: Recorder,
  seed: number,
): Promise<void> {
  await prime(sessions, tenants, rows, workers);
  const start = now();
  rec.measureFrom = start + warmupMs;
  rec.measureTo = rec.measureFrom + durationMs;
  const cpuDone = rec.scheduleCpu();
  const idle = sessions.map((_, i) => i);
  const pooled = sessions.length > workers;
  const busy = new Set<number>();
  const loop = async (w: number): Promise<void> => {
    const rnd = prng(seed + w);
    let qi = w % DASHBOARD.length;
    while (now() < rec.measureTo) {
      // Pooled: a uniformly random idle session (there is always one: more sessions than workers).
      let idx = w;
      if (pooled) {
        const j = Math.floor(rnd() * idle.length);
        idx = idle[j]!;
        idle[j] = idle[idle.length - 1]!;
        idle.pop();
      }
      const q = DASHBOARD[qi]!;
      qi = (qi + 1) % DASHBOARD.length;
      const t0 = now();
      busy.add(idx);
      try {
        await sessions[idx]!.run(q, tenants[idx]!.k, rows, rnd);
        rec.ok(q.name, t0, now());
      } catch (e) {
        rec.fail(q.name, e);
        if (now() < rec.measureTo) await sleep(5); // a broken session must not spin
      } finally {
        busy.delete(idx);
        if (pooled) idle.push(idx);
      }
    }
  };
  // Statements still running a while after the window are cancelled: the phase ends in
  // bounded time even when a target takes far longer per statement than the window.
  const straggle = setTimeout(
    () => {
      for (const i of busy) void sessions[i]!.cancel().catch(() => undefined);
    },
    rec.measureTo - now() + STRAGGLER_GRACE_MS,
  );
  await Promise.all(Array.from({ length: workers }, (_, w) => loop(w)));
  clearTimeout(straggle);
  await cpuDone;
}

async function dashboardPhase(driver: Driver, spec: Extract<PhaseSpec, { kind: 'dashboard' }>, probe?: CpuProbe): Promise<LoopResult> {
  const t0 = now();
  const sessions = await connectAll(driver, spec.tenants);
  const setupMs = now() - t0;
  const rec = new Recorder(probe);
  try {
    await closedLoop(sessions, spec.tenants, spec.rows, sessions.length, spec.durationMs, spec.warmupMs, rec, 100);
  } finally {
    await closeAll(sessions);
  }
  return rec.result(setupMs);
}

async function sweepPhase(driver: Driver, spec: Extract<PhaseSpec, { kind: 'sweep' }>, probe?: CpuProbe): Promise<LoopResult> {
  const t0 = now();
  const sessions = await connectAll(driver, spec.tenants);
  const setupMs = now() - t0;
  const rec = new Recorder(probe);
  try {
    await closedLoop(sessions, spec.tenants, spec.rows, Math.min(spec.workers, sessions.length), spec.durationMs, spec.warmupMs, rec, 200);
  } finally {
    await closeAll(sessions);
  }
  return rec.result(setupMs);
}

/** Each dashboard statement on its own, concurrency 1, after three unrecorded runs. */
async function warmPhase(driver: Driver, spec: Extract<PhaseSpec, { kind: 'warm' }>, probe?: CpuProbe): Promise<LoopResult> {
  const t0 = now();
  const s = await driver.connect(spec.tenant);
  const setupMs = now() - t0;
  const rec = new Recorder(probe);
  rec.measureFrom = 0;
  const rnd = prng(300);
  try {
    for (const q of DASHBOARD) {
      for (let i = 0; i < 3; i++) await s.run(q, spec.tenant.k, spec.rows, rnd).catch(() => 0);
      rec.measureTo = Infinity;
      const end = now() + spec.perQueryMs;
      rec.cpuStart();
      for (let i = 0; i < spec.maxIterations && now() < end; i++) {
        const a = now();
        try {
          await s.run(q, spec.tenant.k, spec.rows, rnd);
          rec.ok(q.name, a, now());
        } catch (e) {
          rec.fail(q.name, e);
        }
      }
      rec.cpuEnd();
    }
  } finally {
    await s.close();
  }
  rec.measureFrom = t0;
  rec.measureTo = now();
  return rec.result(setupMs);
}

async function exportPhase(driver: Driver, spec: Extract<PhaseSpec, { kind: 'export' }>): Promise<ExportResult> {
  const s = await driver.connect(spec.tenant);
  const runsMs: number[] = [];
  let rows = 0;
  try {
    for (let i = 0; i < spec.repeats; i++) {
      const t0 = now();
      rows = await s.exportAll();
      runsMs.push(now() - t0);
    }
  } finally {
    await s.close();
  }
  return { rows, runsMs };
}

/**
 * The victim's dashboard (victimClients sessions, closed loop) while, if `noisy` is given,
 * a noisy tenant runs HEAVY back to back on noisyClients sessions with a statement timeout.
 */
async function noisyPhase(driver: Driver, spec: Extract<PhaseSpec, { kind: 'noisy' }>, probe?: CpuProbe): Promise<NoisyResult> {
  const t0 = now();
  const victims = await connectAll(driver, Array.from({ length: spec.victimClients }, () => spec.victim));
  const setupMs = now() - t0;
  const noisyOut = { ok: 0, errors: {} as Record<string, number>, connectErrors: 0 };
  const noisySessions: Session[] = [];
  let stop = false;
  const noise: Promise<void>[] = [];
  if (spec.noisy) {
    const n = spec.noisy;
    for (let c = 0; c < spec.noisyClients; c++) {
      noise.push(
        (async () => {
          const rnd = prng(400 + c);
          let s: Session | null = null;
          while (!stop) {
            try {
              if (!s) {
                s = await driver.connect(n);
                noisySessions.push(s);
                await s.setStatementTimeout(spec.noisyTimeoutMs);
              }
              await s.run(HEAVY, n.k, spec.rows, rnd);
              noisyOut.ok += 1;
            } catch (e) {
              const key = errorKey(e);
              if (!s) noisyOut.connectErrors += 1;
              else noisyOut.errors[key] = (noisyOut.errors[key] ?? 0) + 1;
              await sleep(s ? 5 : 200);
            }
          }
        })(),
      );
    }
  }
  const rec = new Recorder(probe);
  try {
    // The noise starts first: the victim's warm-up also lets it reach its limits.
    await closedLoop(victims, victims.map(() => spec.victim), spec.rows, victims.length, spec.durationMs, spec.warmupMs, rec, 500);
  } finally {
    stop = true;
    // Cancel the noisy tenant's running statements (a closed connection alone would leave
    // a PostgreSQL backend running to its timeout), let its loops end, then close.
    await Promise.all(noisySessions.map((s) => s.cancel().catch(() => undefined)));
    await Promise.race([Promise.all(noise), sleep(spec.noisyTimeoutMs + 2000)]);
    await closeAll(noisySessions);
    await closeAll(victims);
  }
  return { victim: rec.result(setupMs), noisy: noisyOut };
}

/** Runs one phase; `probe`, when given, measures the server's CPU over the measured window. */
export async function runPhase(driver: Driver, spec: PhaseSpec, probe?: CpuProbe): Promise<PhaseResult> {
  switch (spec.kind) {
    case 'connect':
      return { kind: 'connect', result: await connectPhase(driver, spec, probe) };
    case 'dashboard':
      return { kind: 'dashboard', result: await dashboardPhase(driver, spec, probe) };
    case 'warm':
      return { kind: 'warm', result: await warmPhase(driver, spec, probe) };
    case 'export':
      return { kind: 'export', result: await exportPhase(driver, spec) };
    case 'sweep':
      return { kind: 'sweep', result: await sweepPhase(driver, spec, probe) };
    case 'noisy':
      return { kind: 'noisy', result: await noisyPhase(driver, spec, probe) };
  }
}
