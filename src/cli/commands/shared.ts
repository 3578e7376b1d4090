// tenantgate shared load <table> <file> [--replace | --append]
import { Command, Option } from 'commander';
import { validateTableName } from '../../tenants/ids.js';
import { addDataOption, print, registryFor, type DataOptions } from './common.js';

export function sharedCommand(): Command {
  const shared = new Command('shared').description('manage the shared database of the tenants with shared isolation');

  addDataOption(
    shared
      .command('load')
      .description('load a table of rows shared by several tenants into the shared database')
      .argument('<table>', 'table name: lowercase letters, digits, _; starts with a letter; at most 63 characters')
      .argument('<file>', 'a .csv, .tsv or .parquet file with a tenant_ids column')
      .addOption(new Option('--replace', 'replace the whole table if it exists').conflicts('append'))
      .addOption(new Option('--append', 'append to an existing table (the file must have exactly its columns)'))
      .addHelpText(
        'after',
        '\nThe file has a tenant_ids column: the tenants each row is visible to (Parquet: a list of\n' +
          'strings; CSV/TSV: a list literal such as "[acme, globex]"). It becomes the first column of\n' +
          'the table, as tenant_ids VARCHAR[]. Every id must be a registered tenant with shared\n' +
          'isolation, and no list may be empty, else nothing is loaded.\n' +
          'Without --replace or --append the table must not exist yet.\n',
      ),
  ).action(async (table: string, file: string, opts: DataOptions & { replace?: boolean; append?: boolean }) => {
    validateTableName(table);
    const mode = opts.replace ? 'replace' : opts.append ? 'append' : 'create';
    const { loadMultiTenantTable } = await import('../../tenants/shared.js');
    const r = await loadMultiTenantTable(registryFor(opts), table, file, mode);
    const verb = mode === 'append' ? 'appended' : 'loaded';
    print(
      `${verb} ${r.rows} ${r.rows === 1 ? 'row' : 'rows'} into shared table ${table} ` +
        `(now visible to ${r.tenants} ${r.tenants === 1 ? 'tenant' : 'tenants'}; shared snapshot ${r.snapshot})`,
    );
  });

  return shared;
}
