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
import { describeTenants, TenantEngine } from '../engine/tenantEngine.js';
import { Gate } from '../sql/gate.js';
import { SecondOpinion } from '../sql/secondOpinion.js';
import { LiveRegistry } from '../tenants/liveRegistry.js';
import { Authenticator, loadServerSecret } from './auth.js';
import { CancelKeys } from './cancelKeys.js';
import { handleConnection } from './connection.js';

/**
 * Time node-sql-parser gets per statement before the statement is refused (54001). Its
 * worst cases are exponential in tiny inputs; a 10,000-element IN list takes ~0.3 s.
 */
const SECOND_OPINION_BUDGET_MS = 1000;

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

export class Gateway {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private nextConnectionId = 1;
  private readonly stats = { running: 0 };

  private constructor(
    readonly config: Config,
    logger: Logger,
    private readonly parser: DuckdbParser,
    private readonly secondOpinion: SecondOpinion,
    private readonly instances: InstanceCache,
    readonly live: LiveRegistry,
    tls: TlsOptions | null,
  ) {
    const services = {
      gate: new Gate(parser, secondOpinion),
      engine: new TenantEngine(live, instances),
      dataDir: config.dataDir,
      maxQueryBytes: config.maxQueryBytes,
      stats: this.stats,
      slots: new QuerySlots(),
    };
    const auth = new Authenticator(live, loadServerSecret(config.dataDir));
    const cancelKeys = new CancelKeys();
    this.server = net.createServer((socket) => {
      this.sockets.add(socket);
      const id = this.nextConnectionId++;
      handleConnection(socket, {
        id,
        services,
        auth,
        cancelKeys,
        tls,
        allowPlaintext: config.allowPlaintext,
        authTimeoutMs: config.authTimeoutMs,
        logger,
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
    const tempRoot = path.join(config.dataDir, 'tmp', `gateway-${process.pid}`);
    fs.rmSync(tempRoot, { recursive: true, force: true });
    const parser = await DuckdbParser.create();
    const secondOpinion = SecondOpinion.create({ workers: 2, timeoutMs: SECOND_OPINION_BUDGET_MS });
    const live = new LiveRegistry(config.dataDir);
    const instances = new InstanceCache({ tempRoot, idleMs: config.instanceIdleMs, logger, describe: describeTenants(live) });
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
    return gw;
  }

  /** The port actually listened on (useful with port 0). */
  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : this.config.port;
  }

  /** Queries executing in DuckDB right now. */
  get runningQueries(): number {
    return this.stats.running;
  }

  get openInstances(): number {
    return this.instances.size;
  }

  /** Stops listening, closes every connection, then the DuckDB instances. */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
    // Let sessions see their sockets close (interrupt, release) before instances go.
    await new Promise((r) => setImmediate(r));
    this.instances.close();
    this.parser.close();
    await this.secondOpinion.close();
    fs.rmSync(path.join(this.config.dataDir, 'tmp', `gateway-${process.pid}`), { recursive: true, force: true });
  }
}
