// The results: what a run keeps (results.json), the markdown tables (results.md) and the
// chart's panels. Pure functions of the results, so they can be tested and re-rendered.
import type { TargetName } from './options.js';
import { DASHBOARD } from './queries.js';
import { Histogram, summarize, type LatencySummary } from './stats.js';
import { renderChart, type Panel } from './svg.js';
import type { LoopResult } from './workloads.js';

export interface PhaseCost {
  wallS: number;
  /** CPU seconds of the server's process tree during the phase. */
  serverCpuS: number;
  /** CPU seconds of the benchmark's own process (the clients) during the phase. */
  clientCpuS: number;
  peakPssBytes: number;
  peakRssBytes: number;
  maxProcesses: number;
  /** Cores busy with anything but the server and the benchmark during the phase (other work on the machine). */
  otherCores: number;
}

export interface LoopStats {
  durationS: number;
  completed: number;
  qps: number;
  all: LatencySummary;
  perQuery: Record<string, LatencySummary>;
  errorCount: number;
  errors: Record<string, number>;
  errorSamples: string[];
  setupS: number;
  /** Server CPU seconds in the measured window (null: not measured). */
  windowServerCpuS: number | null;
  /** The clients' CPU seconds in the measured window (the benchmark's process; in-process: the target itself). */
  windowClientCpuS: number | null;
  cost: PhaseCost;
}

/** Server CPU milliseconds per statement completed in the measured window. */
export function cpuMsPerQuery(s: LoopStats | undefined): number {
  if (!s || s.completed === 0) return NaN;
  return ((s.windowServerCpuS ?? s.cost.serverCpuS) * 1000) / s.completed;
}

/** Cores the server used on average in the measured window. */
export function serverCores(s: LoopStats | undefined): number {
  if (!s || s.windowServerCpuS === null || s.durationS <= 0) return NaN;
  return s.windowServerCpuS / s.durationS;
}

export interface ExportStats {
  rows: number;
  nodeRowsPerS: number;
  nodeRunsMs: number[];
  psqlRowsPerS: number | null;
  psqlRunsMs: number[];
  error: string | null;
  cost: PhaseCost;
}

export interface NoisyStats {
  alone: LoopStats;
  withNoise: LoopStats;
  noisyOk: number;
  noisyErrors: Record<string, number>;
  noisyConnectErrors: number;
  /** How the noisy tenant is limited on this target. */
  limits: string;
}

export interface TargetResult {
  name: TargetName;
  description: string;
  idlePssBytes: number;
  idleRssBytes: number;
  peakPssBytes: number;
  peakRssBytes: number;
  diskBytes: number;
  warm?: LoopStats;
  dashboard?: LoopStats;
  connect?: LoopStats;
  export?: ExportStats;
  sweep: { tenants: number; stats: LoopStats }[];
  noisy?: NoisyStats;
  metrics: Record<string, Record<string, number>>;
  skipped: string[];
  failures: string[];
}

export interface BenchResults {
  meta: {
    preset: string;
    tenants: number;
    rows: number;
    clients: number;
    durationS: number;
    warmupS: number;
    warmPerQueryS: number;
    sweep: number[];
    sweepWorkers: number;
    noisyS: number;
    started: string;
    finishedAt: string;
    wallS: number;
    machine: { cpus: number; model: string; memGiB: number; kernel: string };
    /** 1-minute load average when the run started and when it ended (other work on the machine shows here). */
    loadAverage: [number, number];
    node: string;
    duckdb: string;
    postgres: string | null;
    postgresSettings: Record<string, string>;
    commit: string;
    tls: string;
    gatewayBuild: string;
    /** Keys given to the gateway's configuration besides TLS, log level and metrics. */
    gatewayConfig?: Record<string, unknown>;
  };
  load: Record<string, number>;
  targets: TargetResult[];
}

export function loopStats(r: LoopResult, cost: PhaseCost): LoopStats {
  const perQuery: Record<string, LatencySummary> = {};
  for (const [name, h] of Object.entries(r.latency)) if (name !== 'all') perQuery[name] = summarize(Histogram.fromJSON(h));
  const durationS = r.durationMs / 1000;
  return {
    durationS,
    completed: r.completed,
    qps: durationS > 0 ? r.completed / durationS : NaN,
    all: summarize(Histogram.fromJSON(r.latency.all ?? { counts: [], count: 0, sumMs: 0, minMs: 0, maxMs: 0 })),
    perQuery,
    errorCount: r.errorCount,
    errors: r.errors,
    errorSamples: r.errorSamples,
    setupS: r.setupMs / 1000,
    windowServerCpuS: r.windowServerCpuS,
    windowClientCpuS: r.windowClientCpuS,
    cost,
  };
}

// ---------------------------------------------------------------------------------------
// Formatting

export function ms(v: number | undefined | null): string {
  if (v === undefined || v === null || !Number.isFinite(v)) return '–';
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

export function num(v: number | undefined | null, digits = 0): string {
  if (v === undefined || v === null || !Number.isFinite(v)) return '–';
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function mib(bytes: number | undefined | null): string {
  if (bytes === undefined || bytes === null || !Number.isFinite(bytes) || bytes <= 0) return '–';
  return `${num(bytes / 1024 / 1024)} MiB`;
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const ratio = (a: number | undefined, b: number | undefined): number => (a !== undefined && b !== undefined && b > 0 ? a / b : NaN);

function errorsText(s: LoopStats | undefined): string {
  if (!s) return '–';
  if (s.errorCount === 0) return '0';
  const kinds = Object.entries(s.errors)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 2)
    .map(([k, n]) => `${n}× ${k}`)
    .join(', ');
  return `${s.errorCount} (${kinds})`;
}

export function find(res: BenchResults, name: TargetName): TargetResult | undefined {
  return res.targets.find((t) => t.name === name);
}

/** tenantgate's warm p50 minus the in-process p50 of the same statement, per statement (ms). */
export function overheads(res: BenchResults, gateway: TargetName, inproc: TargetName): Record<string, number> {
  const g = find(res, gateway)?.warm;
  const d = find(res, inproc)?.warm;
  const out: Record<string, number> = {};
  if (!g || !d) return out;
  for (const q of DASHBOARD) {
    const a = g.perQuery[q.name]?.p50Ms;
    const b = d.perQuery[q.name]?.p50Ms;
    if (a !== undefined && b !== undefined) out[q.name] = a - b;
  }
  return out;
}

export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | null;
}

/** The issue's targets, as ratios within this run (reported, not asserted). */
export function checks(res: BenchResults): TargetCheck[] {
  const out: TargetCheck[] = [];
  const rls = find(res, 'pg-rls');
  const shape = `${res.meta.tenants}×${num(res.meta.rows)}, ${res.meta.clients} at once`;
  for (const gw of ['tenantgate-db', 'tenantgate-shared'] as const) {
    const g = find(res, gw);
    if (!g) continue;
    const inproc = find(res, gw === 'tenantgate-db' ? 'duckdb-inproc' : 'duckdb-inproc-shared');
    const small = res.meta.rows <= 10_000;
    if (g.dashboard && rls?.dashboard) {
      const r = ratio(g.dashboard.qps, rls.dashboard.qps);
      out.push(
        small
          ? { target: `${gw}: small tenants (${num(res.meta.rows)} rows): throughput parity with PG-RLS`, measured: `${num(r, 2)}× (${shape})`, met: Number.isFinite(r) ? r >= 1 : null }
          : { target: `${gw}: throughput ≥ 4× PG-RLS`, measured: `${num(r, 2)}× (${shape})`, met: Number.isFinite(r) ? r >= 4 : null },
      );
      const p = ratio(g.dashboard.all.p95Ms, rls.dashboard.all.p95Ms);
      out.push({ target: `${gw}: dashboard p95 ≤ ¼ of PG-RLS's`, measured: `${num(p, 2)}×`, met: Number.isFinite(p) ? p <= 0.25 : null });
    }
    if (g.dashboard && inproc?.dashboard) {
      const r = ratio(g.dashboard.qps, inproc.dashboard.qps);
      out.push({ target: `${gw}: throughput ≥ 80% of in-process DuckDB`, measured: `${num(r * 100)}%`, met: Number.isFinite(r) ? r >= 0.8 : null });
    }
    const o = overheads(res, gw, gw === 'tenantgate-db' ? 'duckdb-inproc' : 'duckdb-inproc-shared');
    const worst = Object.entries(o).sort((a, b) => b[1] - a[1])[0];
    if (worst) out.push({ target: `${gw}: per-query overhead over in-process ≤ 0.3 ms (warm p50)`, measured: `worst ${ms(worst[1])} ms (${worst[0]})`, met: worst[1] <= 0.3 });
    // Connect and export against the better of the two PostgreSQL layouts.
    const pgs = (['pg-rls', 'pg-schema'] as const).map((n) => find(res, n)).filter((t): t is TargetResult => !!t);
    const fastestConnect = pgs.filter((t) => t.connect).sort((a, b) => a.connect!.all.p50Ms - b.connect!.all.p50Ms)[0];
    if (g.connect && fastestConnect) {
      const r = ratio(g.connect.all.p50Ms, fastestConnect.connect!.all.p50Ms);
      out.push({
        target: `${gw}: connect + SCRAM + first query ≤ PostgreSQL's (p50)`,
        measured: `${ms(g.connect.all.p50Ms)} vs ${ms(fastestConnect.connect!.all.p50Ms)} ms (${fastestConnect.name})`,
        met: Number.isFinite(r) ? r <= 1 : null,
      });
    }
    const best = (f: (e: ExportStats) => number | null): TargetResult | undefined =>
      pgs.filter((t) => t.export && Number.isFinite(f(t.export) ?? NaN)).sort((a, b) => f(b.export!)! - f(a.export!)!)[0];
    const bestNode = best((e) => e.nodeRowsPerS);
    const bestPsql = best((e) => e.psqlRowsPerS);
    if (g.export && bestNode) {
      const r = ratio(g.export.nodeRowsPerS, bestNode.export!.nodeRowsPerS);
      const rp = bestPsql ? ratio(g.export.psqlRowsPerS ?? undefined, bestPsql.export!.psqlRowsPerS ?? undefined) : NaN;
      out.push({
        target: `${gw}: export rows/s ≥ PostgreSQL's`,
        measured: `node-postgres ${num(r, 2)}× (${bestNode.name}), psql \\copy ${num(rp, 2)}×${bestPsql ? ` (${bestPsql.name})` : ''}`,
        met: Number.isFinite(r) ? r >= 1 && (!Number.isFinite(rp) || rp >= 1) : null,
      });
    }
    if (g.sweep.length >= 2) {
      const first = g.sweep[0]!;
      const last = g.sweep[g.sweep.length - 1]!;
      const r = ratio(last.stats.all.p95Ms, first.stats.all.p95Ms);
      out.push({
        target: `${gw}: p95 at ${last.tenants} tenants ≤ 1.5× p95 at ${first.tenants}`,
        measured: `${num(r, 2)}× (${ms(last.stats.all.p95Ms)} vs ${ms(first.stats.all.p95Ms)} ms)`,
        met: Number.isFinite(r) ? r <= 1.5 : null,
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Markdown

export function renderMarkdown(res: BenchResults): string {
  const m = res.meta;
  const names = res.targets.map((t) => t.name);
  const out: string[] = [];
  out.push(`# tenantgate benchmark — preset ${m.preset}`);
  out.push('');
  out.push(
    `${m.tenants} tenants × ${num(m.rows)} rows of \`orders\`; dashboard: ${m.clients} tenants connected at once, closed loop, ` +
      `${m.durationS} s measured after ${m.warmupS} s warm-up; warm runs ${m.warmPerQueryS} s per statement at concurrency 1; ` +
      `sweep ${m.sweep.join(' / ')} tenants with ${m.sweepWorkers} clients at once; noisy neighbour ${m.noisyS} s per run.`,
  );
  out.push('');
  out.push(
    `Machine: ${m.machine.cpus} × ${m.machine.model}, ${m.machine.memGiB} GiB, Linux ${m.machine.kernel}; Node ${m.node}; ` +
      `DuckDB ${m.duckdb}; PostgreSQL ${m.postgres ?? '–'}; commit ${m.commit}; ${m.tls}. ` +
      `Clients and servers share the machine (loopback). Run took ${num(m.wallS)} s; ` +
      `load average ${num(m.loadAverage[0], 1)} at the start, ${num(m.loadAverage[1], 1)} at the end.` +
      (m.gatewayConfig && Object.keys(m.gatewayConfig).length > 0 ? ` Gateway configuration: \`${JSON.stringify(m.gatewayConfig)}\`.` : ''),
  );
  out.push('');
  out.push('Targets:');
  for (const t of res.targets) out.push(`- **${t.name}**: ${t.description}`);
  out.push('');

  out.push('## Dashboard mix, all tenants at once');
  out.push('');
  out.push(
    table(
      ['target', 'queries/s', 'p50 ms', 'p95 ms', 'p99 ms', 'errors', 'server cores', 'server CPU ms/query', 'client cores', 'other cores', 'peak PSS', 'peak RSS', 'disk'],
      res.targets.map((t) => {
        const d = t.dashboard;
        return [
          t.name,
          num(d?.qps),
          ms(d?.all.p50Ms),
          ms(d?.all.p95Ms),
          ms(d?.all.p99Ms),
          errorsText(d),
          num(serverCores(d), 2),
          ms(cpuMsPerQuery(d)),
          t.name.startsWith('duckdb') ? '–' : num(d && d.windowClientCpuS !== null ? d.windowClientCpuS / d.durationS : NaN, 2),
          num(d?.cost.otherCores, 2),
          mib(t.peakPssBytes),
          mib(t.peakRssBytes),
          mib(t.diskBytes),
        ];
      }),
    ),
  );
  out.push('');
  out.push(
    'Server cores: CPU seconds of the server process tree in the measured window divided by its length; client cores: the benchmark process (node-postgres clients); ' +
      'other cores: the rest of the machine over the whole phase (other work running at the same time; near 0 in a clean run).',
  );
  out.push('');
  out.push('Peak PSS/RSS: the server process tree over the whole run of the target (PostgreSQL: postmaster and all backends summed; RSS counts shared memory once per process, PSS splits it). Idle after start:');
  out.push(res.targets.map((t) => `${t.name} ${mib(t.idlePssBytes)} PSS`).join(', ') + '.');
  out.push('');
  out.push('Per statement in the mix, p50 / p95 / p99 ms:');
  out.push('');
  out.push(
    table(
      ['statement', ...names],
      DASHBOARD.map((q) => [
        q.name,
        ...res.targets.map((t) => {
          const s = t.dashboard?.perQuery[q.name];
          return s ? `${ms(s.p50Ms)} / ${ms(s.p95Ms)} / ${ms(s.p99Ms)}` : '–';
        }),
      ]),
    ),
  );
  out.push('');

  out.push('## Each statement warm, concurrency 1 (p50 / p95 ms)');
  out.push('');
  const ovDb = overheads(res, 'tenantgate-db', 'duckdb-inproc');
  const ovSh = overheads(res, 'tenantgate-shared', 'duckdb-inproc-shared');
  const hasDb = Object.keys(ovDb).length > 0;
  const hasSh = Object.keys(ovSh).length > 0;
  out.push(
    table(
      ['statement', ...names, ...(hasDb ? ['overhead db'] : []), ...(hasSh ? ['overhead shared'] : [])],
      DASHBOARD.map((q) => [
        q.name,
        ...res.targets.map((t) => {
          const s = t.warm?.perQuery[q.name];
          return s ? `${ms(s.p50Ms)} / ${ms(s.p95Ms)}` : '–';
        }),
        ...(hasDb ? [`${ms(ovDb[q.name])} ms`] : []),
        ...(hasSh ? [`${ms(ovSh[q.name])} ms`] : []),
      ]),
    ),
  );
  out.push('');
  out.push(
    'Server CPU per statement at concurrency 1: ' +
      res.targets.map((t) => `${t.name} ${ms(cpuMsPerQuery(t.warm))} ms`).join(', ') +
      '.',
  );
  out.push('');
  if (hasDb || hasSh) {
    out.push('Overhead: tenantgate\'s warm p50 minus in-process DuckDB\'s p50 for the same statement on the same file (db: tenantgate-db − duckdb-inproc; shared: tenantgate-shared − duckdb-inproc-shared).');
    out.push('');
  }

  out.push('## Connect + SCRAM + first query (TLS, sequential)');
  out.push('');
  out.push(
    table(
      ['target', 'p50 ms', 'p95 ms', 'p99 ms', 'n', 'errors', 'server CPU ms/connection'],
      res.targets.map((t) => {
        const c = t.connect;
        return [
          t.name,
          ms(c?.all.p50Ms),
          ms(c?.all.p95Ms),
          ms(c?.all.p99Ms),
          num(c?.completed),
          errorsText(c),
          ms(cpuMsPerQuery(c)),
        ];
      }),
    ),
  );
  out.push('');
  out.push('In-process: a new connection on an open instance and SELECT 1 (no network, no authentication).');
  out.push('');

  out.push("## Export of one tenant's rows");
  out.push('');
  out.push(
    table(
      ['target', 'rows', 'node-postgres rows/s', 'psql \\copy rows/s', 'server CPU s', 'peak PSS'],
      res.targets.map((t) => {
        const e = t.export;
        return [
          t.name,
          num(e?.rows),
          num(e?.nodeRowsPerS),
          e?.psqlRowsPerS ? num(e.psqlRowsPerS) : '–',
          num(e?.cost.serverCpuS, 1),
          mib(e?.cost.peakPssBytes),
        ];
      }),
    ),
  );
  out.push('');
  out.push('node-postgres: `SELECT * FROM orders` (rows as arrays), best of the repeats; in-process: the same statement streamed chunk by chunk into JS values. psql: `\\copy (SELECT * FROM orders) TO \'/dev/null\'`.');
  out.push('');

  const sweepTargets = res.targets.filter((t) => t.sweep.length > 0);
  if (sweepTargets.length > 0) {
    out.push(`## Tenant sweep (${m.sweepWorkers} clients at once over N connected tenants; queries/s, p95 ms)`);
    out.push('');
    out.push(
      table(
        ['tenants', ...sweepTargets.map((t) => t.name)],
        m.sweep.map((n) => [
          String(n),
          ...sweepTargets.map((t) => {
            const s = t.sweep.find((x) => x.tenants === n)?.stats;
            return s ? `${num(s.qps)} q/s, p95 ${ms(s.all.p95Ms)}${s.errorCount ? `, ${s.errorCount} err` : ''}` : '–';
          }),
        ]),
      ),
    );
    out.push('');
    const gwMetrics = res.targets.filter((t) => t.metrics.sweep);
    if (gwMetrics.length > 0) {
      out.push(
        'tenantgate instance cache after the sweep: ' +
          gwMetrics
            .map((t) => {
              const x = t.metrics.sweep!;
              return `${t.name} ${num(x.tenantgate_instance_cache_hits_total ?? 0)} hits, ${num(x.tenantgate_instance_cache_misses_total ?? 0)} misses, ${num(x.tenantgate_instance_cache_evictions_total ?? 0)} evictions`;
            })
            .join('; ') +
          '.',
      );
      out.push('');
    }
  }

  const noisyTargets = res.targets.filter((t) => t.noisy);
  if (noisyTargets.length > 0) {
    out.push('## Noisy neighbour (a free tenant saturating its limits while a pro tenant runs its dashboard)');
    out.push('');
    out.push(
      table(
        ['target', 'pro p95 alone', 'pro p95 with noise', 'ratio', 'pro q/s alone → with noise', 'noisy statements ok', 'noisy refused / failed', 'limits on the noisy tenant'],
        noisyTargets.map((t) => {
          const n = t.noisy!;
          const refused = Object.entries(n.noisyErrors)
            .map(([k, v]) => `${v}× ${k}`)
            .join(', ');
          return [
            t.name,
            `${ms(n.alone.all.p95Ms)} ms`,
            `${ms(n.withNoise.all.p95Ms)} ms`,
            `${num(ratio(n.withNoise.all.p95Ms, n.alone.all.p95Ms), 2)}×`,
            `${num(n.alone.qps)} → ${num(n.withNoise.qps)}`,
            num(n.noisyOk),
            refused || '0',
            n.limits,
          ];
        }),
      ),
    );
    out.push('');
  }

  const c = checks(res);
  if (c.length > 0) {
    out.push("## The issue's targets (ratios within this run, not asserted)");
    out.push('');
    out.push(table(['target', 'measured', 'met'], c.map((x) => [x.target, x.measured, x.met === null ? '–' : x.met ? 'yes' : 'no'])));
    out.push('');
  }

  out.push('## Loading');
  out.push('');
  out.push(Object.entries(res.load).map(([k, v]) => `${k} ${num(v / 1000, 1)} s`).join(', ') + '.');
  out.push('');
  const problems = res.targets.flatMap((t) => [
    ...t.failures.map((f) => `- ${t.name}: ${f}`),
    ...t.skipped.map((s) => `- ${t.name}: skipped ${s} (time budget)`),
  ]);
  if (problems.length > 0) {
    out.push('## Problems');
    out.push('');
    out.push(...problems);
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------
// Chart

export function renderResultsChart(res: BenchResults): string {
  const m = res.meta;
  const series = (f: (t: TargetResult) => number | undefined): { name: string; values: (number | null)[] }[] =>
    res.targets.map((t) => ({ name: t.name, values: [f(t) ?? null] }));
  const perQuery = (pick: (t: TargetResult) => Record<string, LatencySummary> | undefined, key: 'p50Ms' | 'p95Ms') =>
    res.targets.map((t) => ({ name: t.name, values: DASHBOARD.map((q) => pick(t)?.[q.name]?.[key] ?? null) }));
  const panels: Panel[] = [
    { kind: 'bars', title: `Dashboard throughput, ${m.clients} tenants at once`, unit: 'queries/s', groups: ['queries/s'], series: series((t) => t.dashboard?.qps) },
    { kind: 'bars', title: 'Dashboard p95 latency per statement', unit: 'ms', groups: DASHBOARD.map((q) => q.name), series: perQuery((t) => t.dashboard?.perQuery, 'p95Ms'), log: true },
    { kind: 'bars', title: 'Warm p50 latency per statement, concurrency 1', unit: 'ms', groups: DASHBOARD.map((q) => q.name), series: perQuery((t) => t.warm?.perQuery, 'p50Ms'), log: true },
    {
      kind: 'bars',
      title: 'Peak memory of the server processes (PSS)',
      unit: 'MiB',
      groups: ['peak PSS'],
      series: series((t) => (t.peakPssBytes > 0 ? t.peakPssBytes / 2 ** 20 : undefined)),
    },
  ];
  const sweepTargets = res.targets.filter((t) => t.sweep.length > 0);
  if (sweepTargets.length > 0 && m.sweep.length > 1) {
    panels.push({
      kind: 'lines',
      title: `Tenant sweep: p95 latency, ${m.sweepWorkers} clients at once`,
      unit: 'ms',
      x: m.sweep,
      xLabel: 'tenants',
      series: sweepTargets.map((t) => ({ name: t.name, values: m.sweep.map((n) => t.sweep.find((s) => s.tenants === n)?.stats.all.p95Ms ?? null) })),
      log: true,
    });
  }
  return renderChart(
    `tenantgate benchmark — preset ${m.preset}`,
    `${m.tenants} tenants × ${num(m.rows)} rows; ${m.machine.cpus} CPUs, ${m.machine.memGiB} GiB; ${m.started}`,
    panels,
  );
}
