import { execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import pg from 'pg';
import type { TestGateway } from './gateway.js';
import { until } from './wait.js';

export interface Login {
  tenant: string;
  user?: string;
  password: string;
}

/** A node-postgres client over TLS, verifying the development CA. Text results stay text. */
export async function pgConnect(gw: TestGateway, login: Login, extra: Partial<pg.ClientConfig> = {}): Promise<pg.Client> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port: gw.port,
    database: login.tenant,
    user: login.user ?? login.tenant,
    password: login.password,
    ssl: { ca: fs.readFileSync(gw.caFile) },
    ...extra,
  });
  // A refused login or a FATAL also surfaces as an 'error' event; the promise carries it.
  client.on('error', () => {});
  await client.connect();
  return client;
}

/**
 * A CancelRequest in plaintext, as libpq sends it, for the session with this process id
 * and secret key (a node-postgres client's own, by default); resolves when the server
 * has closed the cancel connection (or it failed, or 5 s passed).
 */
export async function sendCancel(
  port: number,
  client: pg.Client | null,
  keys?: { processID: number; secretKey: number },
  host = '127.0.0.1',
): Promise<void> {
  const { processID, secretKey } = keys ?? (client as unknown as { processID: number; secretKey: number });
  await new Promise<void>((resolve) => {
    const s = net.connect(port, host, () => {
      const m = Buffer.alloc(16);
      m.writeInt32BE(16, 0);
      m.writeInt32BE(80877102, 4);
      m.writeInt32BE(processID, 8);
      m.writeInt32BE(secretKey, 12);
      s.end(m);
    });
    s.on('error', () => resolve());
    s.on('close', () => resolve());
    s.setTimeout(5000, () => s.destroy());
  });
}

/** Raw text values: no client-side parsing, so tests see exactly what the server sent. */
export const rawTypes = { getTypeParser: () => (v: string) => v };

/**
 * The outcome of a check for something the tests need. In CI (CI=true) a missing client
 * is a failure, not a skip; elsewhere the tests that need it are skipped, saying why.
 */
function required(what: string, missing: string | null): boolean {
  if (missing === null) return true;
  if (process.env.CI === 'true') throw new Error(`${what} is required in CI: ${missing}`);
  console.warn(`skipping the tests that need ${what}: ${missing} (.ci/run lists the Debian packages)`);
  return false;
}

const onPath = (cmd: string) => (process.env.PATH ?? '').split(':').some((d) => d && fs.existsSync(`${d}/${cmd}`));

/** True when a command is on the PATH. In CI a missing client is a failure, not a skip. */
export function requireCommand(cmd: string): boolean {
  return required(cmd, onPath(cmd) ? null : 'not found on PATH');
}

/** pgjdbc's jar as Debian's libpostgresql-jdbc-java installs it. */
export const PGJDBC_JAR = '/usr/share/java/postgresql.jar';

/** The Python the Debian packages (python3-psycopg2, python3-pyodbc, ...) install into. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

function probe(cmd: string, args: string[]): { ok: boolean; out: string } {
  try {
    return { ok: true, out: execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 }) };
  } catch (e) {
    return { ok: false, out: String((e as { stderr?: unknown }).stderr ?? e).trim().split('\n').pop() ?? '' };
  }
}

/** A JDK that runs single-file programs (`java Foo.java` needs jdk.compiler), and pgjdbc. */
export function requireJava(): boolean {
  let missing: string | null = null;
  if (!onPath('java')) missing = 'java not found on PATH';
  else if (!fs.existsSync(PGJDBC_JAR)) missing = `${PGJDBC_JAR} not found`;
  else if (!/^jdk\.compiler@/m.test(probe('java', ['--list-modules']).out)) missing = 'java has no jdk.compiler module (a JRE, not a JDK)';
  return required('Java with pgjdbc', missing);
}

/** A module importable by /usr/bin/python3, e.g. requirePython('psycopg2'). */
export function requirePython(module: string): boolean {
  let missing: string | null = null;
  if (!fs.existsSync(SYSTEM_PYTHON)) missing = `${SYSTEM_PYTHON} not found`;
  else {
    const r = probe(SYSTEM_PYTHON, ['-c', `import ${module}`]);
    if (!r.ok) missing = `${SYSTEM_PYTHON} cannot import ${module}: ${r.out}`;
  }
  return required(`the Python module ${module}`, missing);
}

/** psqlODBC registered with unixODBC as "PostgreSQL Unicode". */
export function requireOdbcDriver(): boolean {
  let missing: string | null = null;
  if (!onPath('odbcinst')) missing = 'odbcinst (unixodbc) not found on PATH';
  else if (!/^\[PostgreSQL Unicode\]$/m.test(probe('odbcinst', ['-q', '-d']).out)) missing = 'odbcinst -q -d does not list [PostgreSQL Unicode]';
  return required('the psqlODBC driver', missing);
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/**
 * Tables the driver tests read. `typed` has one row with a column of each type tenants'
 * tools bind and read; `orders` has 1,000 rows, order i shipped i seconds and i
 * microseconds after 2024-01-01.
 */
export const DRIVER_TABLES_SQL = [
  `CREATE TABLE typed AS SELECT 42::INTEGER AS i, 9007199254740993::BIGINT AS l, (-7)::SMALLINT AS s,
    2.5::DOUBLE AS d, 1.25::REAL AS f, true AS b, 12345.6789::DECIMAL(12,4) AS n, 'Grüße, ☕' AS t, DATE '2024-02-29' AS dt,
    TIMESTAMP '2024-01-02 03:04:05.123456' AS ts, '\\x00\\xFF'::BLOB AS bin, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID AS u,
    NULL::INTEGER AS nothing`,
  `CREATE TABLE orders AS SELECT i::BIGINT AS order_id, DATE '2024-01-01' + (i % 30)::INTEGER AS order_date,
    'widget ' || (i % 3) AS product, (i % 7)::INTEGER AS quantity, (i * 1.25)::DECIMAL(10,2) AS unit_price,
    TIMESTAMP '2024-01-01 00:00:00' + to_microseconds(i * 1000001) AS shipped_at FROM range(1000) t(i)`,
];

/** What one check of a driver program (tests/support/java, tests/support/python) gave back. */
export type CheckResult = { ok: true; value: unknown } | { ok: false; error: Record<string, unknown> };
export type CheckResults = Record<string, CheckResult>;

/** What a driver program is told of the gateway and the login, as `key=value` arguments. */
export function connectionArgs(gw: TestGateway, login: Login, extra: Record<string, string> = {}): string[] {
  const args = {
    host: '127.0.0.1',
    port: String(gw.port),
    db: login.tenant,
    user: login.user ?? login.tenant,
    password: login.password,
    sslrootcert: gw.caFile,
    ...extra,
  };
  return Object.entries(args).map(([k, v]) => `${k}=${v}`);
}

/**
 * Runs a driver program against a gateway of this process and returns the checks it
 * printed on its "@result <json>" line. A line "@await-running" means the program is about
 * to wait for a query it will cancel: once the gateway reports a query running (or the
 * wait gives up, so that a query that never started shows up as a failed check rather
 * than a hang), the program gets a line on stdin.
 */
export function runChecks(
  gw: TestGateway,
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CheckResults> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    let result: CheckResults | undefined;
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${opts.timeoutMs ?? 120_000} ms)`;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 120_000);
    const onLine = (line: string) => {
      if (line === '@await-running') {
        void until(() => gw.gateway.runningQueries > 0)
          .catch(() => undefined)
          .then(() => child.stdin.write('go\n'));
      } else if (line.startsWith('@result ')) {
        result = JSON.parse(line.slice('@result '.length)) as CheckResults;
      }
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      let nl;
      while ((nl = out.indexOf('\n')) >= 0) {
        onLine(out.slice(0, nl).replace(/\r$/, ''));
        out = out.slice(nl + 1);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => void (stderr += d));
    child.stdin.on('error', () => undefined);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (result && code === 0) resolve(result);
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code} and ${result ? 'a' : 'no'} result:\n${stderr.slice(-4000)}`));
    });
  });
}

/** The value a check returned; a check that threw fails the test with its error. */
export function checked(results: CheckResults, name: string): unknown {
  const r = results[name];
  if (!r) throw new Error(`the driver program ran no check named ${name}`);
  if (!r.ok) throw new Error(`check ${name} failed: ${JSON.stringify(r.error)}`);
  return r.value;
}
