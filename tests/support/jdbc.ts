/** Runs the pgjdbc programs of tests/support/java against a test gateway. */
import { fileURLToPath } from 'node:url';
import { connectionArgs, PGJDBC_JAR, runChecks, type CheckResults, type Login } from './clients.js';
import type { TestGateway } from './gateway.js';

/**
 * Runs tests/support/java/<program>.java (one JVM for all its checks) with the connection
 * settings as key=value arguments. The JVM runs in UTC so that java.sql.Timestamp and Date
 * values print the same everywhere.
 */
export function runJava(gw: TestGateway, program: string, login: Login, extra: Record<string, string> = {}): Promise<CheckResults> {
  const source = fileURLToPath(new URL(`./java/${program}.java`, import.meta.url));
  return runChecks(gw, 'java', ['-Duser.timezone=UTC', '-cp', PGJDBC_JAR, source, ...connectionArgs(gw, login, extra)]);
}
