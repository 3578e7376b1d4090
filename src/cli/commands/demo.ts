// tenantgate demo
import { Command } from 'commander';
import { addDataOption, print, registryFor, type DataOptions } from './common.js';

export const DEMO_HOST = '127.0.0.1';
export const DEMO_PORT = 6432;
export const DEMO_CA_PATH = 'certs/ca.crt';

export function demoCommand(): Command {
  const cmd = new Command('demo')
    .description('create the demo tenants acme (free), globex (pro) and initech (enterprise) with sample data')
    .option('--if-missing', 'leave demo tenants that already exist alone instead of failing')
    .addHelpText(
      'after',
      '\nThe demo passwords are public (<id>-demo-password): use the demo tenants for local trials only.\n',
    );
  addDataOption(cmd).action(async (opts: DataOptions & { ifMissing?: boolean }) => {
    const { createDemo, psqlCommandLine } = await import('../../tenants/demo.js');
    const tenants = await createDemo(registryFor(opts), { ifMissing: opts.ifMissing === true });
    for (const t of tenants) {
      print(`${t.id} (plan ${t.plan}): ${t.created ? 'created' : 'already exists, left unchanged'}`);
      print(`  ${psqlCommandLine(t, DEMO_HOST, DEMO_PORT, DEMO_CA_PATH)}`);
    }
  });
  return cmd;
}
