// tenantgate health: per-tenant data size, usage from the query log, and advice.
import { Command } from 'commander';
import { addDataOption, type DataOptions } from './common.js';

export function healthCommand(): Command {
  return addDataOption(
    new Command('health').description("each tenant's data, usage in the last 24 h and plan advice").option('--json', 'print JSON'),
  ).action(async (_opts: DataOptions & { json?: boolean }) => {
    throw new Error('health is not available yet');
  });
}
