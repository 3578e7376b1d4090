/**
 * One client connection, from the first byte to the last.
 *
 * Before pg-gateway sees the socket we read the first message ourselves, because
 * pg-gateway drops CancelRequest and GSSENCRequest ("Unexpected initial message")
 * and, with TLS configured, refuses every plaintext startup. Then pg-gateway does TLS,
 * the startup packet and SCRAM; after AuthenticationOk we send what it does not
 * (ParameterStatus for every reported setting, BackendKeyData), and every later
 * message goes to the Session.
 */
import type net from 'node:net';
import { BackendError } from 'pg-gateway';
import { fromNodeSocket } from 'pg-gateway/node';
import type { PostgresConnection, ConnectionState, TlsOptions } from 'pg-gateway';
import type { Logger } from 'pino';
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import { Session, type SessionServices } from '../session/session.js';
import { SERVER_VERSION } from '../session/settings.js';
import { BackendWriter } from '../wire/backend.js';
import { InitialCode, readCancelRequest } from '../wire/frontend.js';
import { Authenticator, type Credentials } from './auth.js';
import type { CancelKeys } from './cancelKeys.js';
import { LoginThrottle, normaliseAddress } from './loginThrottle.js';
import { readExactly } from './readExactly.js';
import { scramFinalFailure } from './scramFailure.js';

export interface ConnectionContext {
  id: number;
  services: SessionServices;
  /** What an admin credential's session runs on: the admin database (read-only, every tenant). */
  adminServices: SessionServices;
  auth: Authenticator;
  cancelKeys: CancelKeys;
  tls: TlsOptions | null;
  allowPlaintext: boolean;
  authTimeoutMs: number;
  logger: Logger;
  throttle: LoginThrottle;
  /** Set by the gateway when it starts shutting down. */
  shutdown: { draining: boolean };
  /** The gateway's handle on this connection during a shutdown; handleConnection fills it in. */
  control: ConnectionControl;
  /** Called once the connection has ended, whatever happened. */
  onClose: () => void;
}

/** What the gateway can ask of a connection while it shuts down. */
export interface ConnectionControl {
  /** Shutdown began: an idle session ends now (57P01); a busy one at its next ReadyForQuery. */
  drain(): void;
  /** The grace period is over: what still runs is interrupted and the session ends (57P01). */
  terminate(): void;
}

const SHUTDOWN_MESSAGE = 'terminating connection due to administrator command';

function fatal(code: string, message: string): Buffer {
  return new BackendWriter(128).errorResponse({ severity: 'FATAL', code, message }).take();
}

export async function handleConnection(socket: net.Socket, ctx: ConnectionContext): Promise<void> {
  const log = ctx.logger.child({ conn: ctx.id });
  socket.setNoDelay(true);
  socket.setKeepAlive(true, 60_000);
  let session: Session | null = null;
  let processId = 0;
  let leaveTenant: (() => void) | null = null;
  const address = normaliseAddress(socket.remoteAddress);
  // Shutdown bookkeeping: busy while a message is being handled; atSync while the last
  // reply ended with ReadyForQuery (the session waits for a new command, not mid-pipeline).
  let busy = false;
  let atSync = true;
  let terminated = false;
  let ended = false;
  // Before login there is no session to end: a connection that has not logged in by the
  // deadline is dropped; one that reaches startup or login meanwhile is refused (57P03).
  ctx.control.drain = () => {
    if (session && !busy && atSync) void endSession();
  };
  ctx.control.terminate = () => {
    terminated = true;
    if (!session) socket.destroy();
    else if (!busy) void endSession();
    else session.terminate();
  };
  const endSession = async () => {
    if (ended || !session) return;
    ended = true;
    session.closing = true;
    log.info('session ended by shutdown');
    try {
      await holder.conn?.streamWriter?.write(fatal(SqlState.AdminShutdown, SHUTDOWN_MESSAGE));
    } catch {
      // the client is gone already
    }
    setImmediate(() => socket.end());
  };
  const authTimer = setTimeout(() => {
    log.info('authentication timed out');
    socket.destroy();
  }, ctx.authTimeoutMs);
  socket.once('close', () => {
    clearTimeout(authTimer);
    session?.close();
    leaveTenant?.();
    if (processId) ctx.cancelKeys.revoke(processId);
    log.debug('connection closed');
    ctx.onClose();
  });
  socket.on('error', (e) => log.debug({ err: e.message }, 'socket error'));

  // The initial message: answer GSSENCRequest with 'N' and read again; a CancelRequest
  // is served and the connection closed; an SSLRequest or a startup goes to pg-gateway.
  let useTls = false;
  for (;;) {
    let head: Buffer;
    try {
      head = await readExactly(socket, 8);
    } catch {
      return;
    }
    const code = head.readInt32BE(4);
    const length = head.readInt32BE(0);
    if (length === 8 && code === InitialCode.GssEncRequest) {
      socket.write('N');
      continue;
    }
    if (length === 16 && code === InitialCode.CancelRequest) {
      try {
        const rest = await readExactly(socket, 8);
        const req = readCancelRequest(Buffer.concat([head, rest]));
        if (req) ctx.cancelKeys.cancel(req.processId, req.secretKey);
      } catch {
        // the client went away; nothing to cancel
      }
      clearTimeout(authTimer);
      socket.end();
      return;
    }
    if (length === 8 && code === InitialCode.SslRequest) {
      if (ctx.tls) {
        useTls = true;
      } else {
        socket.write('N');
        continue;
      }
    } else if (ctx.tls && !ctx.allowPlaintext) {
      log.info('plaintext connection refused: TLS is required');
      socket.end(fatal(SqlState.InvalidAuthorizationSpecification, 'SSL connection is required by this server (sslmode=require or stronger)'));
      return;
    }
    socket.unshift(head);
    break;
  }

  const creds = new Map<string, Credentials>();
  const holder: { conn?: PostgresConnection } = {};
  const refuseIfShuttingDown = () => {
    if (ctx.shutdown.draining) {
      throw new BackendError({ severity: 'FATAL', code: SqlState.CannotConnectNow, message: 'the database system is shutting down' });
    }
  };
  let loginFailed = false;
  const loginFailure = (database: string, user: string) => {
    if (loginFailed) return; // one failure per connection, whichever check saw it
    loginFailed = true;
    const locked = ctx.throttle.fail(address, database, user);
    if (locked.address) log.warn({ address }, 'login throttled: too many failed logins from this address');
    if (locked.user) log.warn({ address, database, user }, 'login throttled: too many failed logins for this user');
  };
  const credentialsFor = async (state: ConnectionState, username: string): Promise<Credentials> => {
    const database = state.clientParams?.database || username;
    const key = `${database}\0${username}`;
    let c = creds.get(key);
    if (!c) {
      c = await ctx.auth.credentials(database, username);
      creds.set(key, c);
    }
    return c;
  };

  holder.conn = await fromNodeSocket(socket, {
    serverVersion: SERVER_VERSION,
    ...(useTls && ctx.tls ? { tls: ctx.tls } : {}),
    auth: {
      method: 'scram-sha-256',
      getScramSha256Data: async ({ username }, state) => (await credentialsFor(state, username)).scram,
      validateCredentials: async ({ authMessage, clientProof, username, scramSha256Data }, state) => {
        const c = await credentialsFor(state, username);
        const ok = await Authenticator.verifyProof(authMessage, clientProof, scramSha256Data);
        if (!ok || !c.account) {
          log.info({ user: username, tenant: c.account?.tenantId }, 'authentication failed');
          loginFailure(state.clientParams?.database || username, username);
          return false;
        }
        if (c.suspended) {
          log.info({ tenant: c.account.tenantId, user: username }, 'login refused: tenant suspended');
          throw new Error(`tenant "${c.account.tenantId}" is suspended`);
        }
        return true;
      },
    },
    onStartup: (state) => {
      refuseIfShuttingDown();
      // Throttled: refused here, before the registry is read or any SCRAM work is done.
      const user = state.clientParams?.user ?? '';
      const database = state.clientParams?.database || user;
      const verdict = ctx.throttle.check(address, database, user);
      if (verdict) {
        log.info({ address, database, user, by: verdict.kind, retryInMs: verdict.retryInMs }, 'login refused: throttled');
        throw new BackendError({
          severity: 'FATAL',
          code: SqlState.InvalidAuthorizationSpecification,
          message: 'too many failed login attempts; try again later',
        });
      }
    },
    onAuthenticated: async (state) => {
      clearTimeout(authTimer);
      refuseIfShuttingDown();
      const params = { ...(state.clientParams ?? { user: '' }) };
      const c = creds.get(`${params.database || params.user}\0${params.user}`);
      if (!c?.account) throw new Error('authenticated without an account');
      const account = c.account;
      ctx.throttle.succeed(params.database || params.user, params.user);
      const services = account.admin ? ctx.adminServices : ctx.services;
      try {
        leaveTenant = await services.engine.admitSession(account.tenantId);
      } catch (e) {
        if (!(e instanceof PgError)) throw e;
        log.info({ tenant: account.tenantId, sqlstate: e.code }, 'login refused: plan limit');
        throw new BackendError({ severity: 'FATAL', code: e.code, message: e.message });
      }
      const appName = params.application_name ?? '';
      const slog = log.child({ tenant: account.tenantId, user: account.user, app: appName, ...(account.admin && { admin: true }) });
      const s: Session = new Session(services, { tenantId: account.tenantId, user: account.user, address }, params, slog);
      const keys = ctx.cancelKeys.issue(s);
      processId = keys.processId;
      s.pid = keys.processId;
      session = s;
      const w = new BackendWriter(512);
      for (const p of s.settings.reported()) {
        if (p.name !== 'server_version') w.parameterStatus(p.name, p.value); // pg-gateway sends server_version
      }
      w.backendKeyData(keys.processId, keys.secretKey);
      await holder.conn!.streamWriter!.write(w.take());
      slog.info({ tls: useTls, remote: socket.remoteAddress }, 'session started');
    },
    onMessage: (data, state) => {
      if (!state.isAuthenticated) {
        // A CancelRequest sent inside TLS arrives as the first message after the handshake.
        const cancel = state.step === 'AwaitingInitialMessage' ? readCancelRequest(data) : null;
        if (cancel) {
          ctx.cancelKeys.cancel(cancel.processId, cancel.secretKey);
          setImmediate(() => socket.destroy());
          return new Uint8Array(0);
        }
        // pg-gateway answers a failed SCRAM proof with 28000; PostgreSQL says 28P01.
        const failure = state.step === 'PerformingAuthentication' ? scramFinalFailure(holder.conn, data) : undefined;
        if (failure) {
          return (async function* () {
            if (await failure) {
              log.info({ user: state.clientParams?.user }, 'authentication failed');
              const user = state.clientParams?.user ?? '';
              loginFailure(state.clientParams?.database || user, user);
              yield fatal(SqlState.InvalidPassword, `password authentication failed for user "${state.clientParams?.user ?? ''}"`);
              setImmediate(() => socket.end());
            }
          })();
        }
        return undefined;
      }
      if (!session || data[0] === 0x58 /* Terminate */) return undefined;
      const s = session;
      const type = data[0];
      return (async function* () {
        busy = true;
        try {
          yield* s.handle(data);
        } finally {
          busy = false;
        }
        // Query, Sync and FunctionCall end with ReadyForQuery (unless the session is closing).
        atSync = type === 0x51 /* Query */ || type === 0x53 /* Sync */ || type === 0x46; /* FunctionCall */
        if (s.closing) {
          setImmediate(() => socket.end());
        } else if (terminated || (ctx.shutdown.draining && atSync)) {
          // Shutting down: the reply that just went out was this session's last.
          ended = true;
          s.closing = true;
          log.info('session ended by shutdown');
          yield fatal(SqlState.AdminShutdown, SHUTDOWN_MESSAGE);
          setImmediate(() => socket.end());
        }
      })();
    },
  });
}
