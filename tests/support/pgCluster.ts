// A throwaway PostgreSQL cluster for tests and benchmarks: initdb into a temp dir, start it
// on a free loopback port (unix sockets in the same dir), trust auth, and remove it all on
// stop() or when the process exits.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const PG_BIN_DIR = process.env.TENANTGATE_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface PgCluster {
  host: string;
  port: number;
  /** Superuser name (trust auth on loopback, no password). */
  user: string;
  stop(): Promise<void>;
}

/**
 * Why PostgreSQL tests cannot run here, or undefined when they can.
 * Under CI=true a missing server is an error, never a skip.
 */
export function pgClusterSkipReason(): string | undefined {
  const missing = ['initdb', 'pg_ctl', 'postgres'].filter((b) => !existsSync(path.join(PG_BIN_DIR, b)));
  if (missing.length === 0) return undefined;
  const reason = `PostgreSQL server binaries not found in ${PG_BIN_DIR} (missing: ${missing.join(', ')}); install postgresql-15`;
  if (process.env.CI === 'true') throw new Error(reason);
  return reason;
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a server binary, as the `postgres` OS user when we are root (postgres refuses root). */
function runPg(bin: string, args: string[], timeoutMs = 60_000): string {
  const exe = path.join(PG_BIN_DIR, bin);
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
  return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startPgCluster(): Promise<PgCluster> {
  const reason = pgClusterSkipReason();
  if (reason) throw new Error(reason);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tenantgate-pg-'));
  const dataDir = path.join(dir, 'data');
  let running = false;
  const stopServer = (): void => {
    running = false;
    try {
      runPg('pg_ctl', ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '20'], 30_000);
    } catch {
      // not running; removing the data dir also makes a stray postmaster shut itself down
    }
  };
  const cleanup = (): void => {
    if (running) stopServer();
    rmSync(dir, { recursive: true, force: true });
  };
  // An interrupted run must not leave a server behind: clean up on exit, and on SIGINT or
  // SIGTERM too (then re-raise the signal when nobody else handles it).
  const onSignal = (signal: NodeJS.Signals): void => {
    unregister();
    cleanup();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const unregister = (): void => {
    process.removeListener('exit', cleanup);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };
  process.on('exit', cleanup);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (asRoot) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      chownSync(dir, uid, gid);
    }
    const user = 'postgres';
    runPg('initdb', ['-D', dataDir, '-U', user, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    const log = path.join(dir, 'server.log');
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
      running = true; // from here on cleanup() stops whatever may have started
      try {
        runPg('pg_ctl', ['start', '-D', dataDir, '-w', '-t', '30', '-l', log, '-o', opts]);
        const stop = async (): Promise<void> => {
          unregister();
          cleanup();
        };
        return { host: '127.0.0.1', port, user, stop };
      } catch (err) {
        lastError = err; // most likely the port was taken between probe and start: retry
        stopServer();
      }
    }
    const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
    throw new Error(`PostgreSQL did not start: ${String(lastError)}\n${tail}`);
  } catch (err) {
    unregister();
    cleanup();
    throw err;
  }
}
