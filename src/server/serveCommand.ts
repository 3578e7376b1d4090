/**
 * `tenantgate serve`: load the configuration, optionally create the demo tenants,
 * start the gateway, drain and stop it on SIGINT/SIGTERM (a second signal exits at once).
 */
import path from 'node:path';
import { loadConfig } from '../config/config.js';
import { createDemo, psqlCommandLine } from '../tenants/demo.js';
import { Registry } from '../tenants/registry.js';
import { Gateway } from './gateway.js';
import { createLogger } from './logger.js';
import { rerunWithThreadPool, threadPoolSize } from './threadPool.js';

export interface ServeOptions {
  data?: string;
  host?: string;
  port?: string;
  config?: string;
  shutdownGrace?: string;
  metricsPort?: string;
  demo?: boolean;
}

export async function serveCommand(opts: ServeOptions): Promise<void> {
  const config = loadConfig({ data: opts.data, host: opts.host, port: opts.port, config: opts.config, shutdownGrace: opts.shutdownGrace, metricsPort: opts.metricsPort });
  // libuv's pool for the configured query budget, plus spare threads (threadPool.ts).
  if (rerunWithThreadPool(threadPoolSize(config.maxRunningQueries))) return;
  const logger = createLogger(config.logLevel);
  const demo = opts.demo ? await createDemo(new Registry(config.dataDir), { ifMissing: true }) : [];
  const gateway = await Gateway.start(config, logger);
  logger.info({ host: config.host, port: gateway.port, data: config.dataDir, tls: !!config.tls, plaintext: config.allowPlaintext }, 'tenantgate listening');
  process.stderr.write(`tenantgate listening on ${config.host}:${gateway.port} (data: ${config.dataDir})\n`);
  if (gateway.metricsPort !== null) process.stderr.write(`metrics on http://${config.metricsHost}:${gateway.metricsPort}/metrics\n`);
  if (demo.length > 0) {
    const ca = path.relative(process.cwd(), path.join(path.dirname(config.tls?.cert ?? 'certs/server.crt'), 'ca.crt'));
    const lines = demo.map((t) => `  ${psqlCommandLine(t, config.host, gateway.port, ca)}`);
    process.stderr.write(`\ntenantgate is serving the demo tenants. Connect with psql:\n${lines.join('\n')}\n\n`);
  }
  // The first signal drains (gateway.stop); a second one exits at once.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting for running queries');
      process.stderr.write('tenantgate: second signal, exiting now\n');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, graceMs: config.shutdownGraceMs, connections: gateway.connections }, 'shutting down: no new connections, draining');
    process.stderr.write(`tenantgate: ${signal}, draining (up to ${config.shutdownGraceMs} ms); send it again to exit now\n`);
    gateway.stop(config.shutdownGraceMs).then(
      () => {
        logger.info('shut down');
        process.exit(0);
      },
      (e: unknown) => {
        logger.error({ err: (e as Error).message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
