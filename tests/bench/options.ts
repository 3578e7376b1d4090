// Command-line options and presets of `npm run bench`.
import { Command, InvalidArgumentError, Option } from 'commander';

export const ALL_TARGETS = ['tenantgate-db', 'tenantgate-shared', 'pg-rls', 'pg-schema', 'duckdb-inproc', 'duckdb-inproc-shared'] as const;
export type TargetName = (typeof ALL_TARGETS)[number];

export const PRESETS = ['smoke', 'default', 'sweep'] as const;
export type PresetName = (typeof PRESETS)[number];

export interface BenchOptions {
  preset: PresetName;
  tenants: number;
  rows: number;
  /** Dashboard clients at once (one per tenant). */
  clients: number;
  /** Measured seconds of the dashboard's closed loop. */
  durationS: number;
  /** Unmeasured seconds before each closed loop. */
  warmupS: number;
  /** Seconds per statement in the concurrency-1 run. */
  warmPerQueryS: number;
  warmMaxIterations: number;
  connectIterations: number;
  exportRepeats: number;
  /** Tenant counts of the sweep (those above `tenants` are dropped). */
  sweep: number[];
  sweepWorkers: number;
  sweepS: number;
  /** Measured seconds of each noisy-neighbour run (0: skip it). */
  noisyS: number;
  targets: TargetName[];
  out: string | null;
  keep: boolean;
  rebuild: boolean;
  /** In-process: at most the gateway's maxRunningQueries statements at once. */
  inprocAdmission: boolean;
  /** Whole run's budget: phases that would start after it are skipped. */
  maxMinutes: number;
  /** Extra keys of the gateway's configuration file (e.g. maxOpenInstances). */
  gatewayConfig: Record<string, unknown>;
}

type PresetValues = Omit<BenchOptions, 'preset' | 'targets' | 'out' | 'keep' | 'rebuild' | 'clients' | 'inprocAdmission' | 'gatewayConfig'>;

export const PRESET_VALUES: Record<PresetName, PresetValues> = {
  // Every phase on every target, small: a check that the benchmark works (< 2 minutes).
  smoke: {
    tenants: 10,
    rows: 10_000,
    durationS: 2,
    warmupS: 0.5,
    warmPerQueryS: 0.3,
    warmMaxIterations: 300,
    connectIterations: 10,
    exportRepeats: 1,
    sweep: [2, 10],
    sweepWorkers: 4,
    sweepS: 1,
    noisyS: 1.5,
    maxMinutes: 5,
  },
  default: {
    tenants: 100,
    rows: 100_000,
    durationS: 20,
    warmupS: 3,
    warmPerQueryS: 3,
    warmMaxIterations: 3000,
    connectIterations: 50,
    exportRepeats: 3,
    sweep: [10, 100],
    sweepWorkers: 10,
    sweepS: 10,
    noisyS: 10,
    maxMinutes: 25,
  },
  // Many small tenants: 10 / 100 / 1000 of them, 10,000 rows each.
  sweep: {
    tenants: 1000,
    rows: 10_000,
    durationS: 15,
    warmupS: 3,
    warmPerQueryS: 2,
    warmMaxIterations: 3000,
    connectIterations: 50,
    exportRepeats: 3,
    sweep: [10, 100, 1000],
    sweepWorkers: 10,
    sweepS: 15,
    noisyS: 10,
    maxMinutes: 30,
  },
};

function positiveInt(what: string) {
  return (v: string): number => {
    const n = Number(v.replaceAll('_', '').replaceAll(',', ''));
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${what} must be a whole number ≥ 1`);
    return n;
  };
}

function positiveNumber(what: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a number > 0`);
    return n;
  };
}

export function parseTargets(v: string): TargetName[] {
  const names = v.split(',').map((s) => s.trim()).filter(Boolean);
  const out: TargetName[] = [];
  for (const n of names) {
    if (n === 'all') return [...ALL_TARGETS];
    // Short names: tenantgate (both), pg (both), duckdb (both).
    const exact = ALL_TARGETS.filter((t) => t === n);
    const group = exact.length > 0 ? exact : ALL_TARGETS.filter((t) => t.startsWith(`${n}-`));
    if (group.length === 0) throw new InvalidArgumentError(`unknown target ${JSON.stringify(n)} (targets: ${ALL_TARGETS.join(', ')})`);
    for (const g of group) if (!out.includes(g)) out.push(g);
  }
  if (out.length === 0) throw new InvalidArgumentError('no targets');
  return ALL_TARGETS.filter((t) => out.includes(t));
}

function parseSweep(v: string): number[] {
  return v.split(',').map((s) => positiveInt('a sweep tenant count')(s.trim()));
}

export function benchCommand(): Command {
  return new Command('bench')
    .description('tenantgate against PostgreSQL (RLS and schema per tenant) and in-process DuckDB, on the same data and workloads')
    .addOption(new Option('--preset <name>', 'smoke (< 2 min), default (100 tenants × 100k rows) or sweep (10/100/1000 tenants × 10k rows)').choices([...PRESETS]).default('default'))
    .option('--tenants <n>', 'tenants (T)', positiveInt('--tenants'))
    .option('--rows <n>', 'rows of orders per tenant (R)', positiveInt('--rows'))
    .option('--clients <n>', 'dashboard clients connected at once (default: min(T, 100))', positiveInt('--clients'))
    .option('--duration <s>', 'measured seconds of the dashboard closed loop', positiveNumber('--duration'))
    .option('--sweep <list>', 'tenant counts of the sweep, e.g. 10,100,1000', parseSweep)
    .option('--noisy <s>', 'measured seconds of each noisy-neighbour run (0 skips it)', (v: string) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('--noisy must be a number ≥ 0');
      return n;
    })
    .option('--targets <list>', `comma-separated: ${ALL_TARGETS.join(', ')} (or tenantgate, pg, duckdb, all)`, parseTargets)
    .option('--out <dir>', 'results folder (default: .bench/<timestamp>)')
    .option('--max-minutes <n>', 'time budget of the whole run; phases past it are skipped', positiveNumber('--max-minutes'))
    .option('--keep', 'keep the generated data and data folders (their path is printed)')
    .option('--rebuild', 'recompile tenantgate even when the build is up to date')
    .option('--gateway-config <json>', 'keys merged into the gateway\'s configuration file, e.g. \'{"maxOpenInstances": 1100}\'', (v: string) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(v);
      } catch {
        throw new InvalidArgumentError('--gateway-config must be a JSON object');
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidArgumentError('--gateway-config must be a JSON object');
      return parsed as Record<string, unknown>;
    })
    .option('--no-inproc-admission', "in-process targets run every client's statement at once, without the gateway's running-query budget");
}

export function resolveOptions(raw: Record<string, unknown>): BenchOptions {
  const preset = (raw.preset as PresetName | undefined) ?? 'default';
  const p = PRESET_VALUES[preset];
  const tenants = (raw.tenants as number | undefined) ?? p.tenants;
  const durationS = (raw.duration as number | undefined) ?? p.durationS;
  const sweep = ((raw.sweep as number[] | undefined) ?? p.sweep).filter((n) => n <= tenants);
  return {
    ...p,
    preset,
    tenants,
    rows: (raw.rows as number | undefined) ?? p.rows,
    clients: Math.min(tenants, (raw.clients as number | undefined) ?? 100),
    durationS,
    sweep: sweep.length > 0 ? sweep : [tenants],
    noisyS: (raw.noisy as number | undefined) ?? p.noisyS,
    targets: (raw.targets as TargetName[] | undefined) ?? [...ALL_TARGETS],
    out: (raw.out as string | undefined) ?? null,
    keep: raw.keep === true,
    rebuild: raw.rebuild === true,
    inprocAdmission: raw.inprocAdmission !== false,
    gatewayConfig: (raw.gatewayConfig as Record<string, unknown> | undefined) ?? {},
    maxMinutes: (raw.maxMinutes as number | undefined) ?? p.maxMinutes,
  };
}
