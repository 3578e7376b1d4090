/** Runs the pgjdbc programs of tests/support/java against a test gateway. */
import { fileURLToPath } from 'node:url';
import { PGJDBC_JAR, runChecks, type CheckResults, type Login } from './clients.js';
import type { TestGateway } from './gateway.js';

/**
 * Runs tests/support/java/<program>.java (one JVM for all its checks) with the connection
 * settings as key=value arguments. The JVM runs in UTC so that java.sql.Timestamp and Date
 * values print the same everywhere.
 */
export function runJava(gw: TestGateway, program: string, login: Login, extra: Record<string, string> = {}): Promise<CheckResults> {
  const source = fileURLToPath(new URL(`./java/${program}.java`, import.meta.url));
  const args = {
    host: '127.0.0.1',
    port: String(gw.port),
    db: login.tenant,
    user: login.user ?? login.tenant,
    password: login.password,
    sslrootcert: gw.caFile,
    ...extra,
  };
  return runChecks(gw, 'java', ['-Duser.timezone=UTC', '-cp', PGJDBC_JAR, source, ...Object.entries(args).map(([k, v]) => `${k}=${v}`)]);
}
