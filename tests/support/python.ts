/** Runs the Python driver programs of tests/support/python against a test gateway. */
import { fileURLToPath } from 'node:url';
import { connectionArgs, runChecks, SYSTEM_PYTHON, type CheckResults, type Login } from './clients.js';
import type { TestGateway } from './gateway.js';

/**
 * Runs tests/support/python/<program>.py with /usr/bin/python3 (where the Debian packages
 * psycopg2, pyodbc, SQLAlchemy and pandas are), the connection settings as key=value
 * arguments, and `env` added to the environment (psqlODBC reads PGSSLROOTCERT through libpq).
 */
export function runPython(
  gw: TestGateway,
  program: string,
  login: Login,
  extra: Record<string, string> = {},
  env: NodeJS.ProcessEnv = {},
): Promise<CheckResults> {
  const script = fileURLToPath(new URL(`./python/${program}.py`, import.meta.url));
  // -B: no __pycache__ beside the sources; unbuffered, so "@await-running" arrives at once.
  return runChecks(gw, SYSTEM_PYTHON, ['-B', '-u', script, ...connectionArgs(gw, login, extra)], {
    env: { PYTHONIOENCODING: 'utf-8', ...env },
  });
}
