/**
 * The gateway: a TCP listener and everything a connection needs, started and stopped
 * as one. Tests start it in-process on port 0; `tenantgate serve` runs it.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { TlsOptions } from 'pg-gateway';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { InstanceCache } from '../engine/instances.js';
import { DuckdbParser } from '../engine/parser.js';
import { QuerySlots } from '../engine/querySlots.js';
import { QUOTA_FILE, RateQuota } from '../engine/rateQuota.js';
import { describeTenants, TenantEngine } from '../engine/tenantEngine.js';
import { AdminEngine } from '../admin/adminEngine.js';
import type { GateContext } from '../sql/catalog.js';
import { Gate } from '../sql/gate.js';
import type { Token } from '../sql/lexer.js';
import type { ParameterCasts } from '../sql/parameterCasts.js';
import { SecondOpinion } from '../sql/secondOpinion.js';
import { LiveRegistry } from '../tenants/liveRegistry.js';
import { MetricsServer, queryLogDropped, registerLiveGauges } from '../observability/metrics.js';
import { QueryLog } from '../observability/queryLog.js';
import { statementObserver } from '../observability/statements.js';
import { Authenticator, loadServerSecret } from './auth.js';
import { CancelKeys } from './cancelKeys.js';
import { handleConnection, type ConnectionControl } from './connection.js';
import { LoginThrottle } from './loginThrottle.js';
import { queryBudget } from './threadPool.js';

/**
 * Time node-sql-parser gets per statement before the statement is refused (54001). Its
 * worst cases are exponential in tiny inputs; a 10,000-element IN list takes ~0.3 s.
 */
const SECOND_OPINION_BUDGET_MS = 1000;

/**
 * After the grace period, how long interrupted queries get to send their FATAL and close
 * before their sockets are destroyed (a client that reads nothing would hold them forever).
 */
const TERMINATE_WAIT_MS = 2000;

const sleep = (ms: number) =>
  new Promise<'timeout'>((resolve) => {
    setTimeout(() => resolve('timeout'), ms).unref();
  });

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

function readTls(config: Config): TlsOptions | null {
  if (!config.tls) return null;
  const read = (file: string, what: string) => {
    try {
      return fs.readFileSync(file);
    } catch (e) {
      throw new Error(
        `cannot read TLS ${what} ${file} (${(e as NodeJS.ErrnoException).code ?? e}); ` +
          'run "sh certs/make-dev-certs.sh" for development certificates, or set tls.cert/tls.key',
      );
    }
  };
  return { cert: toArrayBuffer(read(config.tls.cert, 'certificate')), key: toArrayBuffer(read(config.tls.key, 'key')) };
}

/** This process's temp folder under the data directory (instances' links and spill, catalogs, the admin database). */
function tempRootOf(config: Config): string {
  return path.join(config.dataDir, 'tmp', `gateway-${process.pid}`);
}

export class Gateway {
  private readonly server: net.Server;
  private readonly sockets = new Map<net.Socket, ConnectionControl>();
  private readonly shutdown = { draining: false };
  private stopping: Promise<void> | null = null;
  private nextConnectionId = 1;
  private readonly stats = { running: 0 };
  private metrics: MetricsServer | null = null;
  private readonly queryLog: QueryLog | null;
  private readonly unregisterGauges: () => void;
  /** The tenants' rate quotas (plan.queriesPerMinute), kept in <data>/quotas.json across restarts. */
  private readonly quota: RateQuota;
  private readonly admin: AdminEngine;

  private constructor(
    readonly config: Config,
    logger: Logger,
    private readonly parser: DuckdbParser,
    private readonly secondOpinion: SecondOpinion,
    private readonly instances: InstanceCache,
    readonly live: LiveRegistry,
    tls: TlsOptions | null,
  ) {
    // The process's query budget, within libuv's pool (threadPool.ts).
    const budget = queryBudget(config.maxRunningQueries);
    if (budget.lowered) {
      logger.warn(
        { maxRunningQueries: config.maxRunningQueries, threadPool: budget.poolSize, budget: budget.budget },
        'UV_THREADPOOL_SIZE leaves too few threads for maxRunningQueries: the budget is lowered',
      );
    }
    this.quota = new RateQuota({
      file: path.join(config.dataDir, QUOTA_FILE),
      onError: (message) => logger.warn({ err: message }, 'rate quotas'),
    });
    const gate = new Gate(parser, secondOpinion);
    const services = {
      gate,
      engine: new TenantEngine(live, instances, { memoryLimit: config.sharedMemoryLimit, threads: config.sharedThreads }),
      dataDir: config.dataDir,
      maxQueryBytes: config.maxQueryBytes,
      stats: this.stats,
      slots: new QuerySlots({ global: budget.budget, rate: this.quota }),
      observe: undefined as ReturnType<typeof statementObserver> | undefined,
    };
    this.queryLog = config.queryLog
      ? new QueryLog({
          dir: path.join(config.dataDir, 'querylog'),
          maxFileBytes: config.queryLogMaxFileBytes,
          keepFiles: config.queryLogKeepFiles,
          maxTextBytes: config.queryLogMaxTextBytes,
          logger,
          onDrop: (n) => queryLogDropped.inc(n),
        })
      : null;
    services.observe = statementObserver(this.queryLog);
    // The operator's sessions: the same protocol, limits and query log, on the admin database.
    this.admin = new AdminEngine({
      live,
      tempRoot: tempRootOf(config),
      queryLogDir: this.queryLog ? path.join(config.dataDir, 'querylog') : null,
      logger,
    });
    const adminServices = {
      ...services,
      gate: { check: (text: string, tokens: Token[], _ctx: GateContext, casts?: ParameterCasts) => gate.checkReadOnly(text, tokens, casts) },
      engine: this.admin,
    };
    this.unregisterGauges = registerLiveGauges({
      connections: () => this.sockets.size,
      running: () => this.stats.running,
      instances: () => this.instances.size,
    });
    const auth = new Authenticator(live, loadServerSecret(config.dataDir));
    const cancelKeys = new CancelKeys();
    const throttle = new LoginThrottle({
      perAddress: config.loginMaxFailuresPerAddress,
      perUser: config.loginMaxFailuresPerUser,
      windowMs: config.loginFailureWindowMs,
      lockoutMs: config.loginLockoutMs,
    });
    this.server = net.createServer((socket) => {
      const control: ConnectionControl = { drain: () => {}, terminate: () => socket.destroy() };
      this.sockets.set(socket, control);
      const id = this.nextConnectionId++;
      handleConnection(socket, {
        id,
        services,
        adminServices,
        auth,
        cancelKeys,
        tls,
        allowPlaintext: config.allowPlaintext,
        authTimeoutMs: config.authTimeoutMs,
        logger,
        throttle,
        shutdown: this.shutdown,
        control,
        onClose: () => this.sockets.delete(socket),
      }).catch((e: unknown) => {
        logger.warn({ conn: id, err: (e as Error).message }, 'connection failed');
        socket.destroy();
      });
    });
  }

  static async start(config: Config, logger: Logger): Promise<Gateway> {
    const tls = readTls(config);
    fs.mkdirSync(config.dataDir, { recursive: true });
    const tempRoot = tempRootOf(config);
    fs.rmSync(tempRoot, { recursive: true, force: true });
    const parser = await DuckdbParser.create();
    const secondOpinion = SecondOpinion.create({ workers: 2, timeoutMs: SECOND_OPINION_BUDGET_MS });
    const live = new LiveRegistry(config.dataDir);
    const instances = new InstanceCache({
      tempRoot,
      idleMs: config.instanceIdleMs,
      maxOpen: config.maxOpenInstances,
      logger,
      describe: describeTenants(live),
    });
    await live.current(); // a corrupt registry stops the start, with its own message
    await instances.prepare();
    const gw = new Gateway(config, logger, parser, secondOpinion, instances, live, tls);
    await new Promise<void>((resolve, reject) => {
      gw.server.once('error', reject);
      gw.server.listen(config.port, config.host, () => {
        gw.server.off('error', reject);
        resolve();
      });
    });
    if (config.metricsPort !== null) {
      try {
        gw.metrics = await MetricsServer.start(config.metricsHost, config.metricsPort);
      } catch (e) {
        await gw.stop();
        throw new Error(`cannot serve metrics on ${config.metricsHost}:${config.metricsPort}: ${(e as Error).message}`);
      }
    }
    return gw;
  }

  /** The port actually listened on (useful with port 0). */
  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : this.config.port;
  }

  /** The metrics endpoint's port; null when there is none. */
  get metricsPort(): number | null {
    return this.metrics?.port ?? null;
  }

  /** Writes the query log's buffered records now (they are written every 200 ms anyway). */
  flushQueryLog(): Promise<void> {
    return this.queryLog?.flush() ?? Promise.resolve();
  }

  /** Queries executing in DuckDB right now. */
  get runningQueries(): number {
    return this.stats.running;
  }

  get openInstances(): number {
    return this.instances.size;
  }

  /** Connections open now (logged in or not). */
  get connections(): number {
    return this.sockets.size;
  }

  /**
   * Stops listening at once (new connections are refused), then drains: an idle session
   * is ended with FATAL 57P01, a busy one after the reply it is working on. Whatever still
   * runs after `graceMs` is interrupted and ended with FATAL 57P01; a connection that has
   * not logged in by then is dropped. Then the DuckDB instances close. Without a grace
   * period every connection is closed at once, without a word (tests, fatal errors).
   */
  stop(graceMs?: number): Promise<void> {
    this.stopping ??= this.drainAndClose(graceMs);
    return this.stopping;
  }

  private async drainAndClose(graceMs: number | undefined): Promise<void> {
    this.shutdown.draining = true;
    const closed = new Promise<'closed'>((resolve) => this.server.close(() => resolve('closed')));
    if (graceMs === undefined) {
      for (const s of this.sockets.keys()) s.destroy();
    } else {
      for (const control of this.sockets.values()) control.drain();
    }
    if ((await Promise.race([closed, sleep(graceMs ?? 0)])) === 'timeout') {
      for (const control of this.sockets.values()) control.terminate();
      if ((await Promise.race([closed, sleep(TERMINATE_WAIT_MS)])) === 'timeout') {
        for (const s of this.sockets.keys()) s.destroy();
      }
    }
    await closed;
    // Let sessions see their sockets close (interrupt, release) before instances go.
    await new Promise((r) => setImmediate(r));
    this.admin.close();
    this.instances.close();
    await this.quota.close();
    this.unregisterGauges();
    await this.metrics?.close();
    await this.queryLog?.close();
    this.parser.close();
    await this.secondOpinion.close();
    fs.rmSync(tempRootOf(this.config), { recursive: true, force: true });
  }
}
