// tenantgate history list|set|unset: the time columns plans' history windows apply to.
import { Command } from 'commander';
import { setTimeColumn } from '../../tenants/registry.js';
import { addDataOption, formatTable, print, registryFor, type DataOptions } from './common.js';

export function historyCommand(): Command {
  const history = new Command('history')
    .description("declare the time columns that plans' history windows (--history-days) apply to")
    .addHelpText(
      'after',
      '\nA declaration names a table and its time column (DATE or TIMESTAMP). It applies to every table of\n' +
        'that name: each tenant\'s own and the shared one. A tenant whose plan has --history-days N sees only\n' +
        'the rows of such a table whose time column is within the last N days (a NULL time is outside);\n' +
        'a table without that column is not affected. A running gateway applies changes at the next statement.\n',
    );

  addDataOption(history.command('list').description('list the declared time columns: TABLE COLUMN').option('--json', 'print JSON')).action(
    async (opts: DataOptions & { json?: boolean }) => {
      const cols = (await registryFor(opts).read()).timeColumns ?? {};
      if (opts.json) {
        print(JSON.stringify(cols, null, 2));
        return;
      }
      print(formatTable([['TABLE', 'COLUMN'], ...Object.entries(cols).sort(([a], [b]) => a.localeCompare(b))]));
    },
  );

  addDataOption(
    history
      .command('set')
      .description('declare the time column of a table')
      .argument('<table>', 'table name')
      .argument('<column>', 'its time column (DATE or TIMESTAMP)'),
  ).action(async (table: string, column: string, opts: DataOptions) => {
    const before = await setTimeColumn(registryFor(opts), table, column);
    print(before === null ? `time column of ${table}: ${column}` : `time column of ${table}: ${column} (was ${before})`);
  });

  addDataOption(history.command('unset').description("remove a table's time column declaration").argument('<table>', 'table name')).action(
    async (table: string, opts: DataOptions) => {
      const before = await setTimeColumn(registryFor(opts), table, null);
      print(before === null ? `${table} had no time column` : `time column of ${table} removed (was ${before})`);
    },
  );

  return history;
}
