// tenantgate as an operator runs it: tenants and plans made through the library calls the
// CLI makes (registry updates, `split` of one global table into every tenant), then
// `tenantgate serve` as a separate process, compiled (not through tsx, whose loader would
// count in the server's memory), so that /proc shows its own memory and CPU.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_PLANS, type Plan } from '../../src/tenants/plans.js';
import { makeVerifier, newTenantRecord, Registry, setPlan, setTenantPlan, type Isolation } from '../../src/tenants/registry.js';
import { splitTable } from '../../src/tenants/shared.js';
import { THREAD_POOL_SIZE } from '../../src/server/threadPool.js';
import { onCleanup } from './cleanup.js';
import type { BenchTenant } from './data.js';

export const BENCH_PLAN = 'bench';
/** The noisy-neighbour victim's plan: pro, without its rate quota (see victimPlan). */
export const VICTIM_PLAN = 'bench-pro';

/** Newest modification time under a folder (ms). */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

export interface Build {
  mainJs: string;
  /** Why the build was (re)made or reused, for the log. */
  note: string;
}

/**
 * Compiles src/ into `outDir` unless it is newer than every source file. tsc writes its
 * output even when other parts of the tree do not type-check; that is reported, and the
 * build is used when the CLI's entry point is there.
 */
export function ensureBuild(repo: string, outDir: string, force: boolean): Promise<Build> {
  const mainJs = path.join(outDir, 'cli', 'main.js');
  const stamp = path.join(outDir, '.stamp');
  const srcNewest = newestMtime(path.join(repo, 'src'));
  if (!force && fs.existsSync(mainJs) && fs.existsSync(stamp) && fs.statSync(stamp).mtimeMs >= srcNewest) {
    return Promise.resolve({ mainJs, note: 'compiled build is up to date' });
  }
  const started = Date.now();
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(repo, 'tsconfig.build.json'), '--outDir', outDir],
      { cwd: repo, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout) => {
        if (!fs.existsSync(mainJs)) {
          reject(new Error(`building tenantgate failed: ${err?.message ?? ''}\n${stdout.slice(0, 2000)}`));
          return;
        }
        fs.writeFileSync(stamp, new Date(started).toISOString());
        // The stamp carries the start time: a file changed during the build makes the next run rebuild.
        fs.utimesSync(stamp, new Date(started), new Date(started));
        const note = err ? `compiled with type errors in the tree (${stdout.split('\n').filter(Boolean).length} lines of tsc output)` : 'compiled';
        resolve({ mainJs, note: `${note} in ${((Date.now() - started) / 1000).toFixed(1)} s` });
      },
    );
  });
}

/** The benchmark's plan: enterprise's limits, with the instance threads given. */
export function benchPlan(threads: number): Plan {
  return { ...DEFAULT_PLANS.enterprise!, name: BENCH_PLAN, threads, maxConnections: null };
}

/**
 * pro's limits without its queries-per-minute quota: the victim runs its dashboard in a
 * closed loop, far above pro's 600 a minute, and its latency must show the neighbour's
 * interference, not its own quota.
 */
export function victimPlan(): Plan {
  return { ...DEFAULT_PLANS.pro!, name: VICTIM_PLAN, queriesPerMinute: null };
}

export interface LoadedDataDir {
  dataDir: string;
  registry: Registry;
  setupMs: number;
  splitMs: number;
  rows: number;
}

/**
 * A data folder with the bench plan and every tenant (isolation given), each with its
 * first user, then `split` of the global table into all of them.
 */
export async function prepareDataDir(
  dataDir: string,
  tenants: BenchTenant[],
  isolation: Isolation,
  parquet: string,
  threads: number,
): Promise<LoadedDataDir> {
  const t0 = performance.now();
  const registry = new Registry(dataDir);
  await setPlan(registry, benchPlan(threads));
  await setPlan(registry, victimPlan());
  const verifiers = await Promise.all(tenants.map((t) => makeVerifier(t.password)));
  await registry.update((data) => {
    tenants.forEach((t, i) => {
      data.tenants[t.id] = newTenantRecord({ id: t.id, name: t.id, plan: BENCH_PLAN, isolation, scram: verifiers[i]! });
    });
  });
  const t1 = performance.now();
  const r = await splitTable(registry, 'orders', parquet);
  const failed = r.tenants.filter((t) => t.error !== null);
  if (failed.length > 0) throw new Error(`split failed for ${failed.length} tenants: ${failed[0]!.id}: ${failed[0]!.error}`);
  return { dataDir, registry, setupMs: t1 - t0, splitMs: performance.now() - t1, rows: r.rows };
}

/** Puts tenants on plans, as `tenantgate tenant set <id> --plan <plan>` does. */
export async function setPlans(registry: Registry, plans: Record<string, string>): Promise<void> {
  for (const [id, plan] of Object.entries(plans)) await setTenantPlan(registry, id, plan);
}

export interface GatewayProcess {
  pid: number;
  port: number;
  metricsPort: number | null;
  output(): string;
  stop(): Promise<void>;
}

/**
 * `node <build>/cli/main.js serve` on 127.0.0.1, port 0 (the chosen port is read from its
 * "tenantgate listening on" line). UV_THREADPOOL_SIZE is set as serve would set it, so
 * serve does not re-run itself and the pid is the server's.
 */
export async function startGateway(mainJs: string, dataDir: string, config: Record<string, unknown>, cwd: string): Promise<GatewayProcess> {
  const configFile = path.join(dataDir, 'bench-config.json');
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  const child: ChildProcess = spawn(
    process.execPath,
    [mainJs, 'serve', '--data', dataDir, '--host', '127.0.0.1', '--port', '0', '--config', configFile],
    { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, UV_THREADPOOL_SIZE: String(THREAD_POOL_SIZE) }, detached: true },
  );
  let out = '';
  const keep = (d: Buffer): void => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(kill, 15_000);
    await exited;
    clearTimeout(t);
  };
  const unregister = onCleanup(`stop gateway ${child.pid}`, stop, kill);
  const ports = await new Promise<{ port: number; metricsPort: number | null }>((resolve, reject) => {
    const timer = setTimeout(() => {
      kill();
      reject(new Error(`tenantgate did not start:\n${out.slice(-3000)}`));
    }, 60_000);
    const check = (): void => {
      const m = /tenantgate listening on [^\s]+:(\d+)/.exec(out);
      if (!m) return;
      const wantsMetrics = config.metricsPort !== undefined && config.metricsPort !== null;
      const mm = /metrics on http:\/\/[^\s]+:(\d+)\//.exec(out);
      if (wantsMetrics && !mm) return;
      clearTimeout(timer);
      child.stderr!.off('data', check);
      resolve({ port: Number(m[1]), metricsPort: mm ? Number(mm[1]) : null });
    };
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tenantgate exited with ${code}:\n${out.slice(-3000)}`));
    });
  });
  return {
    pid: child.pid!,
    ...ports,
    output: () => out,
    stop: async () => {
      await unregister();
    },
  };
}

/** The gateway's Prometheus counters whose names start with a prefix, summed over labels. */
export async function scrapeMetrics(port: number | null, prefixes: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  if (port === null) return out;
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    for (const line of text.split('\n')) {
      if (line.startsWith('#')) continue;
      const m = /^([a-z_]+)(?:\{[^}]*\})? ([0-9.e+-]+)$/.exec(line.trim());
      if (!m || !prefixes.some((p) => m[1]!.startsWith(p))) continue;
      out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
    }
  } catch {
    // metrics are extra information; a failure leaves them out
  }
  return out;
}
