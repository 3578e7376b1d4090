/**
 * DuckDB runs every query on libuv's thread pool, which has 4 threads unless
 * UV_THREADPOOL_SIZE says otherwise: four long queries would hold every thread and stall
 * every other tenant, and the file system, crypto (SCRAM) and DNS work of the whole
 * process with them. The process's query budget (config maxRunningQueries, QuerySlots)
 * caps the queries running at once; the pool is that budget plus SPARE_THREADS, so the
 * rest of the process always finds a thread.
 *
 * libuv reads the variable once, when the pool first starts, and an ES-module program has
 * started it before any of its code runs; so `serve` reads its configuration, then runs
 * itself again, once, with the variable set for the configured budget. Signals are passed
 * on and the exit status comes back. A variable set by the operator is left as it is; the
 * budget is then lowered to fit it, if it must (queryBudget).
 */
import { spawn } from 'node:child_process';
import { DEFAULTS } from '../config/config.js';

/** Threads of libuv's pool that DuckDB queries never take: for fs, crypto and dns. */
export const SPARE_THREADS = 4;

/** libuv's own bounds of UV_THREADPOOL_SIZE. */
const MAX_POOL = 1024;
const DEFAULT_POOL = 4;

/** The pool for a budget of running queries: the budget plus the spare threads. */
export function threadPoolSize(maxRunningQueries: number): number {
  return Math.min(MAX_POOL, maxRunningQueries + SPARE_THREADS);
}

/** The pool for the default budget (12 queries + 4 spare = 16). */
export const THREAD_POOL_SIZE = threadPoolSize(DEFAULTS.maxRunningQueries);

/**
 * The budget of running queries this process can keep: the configured one, lowered when
 * libuv's pool (UV_THREADPOOL_SIZE; 4 when unset) leaves fewer than SPARE_THREADS besides
 * it. Never below 1.
 */
export function queryBudget(configured: number, env: NodeJS.ProcessEnv = process.env): { budget: number; poolSize: number; lowered: boolean } {
  const n = Number(env.UV_THREADPOOL_SIZE);
  const poolSize = Number.isInteger(n) && n > 0 ? Math.min(n, MAX_POOL) : DEFAULT_POOL;
  const budget = Math.max(1, Math.min(configured, poolSize - SPARE_THREADS));
  return { budget, poolSize, lowered: budget < configured };
}

/**
 * True when this process must hand over to a re-run child (and has started it). size:
 * the pool the child gets (threadPoolSize of the configured budget).
 */
export function rerunWithThreadPool(size = THREAD_POOL_SIZE): boolean {
  if (process.env.UV_THREADPOOL_SIZE) return false;
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    // Its own process group: a terminal's Ctrl-C reaches only this process, which passes
    // it on once (the child would otherwise get it twice, and a second signal forces exit).
    detached: true,
    env: { ...process.env, UV_THREADPOOL_SIZE: String(size) },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + 15 : 1)));
  return true;
}
