/**
 * pg-gateway 0.3.0-beta.4 answers a wrong SCRAM proof with SQLSTATE 28000; PostgreSQL,
 * and clients that act on it, use 28P01 (invalid_password). We look at the client's
 * final SCRAM message before pg-gateway does, with the exchange state pg-gateway keeps
 * on its public auth flow, and answer a wrong proof ourselves. A right proof goes on to
 * pg-gateway, which checks it again: this check can only refuse, never admit.
 */
import type { PostgresConnection, ScramSha256Data } from 'pg-gateway';
import { Authenticator } from './auth.js';

interface ScramFlowView {
  step?: string;
  clientFirstMessageBare?: string;
  serverFirstMessage?: string;
  scramSha256Data?: ScramSha256Data;
}

/** For the client's final SCRAM message: resolves true when its proof is wrong. Otherwise undefined. */
export function scramFinalFailure(conn: PostgresConnection | undefined, msg: Uint8Array): Promise<boolean> | undefined {
  const flow = conn?.authFlow as ScramFlowView | undefined;
  if (!flow || flow.step !== 'ServerFirstMessage' || msg[0] !== 0x70 /* 'p' */) return undefined;
  const { clientFirstMessageBare, serverFirstMessage, scramSha256Data } = flow;
  if (!clientFirstMessageBare || !serverFirstMessage || !scramSha256Data) return undefined;
  const clientFinal = Buffer.from(msg.buffer, msg.byteOffset + 5, msg.byteLength - 5).toString('utf8');
  const parts = clientFinal.split(',');
  const proof = parts.find((p) => p.startsWith('p='))?.slice(2);
  const withoutProof = parts.filter((p) => !p.startsWith('p=')).join(',');
  if (!proof) return undefined; // malformed: pg-gateway refuses it
  const authMessage = `${clientFirstMessageBare},${serverFirstMessage},${withoutProof}`;
  return Authenticator.verifyProof(authMessage, proof, scramSha256Data).then((ok) => !ok);
}
