// tenantgate tenant add|list|show|set|suspend|resume|remove|move
import { Command, Option } from 'commander';
import { validateTenantId } from '../../tenants/ids.js';
import { describeUserLimit, getPlan, planNames, type Plan } from '../../tenants/plans.js';
import {
  addTenant,
  getTenant,
  parseIsolation,
  removeTenant,
  setTenantPlan,
  setTenantStatus,
  tenantSummary,
  type Isolation,
  type RegistryData,
} from '../../tenants/registry.js';
import {
  addDataOption,
  addPasswordOptions,
  formatTable,
  oneLine,
  print,
  readPassword,
  registryFor,
  warn,
  type DataOptions,
  type PasswordOptions,
} from './common.js';

const ISOLATION_HELP = 'database (a DuckDB file of its own) or shared (its rows in the shared database)';

function rows(n: number): string {
  return `${n} ${n === 1 ? 'row' : 'rows'}`;
}

function planOrNull(name: string, data: RegistryData): Plan | null {
  try {
    return getPlan(name, data);
  } catch {
    return null;
  }
}

export function tenantCommand(): Command {
  const tenant = new Command('tenant').description('create, inspect, suspend, remove and move tenants');

  addPasswordOptions(
    addDataOption(
      tenant
        .command('add')
        .description("create a tenant and its first user, named like the tenant id")
        .argument('<id>', 'tenant id: lowercase letters, digits, _; starts with a letter; 2-63 characters')
        .requiredOption('--plan <plan>', `plan: ${planNames().join(', ')}, or one made with "plan set"`)
        .addOption(new Option('--isolation <mode>', `where its data live: ${ISOLATION_HELP}`).default('database'))
        .option('--name <text>', 'display name (default: the id)'),
    ),
  )
    .addHelpText('after', '\nExample:\n  printf "%s\\n" "$PW" | tenantgate tenant add acme --plan free --password-stdin\n')
    .action(async (id: string, opts: DataOptions & PasswordOptions & { plan: string; isolation: string; name?: string }) => {
      validateTenantId(id);
      getPlan(opts.plan, await registryFor(opts).read());
      const isolation: Isolation = parseIsolation(opts.isolation);
      const password = await readPassword(opts);
      const t = await addTenant(registryFor(opts), { id, plan: opts.plan, isolation, name: opts.name, password });
      print(`tenant ${t.id} created (plan ${t.plan}, isolation ${t.isolation}, user ${t.users[0]?.name ?? t.id})`);
    });

  addDataOption(
    tenant
      .command('list')
      .description('list tenants: id, name, plan, isolation, status, number of users, whether it has data')
      .option('--json', 'print JSON (never includes password verifiers)'),
  ).action(async (opts: DataOptions & { json?: boolean }) => {
    const data = await registryFor(opts).read();
    const tenants = Object.values(data.tenants).sort((a, b) => a.id.localeCompare(b.id));
    // A tenant with shared isolation has data when there is a shared database.
    const hasData = (t: (typeof tenants)[number]): string =>
      t.isolation === 'shared' ? (data.shared.snapshot ? 'shared' : 'no') : t.snapshot ? 'yes' : 'no';
    if (opts.json) {
      print(JSON.stringify(tenants.map(tenantSummary), null, 2));
      return;
    }
    const rows = [['ID', 'NAME', 'PLAN', 'ISOLATION', 'STATUS', 'USERS', 'DATA']];
    for (const t of tenants) {
      rows.push([t.id, oneLine(t.name), t.plan, t.isolation, t.status, String(t.users.length), hasData(t)]);
    }
    print(formatTable(rows));
  });

  addDataOption(
    tenant
      .command('show')
      .description("show one tenant (users by name only); for shared isolation also its shared tables and row counts")
      .argument('<id>', 'tenant id')
      .option('--json', 'print JSON (never includes password verifiers)'),
  ).action(async (id: string, opts: DataOptions & { json?: boolean }) => {
    const registry = registryFor(opts);
    const t = await getTenant(registry, id);
    let tables: { table: string; tenantColumn: string; rows: number }[] = [];
    if (t.isolation === 'shared') {
      const { sharedTablesOfTenant } = await import('../../tenants/shared.js');
      tables = await sharedTablesOfTenant(registry, id);
    }
    if (opts.json) {
      print(JSON.stringify(t.isolation === 'shared' ? { ...tenantSummary(t), sharedTables: tables } : tenantSummary(t), null, 2));
      return;
    }
    const plan = planOrNull(t.plan, await registry.read());
    const planText = plan
      ? `${plan.name} (memory ${plan.memoryLimit}, ${plan.threads} threads, ${describeUserLimit(plan)})`
      : `${t.plan} (unknown plan)`;
    let dataText = t.snapshot ? (registry.snapshotPath(t) ?? '') : 'none';
    const tableLines: [string, string][] = [];
    if (t.isolation === 'shared') {
      const sharedPath = registry.sharedSnapshotPath(await registry.read());
      dataText = sharedPath ? `shared database ${sharedPath}` : 'none';
      const cells = tables.map((x) => [x.table, rows(x.rows), x.tenantColumn === 'tenant_ids' ? '(rows shared by several tenants)' : '']);
      const text = cells.length > 0 ? formatTable(cells).split('\n') : ['none'];
      text.forEach((line, i) => tableLines.push([i === 0 ? 'tables' : '', line]));
    }
    const lines: [string, string][] = [
      ['id', t.id],
      ['name', oneLine(t.name)],
      ['plan', planText],
      ['isolation', t.isolation],
      ['status', t.status],
      ['users', t.users.map((u) => u.name).join(', ')],
      ['data', dataText],
      ...(t.isolation === 'shared' ? tableLines : []),
      ['created', t.createdAt],
      ['updated', t.updatedAt],
    ];
    for (const [k, v] of lines) print(`${(k === '' ? '' : `${k}:`).padEnd(11)}${v}`);
  });

  addDataOption(
    tenant
      .command('set')
      .description("change a tenant's plan; a running gateway applies it at the next login or statement")
      .argument('<id>', 'tenant id')
      .requiredOption('--plan <plan>', 'the new plan (see "tenantgate plan list")'),
  ).action(async (id: string, opts: DataOptions & { plan: string }) => {
    const before = await setTenantPlan(registryFor(opts), id, opts.plan);
    print(before === opts.plan ? `tenant ${id} is already on plan ${opts.plan}` : `tenant ${id}: plan ${before} -> ${opts.plan}`);
  });

  for (const [name, status, verb] of [
    ['suspend', 'suspended', 'refuse logins of a tenant; its open sessions end at their next statement'],
    ['resume', 'active', 'accept connections of a suspended tenant again'],
  ] as const) {
    addDataOption(tenant.command(name).description(verb).argument('<id>', 'tenant id')).action(
      async (id: string, opts: DataOptions) => {
        const changed = await setTenantStatus(registryFor(opts), id, status);
        const word = status === 'active' ? 'resumed' : 'suspended';
        print(changed ? `tenant ${id} ${word}` : `tenant ${id} is already ${status}`);
      },
    );
  }

  addDataOption(
    tenant
      .command('remove')
      .description("remove a tenant: its registry entry, then its data directory")
      .argument('<id>', 'tenant id'),
  ).action(async (id: string, opts: DataOptions) => {
    await removeTenant(registryFor(opts), id);
    print(`tenant ${id} removed`);
  });

  addDataOption(
    tenant
      .command('move')
      .description("move a tenant's data between its own database and the shared database, while it is served")
      .argument('<id>', 'tenant id')
      .requiredOption('--isolation <mode>', `where its data go: ${ISOLATION_HELP}`)
      .addHelpText(
        'after',
        '\nThe target is built and checked (row count and checksum per table) before one registry\n' +
          'update switches the tenant; then its rows are removed from the old place. A failure before\n' +
          'the switch leaves the tenant where it was. To database: only tenant_id tables move; rows of\n' +
          'tables shared by several tenants (tenant_ids) stay in the shared database. To shared: every\n' +
          'table of its own must fit the shared table of that name (same columns and types), if any.\n',
      ),
  ).action(async (id: string, opts: DataOptions & { isolation: string }) => {
    validateTenantId(id);
    const to = parseIsolation(opts.isolation);
    const { moveTenant } = await import('../../tenants/shared.js');
    const r = await moveTenant(registryFor(opts), id, to);
    for (const x of r.tables) print(`  ${x.table}: ${rows(x.rows)}, checksum ${x.checksum} on both sides`);
    const total = r.tables.reduce((a, x) => a + x.rows, 0);
    const where = r.to === 'database' ? (r.snapshot ? `snapshot ${r.snapshot}` : 'no data') : r.sharedSnapshot ? `shared snapshot ${r.sharedSnapshot}` : 'no data';
    const what = r.tables.length > 0 ? `${r.tables.length} ${r.tables.length === 1 ? 'table' : 'tables'}, ${rows(total)} verified` : 'no tables to move';
    print(`tenant ${id} moved to ${r.to} isolation: ${what} (${where})`);
    for (const x of r.leftBehind) {
      const them = x.rows === 1 ? 'it' : 'them';
      print(`note: ${rows(x.rows)} of ${x.table}, a table of rows shared by several tenants (tenant_ids), did not move; ${id} no longer sees ${them}`);
    }
    if (!r.cleanup.done) {
      warn(
        r.to === 'database'
          ? `the rows of ${id} could not be removed from the shared database (${r.cleanup.error}); they are invisible to every tenant, and the next load into the shared database removes them`
          : `the old files of ${id} could not be removed (${r.cleanup.error}); the next load into the shared database removes them`,
      );
    }
  });

  return tenant;
}
