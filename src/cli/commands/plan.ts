// tenantgate plan list|show|set
import { Command } from 'commander';
import {
  DEFAULT_PLANS,
  MEMORY_RE,
  allPlans,
  formatBytes,
  formatTimeout,
  getPlan,
  parseBytes,
  parseCount,
  parseTimeout,
  type Plan,
} from '../../tenants/plans.js';
import { InvalidArgumentError } from '../../tenants/ids.js';
import { setPlan, type RegistryData } from '../../tenants/registry.js';
import { addDataOption, formatTable, print, registryFor, type DataOptions } from './common.js';

const count = (n: number | null): string => (n === null ? 'unlimited' : String(n));
const bytes = (n: number | null): string => (n === null ? 'unlimited' : formatBytes(n));

/** Where a plan comes from: the registry (operator-defined), or built in. */
function source(data: RegistryData, name: string): 'registry' | 'built-in' {
  return data.plans && Object.hasOwn(data.plans, name) ? 'registry' : 'built-in';
}

/** The fields of `plan show`, in order, named like the options of `plan set`. */
function fields(plan: Plan, from: string): [string, string][] {
  return [
    ['name', plan.name],
    ['memory', plan.memoryLimit],
    ['threads', String(plan.threads)],
    ['max-users', count(plan.maxUsers)],
    ['statement-timeout', formatTimeout(plan.statementTimeoutMs)],
    ['max-rows', count(plan.maxResultRows)],
    ['max-bytes', bytes(plan.maxResultBytes)],
    ['max-concurrent', String(plan.maxConcurrentQueries)],
    ['max-connections', count(plan.maxConnections)],
    ['queries-per-minute', count(plan.queriesPerMinute)],
    ['history-days', plan.historyDays === null ? 'all' : String(plan.historyDays)],
    ['max-query-bytes', formatBytes(plan.maxQueryBytes)],
    ['source', from],
  ];
}

function printPlan(plan: Plan, from: string): void {
  for (const [k, v] of fields(plan, from)) print(`${k}: ${v}`);
}

interface SetOptions extends DataOptions {
  from?: string;
  memory?: string;
  threads?: string;
  statementTimeout?: string;
  maxRows?: string;
  maxBytes?: string;
  maxConcurrent?: string;
  maxConnections?: string;
  queriesPerMinute?: string;
  historyDays?: string;
  maxUsers?: string;
  maxQueryBytes?: string;
}

const FORMAT_HELP = `
Output (stable, for scripts):
  list   one header line, then one line per plan; columns separated by two or more spaces:
         NAME MEMORY THREADS USERS TIMEOUT MAX_ROWS MAX_BYTES CONCURRENT CONNECTIONS QPM HISTORY SOURCE
  show   one "key: value" line per field, keys as the options of "plan set" (plus name,
         max-query-bytes and source)
  Sizes are written with the largest unit that divides them (64MB), durations likewise (30s;
  0 = no limit), "unlimited" for no limit, history "all" for full history; SOURCE is
  built-in or registry. --json prints the plans as stored (sizes in bytes, timeout in ms, null = unlimited).
`;

export function planCommand(): Command {
  const plan = new Command('plan')
    .description('list, show, create and change plans (the limits tenants run under)')
    .addHelpText(
      'after',
      '\nBuilt-in plans: free, pro, enterprise. "plan set" stores a plan in the registry, where it replaces a\n' +
        'built-in plan of the same name; a running gateway applies changes at the next login or statement.\n' +
        FORMAT_HELP,
    );

  addDataOption(plan.command('list').description('list every plan with its limits').option('--json', 'print JSON')).action(
    async (opts: DataOptions & { json?: boolean }) => {
      const data = await registryFor(opts).read();
      const plans = Object.values(allPlans(data));
      if (opts.json) {
        print(JSON.stringify(plans.map((p) => ({ ...p, source: source(data, p.name) })), null, 2));
        return;
      }
      const rows = [['NAME', 'MEMORY', 'THREADS', 'USERS', 'TIMEOUT', 'MAX_ROWS', 'MAX_BYTES', 'CONCURRENT', 'CONNECTIONS', 'QPM', 'HISTORY', 'SOURCE']];
      for (const p of plans) {
        const f = new Map(fields(p, source(data, p.name)));
        rows.push(
          ['name', 'memory', 'threads', 'max-users', 'statement-timeout', 'max-rows', 'max-bytes', 'max-concurrent', 'max-connections', 'queries-per-minute', 'history-days', 'source'].map(
            (k) => f.get(k)!,
          ),
        );
      }
      print(formatTable(rows));
    },
  );

  addDataOption(
    plan.command('show').description('show one plan, one "key: value" line per limit').argument('<name>', 'plan name').option('--json', 'print JSON'),
  ).action(async (name: string, opts: DataOptions & { json?: boolean }) => {
    const data = await registryFor(opts).read();
    const p = getPlan(name, data);
    if (opts.json) print(JSON.stringify({ ...p, source: source(data, name) }, null, 2));
    else printPlan(p, source(data, name));
  });

  addDataOption(
    plan
      .command('set')
      .description('create a plan or change some of its limits; the others keep their values')
      .argument('<name>', 'plan name: lowercase letters, digits, _ and -; starts with a letter')
      .option('--from <plan>', 'a new plan starts from this plan\'s limits (default: free)')
      .option('--memory <size>', 'DuckDB memory limit of each instance, e.g. 256MB, 1GB')
      .option('--threads <n>', 'DuckDB threads of each instance')
      .option('--statement-timeout <duration>', 'longest statement, e.g. 500ms, 30s, 5min (0: no limit); clients may only lower it')
      .option('--max-rows <n>', 'most rows in one result (or unlimited)')
      .option('--max-bytes <size>', 'most bytes of rows in one result, e.g. 100MB (or unlimited)')
      .option('--max-concurrent <n>', 'queries of one tenant running at once')
      .option('--max-connections <n>', 'sessions of one tenant open at once (or unlimited)')
      .option('--queries-per-minute <n>', 'queries per minute per tenant, counted across restarts (or unlimited)')
      .option('--history-days <n>', 'days of history visible in tables with a time column, see "history" (or unlimited)')
      .option('--max-users <n>', 'users per tenant (or unlimited)')
      .option('--max-query-bytes <size>', 'longest query text, e.g. 64KB')
      .addHelpText('after', '\nExample:\n  tenantgate plan set team --from pro --max-users 10 --statement-timeout 2min\n'),
  ).action(async (name: string, opts: SetOptions) => {
    const registry = registryFor(opts);
    const data = await registry.read();
    const plans = allPlans(data);
    const exists = Object.hasOwn(plans, name);
    if (exists && opts.from !== undefined) throw new InvalidArgumentError(`plan ${name} exists already: --from is for a new plan`);
    const base: Plan = exists ? plans[name]! : { ...getPlan(opts.from ?? 'free', data), name };
    const p: Plan = { ...base };
    if (opts.memory !== undefined) {
      if (!MEMORY_RE.test(opts.memory.trim())) throw new InvalidArgumentError(`invalid size ${JSON.stringify(opts.memory)} (e.g. 256MB, 1GB)`);
      p.memoryLimit = opts.memory.trim().replace(/\s+/g, '');
    }
    if (opts.threads !== undefined) p.threads = parseCount('thread count', opts.threads, false)!;
    if (opts.statementTimeout !== undefined) p.statementTimeoutMs = parseTimeout(opts.statementTimeout);
    if (opts.maxRows !== undefined) p.maxResultRows = parseCount('row count', opts.maxRows, true);
    if (opts.maxBytes !== undefined) p.maxResultBytes = /^(unlimited|none)$/i.test(opts.maxBytes.trim()) ? null : parseBytes(opts.maxBytes);
    if (opts.maxConcurrent !== undefined) p.maxConcurrentQueries = parseCount('query count', opts.maxConcurrent, false)!;
    if (opts.maxConnections !== undefined) p.maxConnections = parseCount('connection count', opts.maxConnections, true);
    if (opts.queriesPerMinute !== undefined) p.queriesPerMinute = parseCount('queries per minute', opts.queriesPerMinute, true);
    if (opts.historyDays !== undefined) p.historyDays = parseCount('day count', opts.historyDays, true);
    if (opts.maxUsers !== undefined) p.maxUsers = parseCount('user count', opts.maxUsers, true);
    if (opts.maxQueryBytes !== undefined) p.maxQueryBytes = parseBytes(opts.maxQueryBytes);
    await setPlan(registry, p);
    print(`plan ${name} ${exists ? 'updated' : 'created'}`);
    printPlan(p, 'registry');
  });

  return plan;
}

/** The built-in plan names, for help texts. */
export const BUILT_IN_PLANS = Object.keys(DEFAULT_PLANS);
