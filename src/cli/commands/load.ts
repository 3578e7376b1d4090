// tenantgate load <tenant> <table> <file> [--replace | --append]
import { Command, Option } from 'commander';
import { validateTableName, validateTenantId } from '../../tenants/ids.js';
import { addDataOption, print, registryFor, type DataOptions } from './common.js';

export function loadCommand(): Command {
  const cmd = new Command('load')
    .description(
      'load a CSV, TSV or Parquet file into a table of a tenant and publish the result as a new snapshot ' +
        '(its own, or the shared database for a tenant with shared isolation)',
    )
    .argument('<tenant>', 'tenant id')
    .argument('<table>', 'table name: lowercase letters, digits, _; starts with a letter; at most 63 characters')
    .argument('<file>', 'a .csv (comma-separated), .tsv (tab-separated) or .parquet file; CSV/TSV need a header line')
    .addOption(new Option('--replace', "replace the table (shared isolation: replace the tenant's rows in it)").conflicts('append'))
    .addOption(new Option('--append', 'append to an existing table (the file must have exactly its columns)'))
    .addHelpText(
      'after',
      '\nWithout --replace or --append the table must not exist yet. A file that does not load\n' +
        'completely loads nothing: the previous data stay current.\n' +
        '\nFor a tenant with shared isolation the rows go into the shared table of that name, tagged\n' +
        'with the tenant id (first column tenant_id; the file must not have one). A new shared table\n' +
        'gets the file\'s columns; an existing one needs exactly its columns (by name, any order).\n' +
        "Without a flag the table must hold no rows of the tenant yet; --replace deletes only the\n" +
        "tenant's rows first. Other tenants' rows are never touched.\n",
    );
  addDataOption(cmd).action(
    async (tenant: string, table: string, file: string, opts: DataOptions & { replace?: boolean; append?: boolean }) => {
      validateTenantId(tenant);
      validateTableName(table);
      const mode = opts.replace ? 'replace' : opts.append ? 'append' : 'create';
      // DuckDB is loaded only by the commands that need it.
      const { loadTable } = await import('../../tenants/snapshots.js');
      const r = await loadTable(registryFor(opts), tenant, table, file, mode);
      const verb = mode === 'append' ? 'appended' : 'loaded';
      const where = r.isolation === 'shared' ? `shared snapshot ${r.snapshot}` : `snapshot ${r.snapshot}`;
      print(`${verb} ${r.rows} ${r.rows === 1 ? 'row' : 'rows'} into ${tenant}.${table} (${where})`);
    },
  );
  return cmd;
}
