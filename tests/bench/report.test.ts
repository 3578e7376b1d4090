import { describe, expect, it } from 'vitest';
import { parseTargets, resolveOptions } from './options.js';
import { checks, overheads, renderMarkdown, renderResultsChart, type BenchResults, type LoopStats, type TargetResult } from './report.js';
import { DASHBOARD } from './queries.js';
import { escapeXml, renderChart } from './svg.js';

const cost = { wallS: 1, serverCpuS: 1, clientCpuS: 0.5, peakPssBytes: 100 * 2 ** 20, peakRssBytes: 120 * 2 ** 20, maxProcesses: 1, otherCores: 0 };

function loop(p50: number, qps: number): LoopStats {
  const s = { count: 100, meanMs: p50, p50Ms: p50, p95Ms: p50 * 2, p99Ms: p50 * 3, maxMs: p50 * 4 };
  return {
    durationS: 10,
    completed: qps * 10,
    qps,
    all: s,
    perQuery: Object.fromEntries(DASHBOARD.map((q) => [q.name, s])),
    errorCount: 0,
    errors: {},
    errorSamples: [],
    setupS: 0.1,
    windowServerCpuS: 5,
    windowClientCpuS: 2,
    cost,
  };
}

function target(name: TargetResult['name'], p50: number, qps: number): TargetResult {
  return {
    name,
    description: `the ${name} target <&>`,
    idlePssBytes: 1,
    idleRssBytes: 1,
    peakPssBytes: 2 ** 30,
    peakRssBytes: 2 ** 30,
    diskBytes: 2 ** 20,
    warm: loop(p50, qps),
    dashboard: loop(p50, qps),
    connect: loop(p50, qps),
    export: { rows: 1000, nodeRowsPerS: qps * 1000, nodeRunsMs: [1], psqlRowsPerS: null, psqlRunsMs: [], error: null, cost },
    sweep: [
      { tenants: 10, stats: loop(p50, qps) },
      { tenants: 1000, stats: loop(p50 * 2, qps) },
    ],
    metrics: {},
    skipped: [],
    failures: [],
  };
}

const results: BenchResults = {
  meta: {
    preset: 'default',
    tenants: 100,
    rows: 100_000,
    clients: 100,
    durationS: 20,
    warmupS: 3,
    warmPerQueryS: 3,
    sweep: [10, 1000],
    sweepWorkers: 10,
    noisyS: 10,
    started: '2025-01-01T00:00:00Z',
    finishedAt: '2025-01-01T00:10:00Z',
    wallS: 600,
    machine: { cpus: 2, model: 'cpu', memGiB: 24, kernel: '6' },
    loadAverage: [0.5, 1.5],
    node: '20',
    duckdb: 'v1',
    postgres: '15',
    postgresSettings: {},
    commit: 'abc',
    tls: 'tls',
    gatewayBuild: 'build',
  },
  load: { generate: 1000 },
  targets: [target('tenantgate-db', 2, 800), target('pg-rls', 10, 100), target('duckdb-inproc', 1.9, 900)],
};

describe('report', () => {
  it('computes the overhead over the in-process limit per statement', () => {
    const o = overheads(results, 'tenantgate-db', 'duckdb-inproc');
    expect(Object.keys(o)).toEqual(DASHBOARD.map((q) => q.name));
    expect(o.select_1).toBeCloseTo(0.1, 10);
    expect(overheads(results, 'tenantgate-shared', 'duckdb-inproc-shared')).toEqual({});
  });

  it("checks the issue's targets as ratios", () => {
    const c = checks(results);
    const by = (s: string) => c.find((x) => x.target.includes(s))!;
    expect(by('≥ 4× PG-RLS').met).toBe(true); // 800 / 100
    expect(by('≤ ¼').met).toBe(true); // 4 / 20
    expect(by('80% of in-process').met).toBe(true); // 800 / 900
    expect(by('overhead').met).toBe(true); // 0.1 ms
    expect(by('p95 at 1000').met).toBe(false); // twice
  });

  it('renders markdown tables and an SVG chart', () => {
    const md = renderMarkdown(results);
    expect(md).toContain('| tenantgate-db | 800 |');
    expect(md).toContain('## Tenant sweep');
    const svg = renderResultsChart(results);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('Tenant sweep');
    expect(svg).not.toContain('NaN');
  });
});

describe('svg', () => {
  it('escapes text and skips missing values', () => {
    expect(escapeXml(`a<b & "c"`)).toBe('a&lt;b &amp; &quot;c&quot;');
    const svg = renderChart('t <1>', 's', [
      { kind: 'bars', title: 'x', unit: 'ms', groups: ['a', 'b'], series: [{ name: 'one', values: [1, null] }, { name: 'two', values: [NaN, 100] }], log: true },
      { kind: 'lines', title: 'y', unit: 'ms', x: [10, 100, 1000], xLabel: 'tenants', series: [{ name: 'one', values: [1, 2, null] }] },
    ]);
    expect(svg).toContain('t &lt;1&gt;');
    expect(svg).not.toContain('NaN');
    expect(svg.match(/<rect [^>]*fill="#/g)?.length).toBe(2 + 2); // two bars, two legend boxes
  });
});

describe('options', () => {
  it('resolves presets and overrides', () => {
    const smoke = resolveOptions({ preset: 'smoke' });
    expect(smoke.tenants).toBe(10);
    expect(smoke.clients).toBe(10);
    const d = resolveOptions({ tenants: 50 });
    expect(d.preset).toBe('default');
    expect(d.sweep).toEqual([10]); // 100 is above the tenants
    expect(d.clients).toBe(50);
    expect(resolveOptions({ preset: 'sweep' }).sweep).toEqual([10, 100, 1000]);
  });

  it('reads target lists with group names', () => {
    expect(parseTargets('pg')).toEqual(['pg-rls', 'pg-schema']);
    expect(parseTargets('duckdb-inproc,tenantgate-db')).toEqual(['tenantgate-db', 'duckdb-inproc']);
    expect(() => parseTargets('mysql')).toThrow(/unknown target/);
  });
});
