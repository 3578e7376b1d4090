/**
 * DuckDB runs every query on libuv's thread pool, which has 4 threads unless
 * UV_THREADPOOL_SIZE says otherwise: four long queries would hold every thread and stall
 * every other tenant. libuv reads the variable once, when the pool first starts, and an
 * ES-module program has started it before any of its code runs; so `serve` runs itself
 * again, once, with the variable set. Signals are passed on and the exit status comes back.
 */
import { spawn } from 'node:child_process';

export const THREAD_POOL_SIZE = 16;

/** True when this process must hand over to a re-run child (and has started it). */
export function rerunWithThreadPool(): boolean {
  if (process.env.UV_THREADPOOL_SIZE) return false;
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    // Its own process group: a terminal's Ctrl-C reaches only this process, which passes
    // it on once (the child would otherwise get it twice, and a second signal forces exit).
    detached: true,
    env: { ...process.env, UV_THREADPOOL_SIZE: String(THREAD_POOL_SIZE) },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + 15 : 1)));
  return true;
}
