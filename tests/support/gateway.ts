/**
 * A real gateway for a test file: its own temp data directory, tenants made through
 * the same library calls the CLI uses, listening on 127.0.0.1 port 0.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import pino from 'pino';
import { loadConfig, type ConfigFile } from '../../src/config/config.js';
import { Gateway } from '../../src/server/gateway.js';
import { addTenant, addUser, Registry } from '../../src/tenants/registry.js';
import { buildSnapshot } from '../../src/tenants/snapshots.js';

export const certsDir = (): string => {
  const dir = process.env.TENANTGATE_TEST_CERTS;
  if (!dir) throw new Error('TENANTGATE_TEST_CERTS is not set: run the tests through vitest (globalSetup)');
  return dir;
};

export interface TestGateway {
  gateway: Gateway;
  port: number;
  dataDir: string;
  registry: Registry;
  caFile: string;
  /** Log lines the gateway wrote (JSON), for assertions about what is and is not logged. */
  logs: string[];
  stop(): Promise<void>;
}

export async function startGateway(overrides: ConfigFile = {}, dataDir?: string): Promise<TestGateway> {
  const dir = dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tenantgate-test-'));
  const certs = certsDir();
  const config = loadConfig({ data: dir, host: '127.0.0.1', port: 0 }, {}, {
    tls: { cert: path.join(certs, 'server.crt'), key: path.join(certs, 'server.key') },
    logLevel: 'debug',
    ...overrides,
  });
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const gateway = await Gateway.start(config, logger);
  return {
    gateway,
    port: gateway.port,
    dataDir: dir,
    registry: new Registry(dir),
    caFile: path.join(certs, 'ca.crt'),
    logs,
    async stop() {
      await gateway.stop();
      if (!dataDir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Adds a database-isolated tenant, optionally with data made by SQL run in its new snapshot. */
export async function addTestTenant(
  registry: Registry,
  id: string,
  password: string,
  opts: { plan?: string; sql?: string[]; users?: [string, string][] } = {},
): Promise<void> {
  await addTenant(registry, { id, plan: opts.plan ?? 'enterprise', password });
  for (const [user, pw] of opts.users ?? []) await addUser(registry, id, user, pw);
  if (opts.sql?.length) {
    await buildSnapshot(registry, id, async (conn: DuckDBConnection) => {
      for (const s of opts.sql!) await conn.run(s);
    });
  }
}

/** A CSV file `name` in `dir` with a header line and the given rows (lines); returns its path. */
export function writeCsv(dir: string, name: string, header: string, rows: string[]): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, [header, ...rows].join('\n') + '\n');
  return p;
}
