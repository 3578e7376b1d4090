// tenantgate tenant add|list|show|suspend|resume|remove
import { Command, Option } from 'commander';
import { validateTenantId } from '../../tenants/ids.js';
import { describeUserLimit, getPlan, planNames, type Plan } from '../../tenants/plans.js';
import {
  addTenant,
  getTenant,
  parseIsolation,
  removeTenant,
  setTenantStatus,
  tenantSummary,
  type Isolation,
} from '../../tenants/registry.js';
import {
  addDataOption,
  addPasswordOptions,
  formatTable,
  oneLine,
  print,
  readPassword,
  registryFor,
  type DataOptions,
  type PasswordOptions,
} from './common.js';

function planOrNull(name: string): Plan | null {
  try {
    return getPlan(name);
  } catch {
    return null;
  }
}

export function tenantCommand(): Command {
  const tenant = new Command('tenant').description('create, inspect, suspend and remove tenants');

  addPasswordOptions(
    addDataOption(
      tenant
        .command('add')
        .description("create a tenant and its first user, named like the tenant id")
        .argument('<id>', 'tenant id: lowercase letters, digits, _; starts with a letter; 2-63 characters')
        .requiredOption('--plan <plan>', `plan: ${planNames().join(', ')}`)
        .addOption(new Option('--isolation <mode>', 'where its data live (only "database" is available yet)').default('database'))
        .option('--name <text>', 'display name (default: the id)'),
    ),
  )
    .addHelpText('after', '\nExample:\n  printf "%s\\n" "$PW" | tenantgate tenant add acme --plan free --password-stdin\n')
    .action(async (id: string, opts: DataOptions & PasswordOptions & { plan: string; isolation: string; name?: string }) => {
      validateTenantId(id);
      getPlan(opts.plan);
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
    if (opts.json) {
      print(JSON.stringify(tenants.map(tenantSummary), null, 2));
      return;
    }
    const rows = [['ID', 'NAME', 'PLAN', 'ISOLATION', 'STATUS', 'USERS', 'DATA']];
    for (const t of tenants) {
      rows.push([t.id, oneLine(t.name), t.plan, t.isolation, t.status, String(t.users.length), t.snapshot ? 'yes' : 'no']);
    }
    print(formatTable(rows));
  });

  addDataOption(
    tenant
      .command('show')
      .description('show one tenant (users by name only)')
      .argument('<id>', 'tenant id')
      .option('--json', 'print JSON (never includes password verifiers)'),
  ).action(async (id: string, opts: DataOptions & { json?: boolean }) => {
    const registry = registryFor(opts);
    const t = await getTenant(registry, id);
    if (opts.json) {
      print(JSON.stringify(tenantSummary(t), null, 2));
      return;
    }
    const plan = planOrNull(t.plan);
    const planText = plan
      ? `${plan.name} (memory ${plan.memoryLimit}, ${plan.threads} threads, ${describeUserLimit(plan)})`
      : `${t.plan} (unknown plan)`;
    const lines: [string, string][] = [
      ['id', t.id],
      ['name', oneLine(t.name)],
      ['plan', planText],
      ['isolation', t.isolation],
      ['status', t.status],
      ['users', t.users.map((u) => u.name).join(', ')],
      ['data', t.snapshot ? (registry.snapshotPath(t) ?? '') : 'none'],
      ['created', t.createdAt],
      ['updated', t.updatedAt],
    ];
    for (const [k, v] of lines) print(`${`${k}:`.padEnd(11)}${v}`);
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

  return tenant;
}
