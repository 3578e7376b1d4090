// tenantgate user add|remove|passwd
import { Command } from 'commander';
import { validateTenantId, validateUserName } from '../../tenants/ids.js';
import { addUser, removeUser, setUserPassword } from '../../tenants/registry.js';
import {
  addDataOption,
  addPasswordOptions,
  print,
  readPassword,
  registryFor,
  type DataOptions,
  type PasswordOptions,
} from './common.js';

const USER_RULE = 'user name: lowercase letters, digits, _; starts with a letter; 2-63 characters';

export function userCommand(): Command {
  const user = new Command('user').description("manage a tenant's users (their passwords are stored as SCRAM verifiers only)");

  addPasswordOptions(
    addDataOption(
      user
        .command('add')
        .description("add a user to a tenant (within the plan's user limit)")
        .argument('<tenant>', 'tenant id')
        .argument('<user>', USER_RULE),
    ),
  ).action(async (tenant: string, name: string, opts: DataOptions & PasswordOptions) => {
    validateTenantId(tenant);
    validateUserName(name);
    const password = await readPassword(opts);
    await addUser(registryFor(opts), tenant, name, password);
    print(`user ${name} added to tenant ${tenant}`);
  });

  addDataOption(
    user
      .command('remove')
      .description('remove a user (the last user of a tenant cannot be removed)')
      .argument('<tenant>', 'tenant id')
      .argument('<user>', 'user name'),
  ).action(async (tenant: string, name: string, opts: DataOptions) => {
    await removeUser(registryFor(opts), tenant, name);
    print(`user ${name} removed from tenant ${tenant}`);
  });

  addPasswordOptions(
    addDataOption(
      user
        .command('passwd')
        .description("set a user's password")
        .argument('<tenant>', 'tenant id')
        .argument('<user>', 'user name'),
    ),
  ).action(async (tenant: string, name: string, opts: DataOptions & PasswordOptions) => {
    validateTenantId(tenant);
    validateUserName(name);
    const password = await readPassword(opts);
    await setUserPassword(registryFor(opts), tenant, name, password);
    print(`password of user ${name} in tenant ${tenant} changed`);
  });

  return user;
}
