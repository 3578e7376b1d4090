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
import { fromNodeSocket } from 'pg-gateway/node';
import type { PostgresConnection, ConnectionState, TlsOptions } from 'pg-gateway';
import type { Logger } from 'pino';
import { SqlState } from '../errors/sqlstate.js';
import { Session, type SessionServices } from '../session/session.js';
import { SERVER_VERSION } from '../session/settings.js';
import { BackendWriter } from '../wire/backend.js';
import { InitialCode, readCancelRequest } from '../wire/frontend.js';
import { Authenticator, type Credentials } from './auth.js';
import type { CancelKeys } from './cancelKeys.js';
import { readExactly } from './readExactly.js';
import { scramFinalFailure } from './scramFailure.js';

export interface ConnectionContext {
  id: number;
  services: SessionServices;
  auth: Authenticator;
  cancelKeys: CancelKeys;
  tls: TlsOptions | null;
  allowPlaintext: boolean;
  authTimeoutMs: number;
  logger: Logger;
  /** Called once the connection has ended, whatever happened. */
  onClose: () => void;
}

function fatal(code: string, message: string): Buffer {
  return new BackendWriter(128).errorResponse({ severity: 'FATAL', code, message }).take();
}

export async function handleConnection(socket: net.Socket, ctx: ConnectionContext): Promise<void> {
  const log = ctx.logger.child({ conn: ctx.id });
  socket.setNoDelay(true);
  socket.setKeepAlive(true, 60_000);
  let session: Session | null = null;
  let processId = 0;
  const authTimer = setTimeout(() => {
    log.info('authentication timed out');
    socket.destroy();
  }, ctx.authTimeoutMs);
  socket.once('close', () => {
    clearTimeout(authTimer);
    session?.close();
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
          return false;
        }
        if (c.suspended) {
          log.info({ tenant: c.account.tenantId, user: username }, 'login refused: tenant suspended');
          throw new Error(`tenant "${c.account.tenantId}" is suspended`);
        }
        return true;
      },
    },
    onAuthenticated: async (state) => {
      clearTimeout(authTimer);
      const params = { ...(state.clientParams ?? { user: '' }) };
      const c = creds.get(`${params.database || params.user}\0${params.user}`);
      if (!c?.account) throw new Error('authenticated without an account');
      const account = c.account;
      const appName = params.application_name ?? '';
      const slog = log.child({ tenant: account.tenantId, user: account.user, app: appName });
      const s: Session = new Session(ctx.services, { tenantId: account.tenantId, user: account.user }, params, slog);
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
              yield fatal(SqlState.InvalidPassword, `password authentication failed for user "${state.clientParams?.user ?? ''}"`);
              setImmediate(() => socket.end());
            }
          })();
        }
        return undefined;
      }
      if (!session || data[0] === 0x58 /* Terminate */) return undefined;
      const s = session;
      return (async function* () {
        yield* s.handle(data);
        if (s.closing) setImmediate(() => socket.end());
      })();
    },
  });
}
