// Helpers shared by the CLI commands: the --data option, password input, output.
import { Option, type Command } from 'commander';
import { InvalidArgumentError } from '../../tenants/ids.js';
import { Registry, resolveDataDir } from '../../tenants/registry.js';

/** A malformed command line: reported on one line, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface DataOptions {
  data?: string;
}

export function addDataOption(cmd: Command): Command {
  return cmd.option('--data <dir>', 'data directory (default: $TENANTGATE_DATA, else ./data)');
}

export function registryFor(opts: DataOptions): Registry {
  return new Registry(resolveDataDir(opts.data));
}

export interface PasswordOptions {
  password?: string;
  passwordStdin?: boolean;
}

export function addPasswordOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--password-stdin', 'read the password from standard input (one trailing newline is removed)').conflicts(
        'password',
      ),
    )
    .addOption(new Option('--password <password>', 'the password (visible in the process list; prefer --password-stdin)'));
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** The password from exactly one of --password / --password-stdin. */
export async function readPassword(opts: PasswordOptions): Promise<string> {
  if (opts.password !== undefined && opts.passwordStdin) {
    throw new UsageError('use either --password or --password-stdin, not both');
  }
  if (opts.password !== undefined) {
    warn('--password is visible in the process list; prefer --password-stdin');
    return opts.password;
  }
  if (opts.passwordStdin) {
    const text = (await readStdin()).replace(/\r?\n$/, '');
    if (text === '') throw new InvalidArgumentError('the password read from standard input is empty');
    return text;
  }
  throw new UsageError('a password is required: use --password-stdin (or --password)');
}

export function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function warn(message: string): void {
  process.stderr.write(`tenantgate: warning: ${message}\n`);
}

/** Left-aligned columns separated by two spaces; the first row is the header. */
export function formatTable(rows: string[][]): string {
  const width = (s: string): number => [...s].length;
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, width(cell))));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - width(cell))))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Display text on one line (names are operator input; keep them from breaking the layout). */
export function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ');
}
