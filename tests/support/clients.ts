import { execFile } from 'node:child_process';
import fs from 'node:fs';
import pg from 'pg';
import type { TestGateway } from './gateway.js';

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

/** Raw text values: no client-side parsing, so tests see exactly what the server sent. */
export const rawTypes = { getTypeParser: () => (v: string) => v };

/** True when a command is on the PATH. In CI a missing client is a failure, not a skip. */
export function requireCommand(cmd: string): boolean {
  const found = (process.env.PATH ?? '').split(':').some((d) => d && fs.existsSync(`${d}/${cmd}`));
  if (!found && process.env.CI === 'true') throw new Error(`${cmd} is required in CI but was not found on PATH`);
  return found;
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
