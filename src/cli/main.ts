#!/usr/bin/env node
// tenantgate: the operator's command line. Argument parsing only; the work happens in
// src/tenants (registry, snapshots, shared database, demo) and src/server (serve).
//
// Every failure is one line on stderr, "tenantgate: <message>", with exit status 2 for a
// malformed command line and 1 for anything else. TENANTGATE_DEBUG=1 adds stack traces of
// unexpected errors.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, TenantError } from '../tenants/ids.js';
import { adminCommand } from './commands/admin.js';
import { UsageError } from './commands/common.js';
import { demoCommand } from './commands/demo.js';
import { healthCommand } from './commands/health.js';
import { historyCommand } from './commands/history.js';
import { loadCommand } from './commands/load.js';
import { planCommand } from './commands/plan.js';
import { serveCliCommand } from './commands/serve.js';
import { sharedCommand } from './commands/shared.js';
import { splitCommand } from './commands/split.js';
import { tenantCommand } from './commands/tenant.js';
import { userCommand } from './commands/user.js';

const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

function packageVersion(): string {
  try {
    // src/cli/main.ts and dist/cli/main.js are both two levels below package.json.
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function buildProgram(): Command {
  const program = new Command('tenantgate');
  program
    .description('PostgreSQL-protocol gateway in front of per-tenant and shared DuckDB data')
    .version(packageVersion(), '-V, --version', 'output the version number')
    // Inherited by every subcommand added below: errors come back as exceptions, and
    // commander writes nothing itself (main() prints them on one line).
    .exitOverride()
    .configureOutput({ outputError: () => undefined })
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      '\nEvery command takes --data DIR (default: $TENANTGATE_DATA, else ./data).\n' +
        'Run "tenantgate <command> --help" for the options of a command.\n',
    );
  program.addCommand(serveCliCommand());
  program.addCommand(tenantCommand());
  program.addCommand(userCommand());
  program.addCommand(planCommand());
  program.addCommand(historyCommand());
  program.addCommand(loadCommand());
  program.addCommand(sharedCommand());
  program.addCommand(splitCommand());
  program.addCommand(demoCommand());
  program.addCommand(healthCommand());
  program.addCommand(adminCommand());
  // addCommand() does not copy settings to commands built elsewhere: apply them to all.
  const configure = (cmd: Command): void => {
    cmd.exitOverride().configureOutput({ outputError: () => undefined }).showSuggestionAfterError(true);
    cmd.commands.forEach(configure);
  };
  program.commands.forEach(configure);
  return program;
}

function oneLineMessage(message: string): string {
  return message
    .replace(/^error: /, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' ');
}

/** Runs the CLI; resolves to the exit status (undefined = leave the process running as it is). */
async function main(argv: string[] = process.argv): Promise<number | undefined> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return undefined;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      // Help shown because a command was missing: commander printed it to stderr already.
      if (e.code === 'commander.help') return EXIT_USAGE;
      process.stderr.write(`tenantgate: ${oneLineMessage(e.message)}\n`);
      return EXIT_USAGE;
    }
    const expected = e instanceof TenantError || e instanceof UsageError;
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`tenantgate: ${oneLineMessage(message) || 'unknown error'}\n`);
    if (!expected && process.env.TENANTGATE_DEBUG && e instanceof Error && e.stack) {
      process.stderr.write(`${e.stack}\n`);
    }
    return e instanceof UsageError || e instanceof InvalidArgumentError ? EXIT_USAGE : EXIT_FAILURE;
  }
}

// `tenantgate tenant list | head -1`: a closed pipe ends the output, not with a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const code = await main();
if (code !== undefined) process.exit(code);
