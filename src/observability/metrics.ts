/**
 * Prometheus metrics (prom-client), in one registry of their own, served by
 * MetricsServer on a separate port (config metricsPort; off by default).
 *
 * Labels are bounded: `tenant` is a registered tenant id (a client can only produce a
 * tenant label after logging in to that tenant), `outcome` is ok/error/cancelled,
 * `class` is the first two characters of a SQLSTATE, `limit` is a name chosen by the code
 * that calls countLimitHit, `reason` is idle/superseded/shutdown. Nothing is labelled by
 * query text, user name, application_name or any other string a client chooses.
 */
import http from 'node:http';
import client from 'prom-client';

export const registry = new client.Registry();

client.collectDefaultMetrics({ register: registry, prefix: 'tenantgate_' });

export const queriesTotal = new client.Counter({
  name: 'tenantgate_queries_total',
  help: 'Statements that reached the engine or were refused, by tenant and outcome',
  labelNames: ['tenant', 'outcome'] as const,
  registers: [registry],
});

export const queryDuration = new client.Histogram({
  name: 'tenantgate_query_duration_seconds',
  help: 'Statement duration, from the statement to its last reply',
  labelNames: ['tenant'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry],
});

export const queryErrors = new client.Counter({
  name: 'tenantgate_query_errors_total',
  help: 'Failed or cancelled statements, by tenant and SQLSTATE class (first two characters)',
  labelNames: ['tenant', 'class'] as const,
  registers: [registry],
});

export const queryRows = new client.Counter({
  name: 'tenantgate_query_rows_total',
  help: 'Rows sent, by tenant',
  labelNames: ['tenant'] as const,
  registers: [registry],
});

export const queryBytes = new client.Counter({
  name: 'tenantgate_query_bytes_total',
  help: 'Reply bytes sent for statements, by tenant',
  labelNames: ['tenant'] as const,
  registers: [registry],
});

const limitHits = new client.Counter({
  name: 'tenantgate_limit_hits_total',
  help: 'Times a plan or gateway limit refused or stopped work, by tenant and limit',
  labelNames: ['tenant', 'limit'] as const,
  registers: [registry],
});

/**
 * Counts one hit of a limit for a tenant. `limit` must be a fixed name from the code
 * (statement_timeout, max_rows, connections, queries_per_minute, ...), never client input.
 */
export function countLimitHit(tenant: string, limit: string): void {
  limitHits.inc({ tenant, limit });
}

export const instanceHits = new client.Counter({
  name: 'tenantgate_instance_cache_hits_total',
  help: 'Instance acquisitions served by an instance already open (or opening)',
  registers: [registry],
});

export const instanceMisses = new client.Counter({
  name: 'tenantgate_instance_cache_misses_total',
  help: 'Instance acquisitions that had to open an instance',
  registers: [registry],
});

export const instanceEvictions = new client.Counter({
  name: 'tenantgate_instance_cache_evictions_total',
  help: 'Instances closed, by reason (idle, superseded by a new snapshot, lru: over the instance cap, shutdown)',
  labelNames: ['reason'] as const,
  registers: [registry],
});

export const instanceOpenSeconds = new client.Histogram({
  name: 'tenantgate_instance_open_seconds',
  help: 'Time to open a tenant instance (cold open: attach, catalog, lock-down)',
  buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

export const queryLogDropped = new client.Counter({
  name: 'tenantgate_querylog_dropped_total',
  help: 'Query log records dropped (buffer full or write failed)',
  registers: [registry],
});

/** Live values read at scrape time from every gateway of the process. */
export interface LiveGauges {
  connections(): number;
  running(): number;
  instances(): number;
}

const live = new Set<LiveGauges>();
const sum = (f: (g: LiveGauges) => number) => [...live].reduce((n, g) => n + f(g), 0);

new client.Gauge({
  name: 'tenantgate_connections_open',
  help: 'Client connections open now (logged in or not)',
  registers: [registry],
  collect() {
    this.set(sum((g) => g.connections()));
  },
});

new client.Gauge({
  name: 'tenantgate_queries_running',
  help: 'Queries executing in DuckDB now',
  registers: [registry],
  collect() {
    this.set(sum((g) => g.running()));
  },
});

new client.Gauge({
  name: 'tenantgate_instances_open',
  help: 'Tenant DuckDB instances open now',
  registers: [registry],
  collect() {
    this.set(sum((g) => g.instances()));
  },
});

/** Adds a gateway's live values to the gauges; the returned function removes them. */
export function registerLiveGauges(g: LiveGauges): () => void {
  live.add(g);
  return () => live.delete(g);
}

/** Records one finished statement. */
export function observeStatement(tenant: string, outcome: string, sqlstate: string, seconds: number, rows: number, bytes: number): void {
  queriesTotal.inc({ tenant, outcome });
  queryDuration.observe({ tenant }, seconds);
  if (outcome !== 'ok') queryErrors.inc({ tenant, class: sqlstate.slice(0, 2) });
  if (rows > 0) queryRows.inc({ tenant }, rows);
  if (bytes > 0) queryBytes.inc({ tenant }, bytes);
}

/** GET /metrics in Prometheus's text format; anything else is 404. */
export class MetricsServer {
  private constructor(private readonly server: http.Server) {}

  static async start(host: string, port: number): Promise<MetricsServer> {
    const server = http.createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try /metrics\n');
        return;
      }
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(e as Error).message}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new MetricsServer(server);
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
