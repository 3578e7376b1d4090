import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { MEMORY_RE } from '../tenants/plans.js';

/**
 * One validated, frozen configuration. Precedence: command-line flags, then
 * environment ($TENANTGATE_DATA, $TENANTGATE_SHUTDOWN_GRACE_MS, $TENANTGATE_METRICS_PORT), then the --config file, then defaults.
 * Relative paths in a config file are relative to that file.
 */
const fileSchema = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(0).max(65535),
    data: z.string().min(1),
    tls: z
      .object({
        cert: z.string().min(1),
        key: z.string().min(1),
      })
      .strict()
      .nullable(),
    /** Accept unencrypted connections too. Off by default: rows and session data cross the wire. */
    allowPlaintext: z.boolean(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    /** Largest query text accepted, in bytes (PostgreSQL has no such limit; parsing cost grows with size). */
    maxQueryBytes: z.number().int().min(1024),
    /** A client must finish startup and authentication within this time (PostgreSQL: authentication_timeout). */
    authTimeoutMs: z.number().int().min(100),
    /** How long a cached idle DuckDB instance stays open. */
    instanceIdleMs: z.number().int().min(0),
    /** Most DuckDB instances open at once; beyond it the least recently used idle one closes. */
    maxOpenInstances: z.number().int().min(1),
    /** Most queries running in DuckDB at once over all tenants (the process's thread budget). */
    maxRunningQueries: z.number().int().min(1).max(1024),
    /** memory_limit of the shared instance: the pool all shared-isolation tenants draw from. */
    sharedMemoryLimit: z.string().regex(MEMORY_RE, 'expected a size such as 2GB'),
    /** DuckDB threads of the shared instance. */
    sharedThreads: z.number().int().min(1).max(1024),
    /** On SIGTERM/SIGINT, how long running queries may go on before their sessions are ended (57P01). */
    shutdownGraceMs: z.number().int().min(0),
    /** Failed logins from one client address within the window that throttle the address (0: never). */
    loginMaxFailuresPerAddress: z.number().int().min(0),
    /** Failed logins for one tenant/user pair within the window that throttle the pair (0: never). */
    loginMaxFailuresPerUser: z.number().int().min(0),
    /** The window failed logins are counted in. */
    loginFailureWindowMs: z.number().int().min(1000),
    /** How long a throttled address or pair is refused. */
    loginLockoutMs: z.number().int().min(0),
    /** Write the query log (<data>/querylog/). */
    queryLog: z.boolean(),
    /** The query log's current file is rotated when it would grow past this. */
    queryLogMaxFileBytes: z.number().int().min(4096),
    /** Rotated query log files kept (the oldest beyond it are deleted). */
    queryLogKeepFiles: z.number().int().min(0),
    /** Longest statement text kept in a query log record, in bytes. */
    queryLogMaxTextBytes: z.number().int().min(0),
    /** Port of the Prometheus endpoint (GET /metrics); null: no endpoint. */
    metricsPort: z.number().int().min(0).max(65535).nullable(),
    /** Address the metrics endpoint listens on. */
    metricsHost: z.string().min(1),
  })
  .strict()
  .partial();

export type ConfigFile = z.infer<typeof fileSchema>;

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly tls: { readonly cert: string; readonly key: string } | null;
  readonly allowPlaintext: boolean;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly maxQueryBytes: number;
  readonly authTimeoutMs: number;
  readonly instanceIdleMs: number;
  readonly maxOpenInstances: number;
  readonly maxRunningQueries: number;
  readonly sharedMemoryLimit: string;
  readonly sharedThreads: number;
  readonly shutdownGraceMs: number;
  readonly loginMaxFailuresPerAddress: number;
  readonly loginMaxFailuresPerUser: number;
  readonly loginFailureWindowMs: number;
  readonly loginLockoutMs: number;
  readonly queryLog: boolean;
  readonly queryLogMaxFileBytes: number;
  readonly queryLogKeepFiles: number;
  readonly queryLogMaxTextBytes: number;
  readonly metricsPort: number | null;
  readonly metricsHost: string;
}

export interface ConfigFlags {
  data?: string | undefined;
  host?: string | undefined;
  port?: string | number | undefined;
  config?: string | undefined;
  shutdownGrace?: string | undefined;
  metricsPort?: string | undefined;
}

/** Where the repository's development certificates are (made by certs/make-dev-certs.sh). */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const DEFAULTS: Config = Object.freeze({
  host: '127.0.0.1',
  port: 6432,
  dataDir: './data',
  tls: Object.freeze({
    cert: path.join(repoRoot, 'certs', 'server.crt'),
    key: path.join(repoRoot, 'certs', 'server.key'),
  }),
  allowPlaintext: false,
  logLevel: 'info',
  maxQueryBytes: 1024 * 1024,
  authTimeoutMs: 60_000,
  instanceIdleMs: 60_000,
  maxOpenInstances: 256,
  maxRunningQueries: 12,
  sharedMemoryLimit: '2GB',
  sharedThreads: 4,
  shutdownGraceMs: 30_000,
  loginMaxFailuresPerAddress: 20,
  loginMaxFailuresPerUser: 5,
  loginFailureWindowMs: 60_000,
  loginLockoutMs: 60_000,
  queryLog: true,
  queryLogMaxFileBytes: 64 * 1024 * 1024,
  queryLogKeepFiles: 10,
  queryLogMaxTextBytes: 4096,
  metricsPort: null,
  metricsHost: '127.0.0.1',
});

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function readConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : '(top level)';
    throw new ConfigError(`config file ${file}: ${where}: ${issue.message}`);
  }
  const base = path.dirname(path.resolve(file));
  const c = parsed.data;
  return {
    ...c,
    ...(c.data !== undefined && { data: path.resolve(base, c.data) }),
    ...(c.tls && { tls: { cert: path.resolve(base, c.tls.cert), key: path.resolve(base, c.tls.key) } }),
  };
}

function parsePort(p: string | number): number {
  const n = typeof p === 'number' ? p : /^\d+$/.test(p) ? Number(p) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`invalid port: ${p}`);
  return n;
}

function parseMs(what: string, v: string): number {
  if (!/^\d+$/.test(v)) throw new ConfigError(`invalid ${what}: ${v} (milliseconds, a whole number)`);
  return Number(v);
}

export function loadConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env, overrides: ConfigFile = {}): Config {
  const file = flags.config ? readConfigFile(flags.config) : {};
  const merged = { ...file, ...overrides };
  const dataDir = flags.data ?? env.TENANTGATE_DATA ?? merged.data ?? DEFAULTS.dataDir;
  const tls = merged.tls === undefined ? DEFAULTS.tls : merged.tls;
  const allowPlaintext = merged.allowPlaintext ?? DEFAULTS.allowPlaintext;
  if (!tls && !allowPlaintext) {
    throw new ConfigError('tls is null and allowPlaintext is false: no client could connect');
  }
  // A key the file (or the overrides) sets replaces its default; flags and the environment
  // are layered over the few keys they can set.
  const { data: _data, ...given } = merged;
  const set = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as Partial<Omit<Config, 'dataDir'>>;
  const config: Config = {
    ...DEFAULTS,
    ...set,
    host: flags.host ?? merged.host ?? DEFAULTS.host,
    port: flags.port !== undefined ? parsePort(flags.port) : (merged.port ?? DEFAULTS.port),
    dataDir: path.resolve(dataDir),
    tls: tls ? Object.freeze({ ...tls }) : null,
    allowPlaintext,
    shutdownGraceMs:
      flags.shutdownGrace !== undefined
        ? parseMs('shutdown grace', flags.shutdownGrace)
        : env.TENANTGATE_SHUTDOWN_GRACE_MS !== undefined
          ? parseMs('TENANTGATE_SHUTDOWN_GRACE_MS', env.TENANTGATE_SHUTDOWN_GRACE_MS)
          : (merged.shutdownGraceMs ?? DEFAULTS.shutdownGraceMs),
    metricsPort:
      flags.metricsPort !== undefined
        ? parsePort(flags.metricsPort)
        : env.TENANTGATE_METRICS_PORT !== undefined && env.TENANTGATE_METRICS_PORT !== ''
          ? parsePort(env.TENANTGATE_METRICS_PORT)
          : merged.metricsPort !== undefined
            ? merged.metricsPort
            : DEFAULTS.metricsPort,
  };
  return Object.freeze(config);
}
