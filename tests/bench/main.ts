// `npm run bench`: tenantgate (database and shared isolation) against PostgreSQL 15 (one
// table with row-level security, and one schema per tenant) and against DuckDB in-process
// on the same files, on the same generated data and the same workloads, in one run.
// Results go to .bench/<timestamp>/ (results.json, results.md, chart.svg).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULTS } from '../../src/config/config.js';
import { THREAD_POOL_SIZE } from '../../src/server/threadPool.js';
import { cleanupAll, onCleanup, tempFolder } from './cleanup.js';
import { benchTenants, generateFiles, type BenchTenant } from './data.js';
import { InprocWorker } from './inprocWorker.js';
import { benchCommand, resolveOptions, type BenchOptions, type TargetName } from './options.js';
import { PgDriver } from './pgDriver.js';
import { limitNoisyRole, loadPostgres, PG_DATABASE, pgSizes, startBenchPostgres, type BenchPostgres } from './postgres.js';
import { diskUsage, machineBusySeconds, MemorySampler, treeCpuSeconds, treeMemory } from './procstat.js';
import { loopStats, renderMarkdown, renderResultsChart, type BenchResults, type ExportStats, type PhaseCost, type TargetResult } from './report.js';
import { benchPlan, VICTIM_PLAN, ensureBuild, prepareDataDir, scrapeMetrics, setPlans, startGateway, type LoadedDataDir } from './tenantgate.js';
import { runPhase, type PhaseResult, type PhaseSpec } from './workloads.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const T0 = performance.now();

function log(msg: string): void {
  process.stderr.write(`[${((performance.now() - T0) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);
}

/** What measureTarget needs from a target. */
interface TargetHandle {
  name: TargetName;
  description: string;
  roots(): number[];
  run(spec: PhaseSpec): Promise<PhaseResult>;
  psqlExport?(t: BenchTenant): Promise<number>;
  /** Puts the victim on pro and the noisy tenant on free (or the nearest thing); returns how. */
  limitNoisy?(victim: BenchTenant, noisy: BenchTenant): Promise<string>;
  metrics?(): Promise<Record<string, number>>;
  diskBytes(): Promise<number>;
}

const VICTIM_CLIENTS = 2;
const NOISY_CLIENTS = 5; // the free plan's connections
const NOISY_TIMEOUT_MS = 10_000;

async function measureTarget(h: TargetHandle, o: BenchOptions, tenants: BenchTenant[], deadline: number): Promise<TargetResult> {
  const sampler = new MemorySampler(() => h.roots());
  const idle = treeMemory(h.roots());
  const res: TargetResult = {
    name: h.name,
    description: h.description,
    idlePssBytes: idle.pssBytes,
    idleRssBytes: idle.rssBytes,
    peakPssBytes: idle.pssBytes,
    peakRssBytes: idle.rssBytes,
    diskBytes: NaN,
    sweep: [],
    metrics: {},
    skipped: [],
    failures: [],
  };
  sampler.start();
  const measured = async <T>(fn: () => Promise<T>): Promise<{ value: T; cost: PhaseCost }> => {
    sampler.reset();
    sampler.sampleNow();
    const cpu0 = treeCpuSeconds(h.roots());
    const c0 = process.cpuUsage();
    const busy0 = machineBusySeconds();
    const w0 = performance.now();
    const value = await fn();
    sampler.sampleNow();
    const c1 = process.cpuUsage(c0);
    const busy = machineBusySeconds() - busy0;
    const peak = sampler.read();
    const serverCpuS = treeCpuSeconds(h.roots()) - cpu0;
    const clientCpuS = (c1.user + c1.system) / 1e6;
    const wallS = (performance.now() - w0) / 1000;
    res.peakPssBytes = Math.max(res.peakPssBytes, peak.peakPssBytes);
    res.peakRssBytes = Math.max(res.peakRssBytes, peak.peakRssBytes);
    return {
      value,
      cost: {
        wallS,
        serverCpuS,
        clientCpuS,
        peakPssBytes: peak.peakPssBytes,
        peakRssBytes: peak.peakRssBytes,
        maxProcesses: peak.maxProcesses,
        // psql children of the benchmark count as other work; they run only in the export.
        otherCores: Math.max(0, busy - serverCpuS - clientCpuS) / wallS,
      },
    };
  };
  const phase = async (name: string, fn: () => Promise<void>): Promise<void> => {
    if (Date.now() > deadline) {
      res.skipped.push(name);
      log(`${h.name}: ${name} skipped (time budget)`);
      return;
    }
    log(`${h.name}: ${name}`);
    try {
      await fn();
    } catch (e) {
      const msg = (e as Error).message.split('\n')[0]!.slice(0, 300);
      res.failures.push(`${name}: ${msg}`);
      log(`${h.name}: ${name} failed: ${msg}`);
    }
    if (h.metrics) res.metrics[name] = await h.metrics();
  };
  const loop = async (spec: PhaseSpec) => {
    const { value, cost } = await measured(() => h.run(spec));
    if (value.kind === 'export' || value.kind === 'noisy') throw new Error('not a loop phase');
    return loopStats(value.result, cost);
  };
  const first = tenants[0]!;
  const warmupMs = o.warmupS * 1000;
  try {
    await phase('warm', async () => {
      res.warm = await loop({ kind: 'warm', tenant: first, rows: o.rows, perQueryMs: o.warmPerQueryS * 1000, maxIterations: o.warmMaxIterations });
    });
    await phase('dashboard', async () => {
      res.dashboard = await loop({ kind: 'dashboard', tenants: tenants.slice(0, o.clients), rows: o.rows, durationMs: o.durationS * 1000, warmupMs });
    });
    await phase('connect', async () => {
      res.connect = await loop({ kind: 'connect', tenants: tenants.slice(0, o.clients), iterations: o.connectIterations, maxMs: 60_000 });
    });
    await phase('export', async () => {
      const { value, cost } = await measured(async () => {
        const r = await h.run({ kind: 'export', tenant: first, repeats: o.exportRepeats });
        if (r.kind !== 'export') throw new Error('unexpected result');
        const psqlRunsMs: number[] = [];
        let error: string | null = null;
        if (h.psqlExport) {
          for (let i = 0; i < o.exportRepeats; i++) {
            const t = performance.now();
            try {
              const n = await h.psqlExport(first);
              if (n !== r.result.rows) throw new Error(`psql copied ${n} rows, node-postgres read ${r.result.rows}`);
              psqlRunsMs.push(performance.now() - t);
            } catch (e) {
              error = (e as Error).message;
            }
          }
        }
        return { ...r.result, psqlRunsMs, error };
      });
      const best = (runs: number[]): number => Math.min(...runs);
      const e: ExportStats = {
        rows: value.rows,
        nodeRunsMs: value.runsMs,
        nodeRowsPerS: value.rows / (best(value.runsMs) / 1000),
        psqlRunsMs: value.psqlRunsMs,
        psqlRowsPerS: value.psqlRunsMs.length ? value.rows / (best(value.psqlRunsMs) / 1000) : null,
        error: value.error,
        cost,
      };
      res.export = e;
      if (e.error) res.failures.push(`psql export: ${e.error}`);
    });
    for (const n of o.sweep) {
      await phase(`sweep ${n}`, async () => {
        const stats = await loop({ kind: 'sweep', tenants: tenants.slice(0, n), rows: o.rows, workers: o.sweepWorkers, durationMs: o.sweepS * 1000, warmupMs });
        res.sweep.push({ tenants: n, stats });
      });
    }
    if (h.metrics && o.sweep.length > 0) res.metrics.sweep = res.metrics[`sweep ${o.sweep[o.sweep.length - 1]}`] ?? {};
    if (h.limitNoisy && o.noisyS > 0 && tenants.length >= 2) {
      const victim = tenants[0]!;
      const noisy = tenants[1]!;
      await phase('noisy neighbour', async () => {
        const limits = await h.limitNoisy!(victim, noisy);
        const spec = (withNoise: boolean): PhaseSpec => ({
          kind: 'noisy',
          victim,
          noisy: withNoise ? noisy : null,
          rows: o.rows,
          durationMs: o.noisyS * 1000,
          warmupMs,
          victimClients: VICTIM_CLIENTS,
          noisyClients: NOISY_CLIENTS,
          noisyTimeoutMs: NOISY_TIMEOUT_MS,
        });
        const run = async (withNoise: boolean) => {
          const { value, cost } = await measured(() => h.run(spec(withNoise)));
          if (value.kind !== 'noisy') throw new Error('unexpected result');
          return { stats: loopStats(value.result.victim, cost), noisy: value.result.noisy };
        };
        const alone = await run(false);
        const withNoise = await run(true);
        res.noisy = {
          alone: alone.stats,
          withNoise: withNoise.stats,
          noisyOk: withNoise.noisy.ok,
          noisyErrors: withNoise.noisy.errors,
          noisyConnectErrors: withNoise.noisy.connectErrors,
          limits,
        };
      });
    }
  } finally {
    sampler.stop();
  }
  res.diskBytes = await h.diskBytes();
  return res;
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: REPO, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} (src/ with uncommitted changes)` : head;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const program = benchCommand();
  program.parse(process.argv);
  const o = resolveOptions(program.opts());
  const started = new Date();
  const loadAtStart = os.loadavg()[0]!;
  const deadline = Date.now() + o.maxMinutes * 60_000;
  const stamp = started.toISOString().replace(/[:.]/g, '-').replace(/-\d{3}Z$/, 'Z');
  const outDir = path.resolve(o.out ?? path.join(REPO, '.bench', stamp));
  const tenants = benchTenants(o.tenants);
  const cores = os.availableParallelism();
  const want = (t: TargetName): boolean => o.targets.includes(t);
  const needDb = want('tenantgate-db') || want('duckdb-inproc');
  const needShared = want('tenantgate-shared') || want('duckdb-inproc-shared');
  const needGateway = want('tenantgate-db') || want('tenantgate-shared');
  const needPg = want('pg-rls') || want('pg-schema');
  log(
    `preset ${o.preset}: ${o.tenants} tenants × ${o.rows} rows, ${o.clients} clients, targets ${o.targets.join(', ')}; ` +
      `budget ${o.maxMinutes} min; results in ${path.relative(process.cwd(), outDir) || outDir}`,
  );

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantgate-bench-'));
  tempFolder(tmp, o.keep);
  if (o.keep) log(`data kept in ${tmp}`);
  const certs = path.join(tmp, 'certs');
  execFileSync('sh', [path.join(REPO, 'certs', 'make-dev-certs.sh'), certs], { stdio: 'ignore' });
  const caFile = path.join(certs, 'ca.crt');

  // The compile runs while the data are generated and loaded.
  const build = needGateway ? ensureBuild(REPO, path.join(REPO, '.bench', 'build'), o.rebuild) : null;
  build?.catch(() => undefined);

  const load: Record<string, number> = {};
  log('generating data');
  const files = await generateFiles(o.tenants, o.rows, path.join(tmp, 'orders.parquet'), needPg ? path.join(tmp, 'orders.csv') : null, cores);
  load['generate (DuckDB)'] = files.ms;
  log(`generated ${files.rows} rows in ${(files.ms / 1000).toFixed(1)} s`);

  let dbDir: LoadedDataDir | null = null;
  let sharedDir: LoadedDataDir | null = null;
  if (needDb) {
    log('loading tenantgate, database isolation (split)');
    dbDir = await prepareDataDir(path.join(tmp, 'tg-db'), tenants, 'database', files.parquet, cores);
    load['tenantgate db: tenants'] = dbDir.setupMs;
    load['tenantgate db: split'] = dbDir.splitMs;
  }
  if (needShared) {
    log('loading tenantgate, shared isolation (split)');
    sharedDir = await prepareDataDir(path.join(tmp, 'tg-shared'), tenants, 'shared', files.parquet, cores);
    load['tenantgate shared: tenants'] = sharedDir.setupMs;
    load['tenantgate shared: split'] = sharedDir.splitMs;
  }
  let gatewayBuild = 'not used';
  let mainJs = '';
  if (build) {
    const b = await build;
    mainJs = b.mainJs;
    gatewayBuild = `${path.relative(REPO, b.mainJs)} (${b.note})`;
    log(`tenantgate build: ${b.note}`);
  }

  const results: TargetResult[] = [];
  const gatewayConfig = {
    tls: { cert: path.join(certs, 'server.crt'), key: path.join(certs, 'server.key') },
    logLevel: 'warn',
    metricsPort: 0,
    ...o.gatewayConfig,
  };
  const metricNames = ['tenantgate_instance_cache_', 'tenantgate_instance_open_seconds_sum', 'tenantgate_instance_open_seconds_count', 'tenantgate_instances_open'];

  const gatewayTarget = async (name: TargetName, dir: LoadedDataDir, description: string): Promise<void> => {
    log(`${name}: starting tenantgate`);
    const gw = await startGateway(mainJs, dir.dataDir, gatewayConfig, REPO);
    try {
      const driver = new PgDriver({ host: '127.0.0.1', port: gw.port, caFile, database: (t) => t.id });
      const r = await measureTarget(
        {
          name,
          description,
          roots: () => [gw.pid],
          run: (spec) => runPhase(driver, spec, () => treeCpuSeconds([gw.pid])),
          psqlExport: (t) => driver.psqlExport(t, 120_000),
          limitNoisy: async (victim, noisy) => {
            await setPlans(dir.registry, { [victim.id]: VICTIM_PLAN, [noisy.id]: 'free' });
            return 'plan free: 2 queries at once, 60 a minute, 2 threads, 256MB, 5 connections (victim: pro without its rate quota)';
          },
          metrics: () => scrapeMetrics(gw.metricsPort, metricNames),
          diskBytes: async () => diskUsage(path.join(dir.dataDir, name === 'tenantgate-db' ? 'tenants' : 'shared')),
        },
        o,
        tenants,
        deadline,
      );
      results.push(r);
    } finally {
      await gw.stop();
    }
  };

  const inprocTarget = async (name: TargetName, dir: LoadedDataDir, description: string): Promise<void> => {
    log(`${name}: starting the in-process worker`);
    const data = await dir.registry.read();
    const plan = benchPlan(cores);
    const spec =
      name === 'duckdb-inproc'
        ? {
            files: Object.fromEntries(Object.values(data.tenants).map((t) => [t.id, dir.registry.snapshotPath(t)!])),
            threads: plan.threads,
            memoryLimit: plan.memoryLimit,
            maxRunning: o.inprocAdmission ? DEFAULTS.maxRunningQueries : undefined,
          }
        : {
            sharedFile: dir.registry.sharedSnapshotPath(data)!,
            threads: DEFAULTS.sharedThreads,
            memoryLimit: DEFAULTS.sharedMemoryLimit,
            maxRunning: o.inprocAdmission ? DEFAULTS.maxRunningQueries : undefined,
          };
    const worker = await InprocWorker.start(spec, { ...process.env, UV_THREADPOOL_SIZE: String(THREAD_POOL_SIZE) });
    const unregister = onCleanup('stop in-process worker', () => worker.stop(), () => worker.kill());
    try {
      results.push(
        await measureTarget(
          {
            name,
            description,
            roots: () => [worker.pid],
            run: (s) => worker.runPhase(s),
            diskBytes: async () => diskUsage(path.join(dir.dataDir, name === 'duckdb-inproc' ? 'tenants' : 'shared')),
          },
          o,
          tenants,
          deadline,
        ),
      );
    } finally {
      await unregister();
    }
  };

  if (want('tenantgate-db') && dbDir) {
    await gatewayTarget('tenantgate-db', dbDir, `tenantgate serve (compiled, separate process), database isolation: one DuckDB snapshot file per tenant; plan "bench" (enterprise limits, ${cores} threads)`);
  }
  if (want('duckdb-inproc') && dbDir) {
    await inprocTarget('duckdb-inproc', dbDir, `@duckdb/node-api in one process on the same per-tenant files (READ_ONLY, ${cores} threads each), no network, no gate`);
  }
  if (want('tenantgate-shared') && sharedDir) {
    await gatewayTarget('tenantgate-shared', sharedDir, `tenantgate serve, shared isolation: every tenant's rows in one shared DuckDB file (tenant_id first), filtered by the gateway; shared pool ${DEFAULTS.sharedThreads} threads, ${DEFAULTS.sharedMemoryLimit}`);
  }
  if (want('duckdb-inproc-shared') && sharedDir) {
    await inprocTarget('duckdb-inproc-shared', sharedDir, `@duckdb/node-api in one process on the same shared file, with the tenant filter written into each statement (as the gateway does)`);
  }

  let bpg: BenchPostgres | null = null;
  if (needPg) {
    if (Date.now() > deadline) {
      log('PostgreSQL skipped (time budget)');
    } else {
      const maxConnections = Math.max(o.clients, ...o.sweep) + VICTIM_CLIENTS + NOISY_CLIENTS + 30;
      log(`starting PostgreSQL (max_connections ${maxConnections})`);
      bpg = await startBenchPostgres(certs, maxConnections);
      log('loading PostgreSQL (COPY, indexes, RLS, one schema per tenant)');
      const pl = await loadPostgres(bpg, tenants, files.csv!);
      load['postgres: COPY'] = pl.copyMs;
      load['postgres: RLS indexes + VACUUM ANALYZE'] = pl.rlsIndexMs;
      load['postgres: schema per tenant'] = pl.schemasMs;
      // A fresh start, so that memory measured is the workload's, not the load's.
      bpg.restart();
      const sizes = await pgSizes(bpg);
      const pgHandle = (name: TargetName, searchPath: (t: BenchTenant) => string, description: string, disk: number): TargetHandle => {
        const driver = new PgDriver({ host: bpg!.host, port: bpg!.port, caFile, database: () => PG_DATABASE, options: (t) => `-c search_path=${searchPath(t)}` });
        return {
          name,
          description,
          roots: () => [bpg!.postmasterPid()],
          run: (spec) => runPhase(driver, spec, () => treeCpuSeconds([bpg!.postmasterPid()])),
          psqlExport: (t) => driver.psqlExport(t, 120_000),
          limitNoisy: async (_victim, noisy) => {
            await limitNoisyRole(bpg!, noisy, NOISY_CLIENTS);
            return `CONNECTION LIMIT ${NOISY_CLIENTS}, statement_timeout ${NOISY_TIMEOUT_MS / 1000}s (no per-role CPU or concurrency limit in PostgreSQL)`;
          },
          diskBytes: async () => disk,
        };
      };
      const pgDesc = `PostgreSQL ${bpg.version}, shared_buffers ${bpg.settings.shared_buffers}, work_mem ${bpg.settings.work_mem}, jit ${bpg.settings.jit}, TLS + SCRAM`;
      if (want('pg-rls')) {
        results.push(
          await measureTarget(
            pgHandle('pg-rls', () => 'shared', `${pgDesc}; one table shared.orders with tenant_id, RLS policy tenant_id = current_user, indexes (tenant_id, order_id), (tenant_id, order_date)`, sizes.rls),
            o,
            tenants,
            deadline,
          ),
        );
      }
      if (want('pg-schema')) {
        results.push(
          await measureTarget(
            pgHandle('pg-schema', (t) => t.id, `${pgDesc}; one schema per tenant (search_path), indexes on order_id and order_date`, sizes.schemas),
            o,
            tenants,
            deadline,
          ),
        );
      }
    }
  }

  const order = o.targets;
  results.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  const cpus = os.cpus();
  const out: BenchResults = {
    meta: {
      preset: o.preset,
      tenants: o.tenants,
      rows: o.rows,
      clients: o.clients,
      durationS: o.durationS,
      warmupS: o.warmupS,
      warmPerQueryS: o.warmPerQueryS,
      sweep: o.sweep,
      sweepWorkers: o.sweepWorkers,
      noisyS: o.noisyS,
      started: started.toISOString(),
      finishedAt: new Date().toISOString(),
      wallS: (performance.now() - T0) / 1000,
      machine: { cpus: cpus.length, model: cpus[0]?.model.trim() ?? 'unknown', memGiB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release() },
      loadAverage: [loadAtStart, os.loadavg()[0]!],
      node: process.versions.node,
      duckdb: files.duckdbVersion,
      postgres: bpg?.version ?? null,
      postgresSettings: bpg?.settings ?? {},
      commit: gitCommit(),
      tls: 'every network client over verified TLS with SCRAM-SHA-256',
      gatewayBuild,
      gatewayConfig: o.gatewayConfig,
    },
    load,
    targets: results,
  };
  fs.mkdirSync(outDir, { recursive: true });
  const md = renderMarkdown(out);
  fs.writeFileSync(path.join(outDir, 'results.json'), `${JSON.stringify(out, null, 2)}\n`);
  fs.writeFileSync(path.join(outDir, 'results.md'), md);
  fs.writeFileSync(path.join(outDir, 'chart.svg'), renderResultsChart(out));
  process.stdout.write(`\n${md}\n`);
  log(`results: ${path.join(outDir, 'results.md')}, results.json, chart.svg`);
}

main()
  .then(async () => {
    await cleanupAll();
    process.exit(0);
  })
  .catch(async (e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    await cleanupAll();
    process.exit(1);
  });
