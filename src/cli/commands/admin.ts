// tenantgate admin passwd|list|remove: the operator's credentials for the admin database.
import { Command } from 'commander';
import { ADMIN_DATABASE, validateUserName } from '../../tenants/ids.js';
import { removeAdmin, setAdminPassword } from '../../tenants/registry.js';
import {
  addDataOption,
  addPasswordOptions,
  formatTable,
  print,
  readPassword,
  registryFor,
  type DataOptions,
  type PasswordOptions,
} from './common.js';

export function adminCommand(): Command {
  const admin = new Command('admin')
    .description(`manage the admin credentials: they open the database "${ADMIN_DATABASE}", read-only SQL across all tenants`)
    .addHelpText(
      'after',
      `\nAn admin connects like a tenant, to the database "${ADMIN_DATABASE}":\n` +
        `  psql "host=... dbname=${ADMIN_DATABASE} user=<admin user> sslmode=verify-full sslrootcert=ca.crt"\n` +
        'and reads each tenant\'s data under its id (acme.orders), the shared tables unfiltered (shared.orders),\n' +
        'every tenant\'s rows of a table at once (all_tenants.orders, with tenant_id), the registry (tenants,\n' +
        'users, plans, time_columns) and the query log (queries). Only queries run; nothing can be changed.\n',
    );

  addPasswordOptions(
    addDataOption(
      admin
        .command('passwd')
        .description('create an admin user, or set its password')
        .argument('<user>', 'user name: lowercase letters, digits, _; starts with a letter; 2-63 characters'),
    ),
  ).action(async (name: string, opts: DataOptions & PasswordOptions) => {
    validateUserName(name);
    const password = await readPassword(opts);
    const existed = await setAdminPassword(registryFor(opts), name, password);
    print(existed ? `password of admin user ${name} changed` : `admin user ${name} created`);
  });

  addDataOption(admin.command('list').description('list the admin users: NAME CREATED').option('--json', 'print JSON')).action(
    async (opts: DataOptions & { json?: boolean }) => {
      const admins = ((await registryFor(opts).read()).admins ?? []).map((u) => ({ name: u.name, createdAt: u.createdAt }));
      if (opts.json) print(JSON.stringify(admins, null, 2));
      else print(formatTable([['NAME', 'CREATED'], ...admins.map((a) => [a.name, a.createdAt])]));
    },
  );

  addDataOption(admin.command('remove').description('remove an admin user').argument('<user>', 'user name')).action(
    async (name: string, opts: DataOptions) => {
      await removeAdmin(registryFor(opts), name);
      print(`admin user ${name} removed`);
    },
  );

  return admin;
}
