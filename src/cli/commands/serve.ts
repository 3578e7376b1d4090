// tenantgate serve
import { Command } from 'commander';
import type { ServeOptions } from '../../server/serveCommand.js';

export function serveCliCommand(): Command {
  return new Command('serve')
    .description('run the PostgreSQL-protocol gateway')
    .option('--data <dir>', 'data directory (default: $TENANTGATE_DATA, else ./data)')
    .option('--host <host>', 'address to listen on')
    .option('--port <port>', 'TCP port to listen on')
    .option('--config <file>', 'configuration file')
    .option('--shutdown-grace <ms>', 'on SIGTERM/SIGINT, how long running queries may finish (default: $TENANTGATE_SHUTDOWN_GRACE_MS, else 30000)')
    .option('--metrics-port <port>', 'serve Prometheus metrics (GET /metrics) on this port (default: $TENANTGATE_METRICS_PORT, else off)')
    .option('--demo', 'create the demo tenants first if they are missing, and print how to connect')
    .action(async (opts: ServeOptions) => {
      // Loaded on demand: the tenant commands do not need the server's modules.
      const { serveCommand } = await import('../../server/serveCommand.js');
      // Only what was given on the command line: the server resolves defaults and the config file.
      await serveCommand({
        data: opts.data,
        host: opts.host,
        port: opts.port,
        config: opts.config,
        shutdownGrace: opts.shutdownGrace,
        metricsPort: opts.metricsPort,
        demo: opts.demo,
      });
    });
}
