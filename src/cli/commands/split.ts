// tenantgate split <table> <file>
import { Command } from 'commander';
import { TenantError, validateTableName } from '../../tenants/ids.js';
import { addDataOption, print, registryFor, type DataOptions } from './common.js';

/** Unknown tenant ids listed one per line; the rest are summed up. */
const MAX_UNKNOWN_LINES = 20;

function rows(n: number): string {
  return `${n} ${n === 1 ? 'row' : 'rows'}`;
}

export function splitCommand(): Command {
  const cmd = new Command('split')
    .description("publish each tenant's slice of one global table into its own snapshot or the shared database")
    .argument('<table>', 'table name: lowercase letters, digits, _; starts with a letter; at most 63 characters')
    .argument('<file>', 'a .csv, .tsv or .parquet file, or a .duckdb file holding a table of that name; with a tenant_id column')
    .addHelpText(
      'after',
      '\nEvery registered tenant gets its slice, possibly empty: a tenant with database isolation as\n' +
        'CREATE OR REPLACE TABLE <table> in its own snapshot (without the tenant_id column); the\n' +
        'tenants with shared isolation in one new shared snapshot replacing their rows of <table>\n' +
        '(the shared table takes the columns of the file). Rows whose tenant_id is not a registered\n' +
        'tenant are counted per id and not loaded. One line per tenant is printed; the exit status\n' +
        'is non-zero only on failure: a file that cannot be read, or a slice that was not published.\n',
    );
  addDataOption(cmd).action(async (table: string, file: string, opts: DataOptions) => {
    validateTableName(table);
    const { splitTable } = await import('../../tenants/shared.js');
    const r = await splitTable(registryFor(opts), table, file);
    for (const t of r.tenants) {
      if (t.error !== null) print(`${t.id} (${t.isolation}): failed: ${t.error}`);
      else print(`${t.id} (${t.isolation}): ${rows(t.rows)}, ${t.isolation === 'shared' ? 'shared snapshot' : 'snapshot'} ${t.snapshot}`);
    }
    for (const u of r.unknown.slice(0, MAX_UNKNOWN_LINES)) {
      print(`${u.id === null ? 'rows without a tenant_id' : `unknown tenant ${JSON.stringify(u.id)}`}: ${rows(u.rows)} not loaded`);
    }
    const hidden = r.unknown.slice(MAX_UNKNOWN_LINES);
    if (hidden.length > 0) {
      print(`and ${hidden.length} more unknown tenants: ${rows(hidden.reduce((a, u) => a + u.rows, 0))} not loaded`);
    }
    const failed = r.tenants.filter((t) => t.error !== null);
    const loaded = r.tenants.filter((t) => t.error === null);
    const skipped = r.unknown.reduce((a, u) => a + u.rows, 0);
    let summary = `split ${table}: ${rows(loaded.reduce((a, t) => a + t.rows, 0))} into ${loaded.length} ${loaded.length === 1 ? 'tenant' : 'tenants'}`;
    if (skipped > 0) summary += `; ${rows(skipped)} of unknown tenants not loaded`;
    print(summary);
    if (failed.length > 0) {
      throw new TenantError(`split ${table}: ${failed.length} of ${r.tenants.length} tenants failed (${failed.map((t) => t.id).join(', ')}); see above`);
    }
  });
  return cmd;
}
