/**
 * Frontend (client → server) messages. Pure decoding, no I/O.
 * https://www.postgresql.org/docs/current/protocol-message-formats.html
 */
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';

/** Codes carried in place of a protocol version by the untyped initial messages. */
export const InitialCode = {
  SslRequest: 80877103,
  CancelRequest: 80877102,
  GssEncRequest: 80877104,
  Protocol3: 196608,
} as const;

export const FrontendType = {
  Query: 0x51, // 'Q'
  Parse: 0x50, // 'P'
  Bind: 0x42, // 'B'
  Execute: 0x45, // 'E'
  Describe: 0x44, // 'D'
  Close: 0x43, // 'C'
  Sync: 0x53, // 'S'
  Flush: 0x48, // 'H'
  FunctionCall: 0x46, // 'F'
  CopyData: 0x64, // 'd'
  CopyDone: 0x63, // 'c'
  CopyFail: 0x66, // 'f'
  Terminate: 0x58, // 'X'
} as const;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new PgError(SqlState.ProtocolViolation, 'invalid byte sequence for encoding "UTF8"');
  }
}

/** The query string of a Query ('Q') message: one C string filling the body. */
export function readQuery(msg: Uint8Array): string {
  const end = msg.length - 1;
  if (msg.length < 6 || msg[end] !== 0 || msg.indexOf(0, 5) !== end) {
    throw new PgError(SqlState.ProtocolViolation, 'invalid Query message');
  }
  return decodeUtf8(msg.subarray(5, end));
}

/** An untyped initial message: Int32 length, Int32 code, rest. */
export function initialCode(msg: Uint8Array): number {
  if (msg.length < 8) return -1;
  return Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength).readInt32BE(4);
}

export function readCancelRequest(msg: Uint8Array): { processId: number; secretKey: number } | null {
  if (msg.length !== 16) return null;
  const b = Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength);
  if (b.readInt32BE(0) !== 16 || b.readInt32BE(4) !== InitialCode.CancelRequest) return null;
  return { processId: b.readInt32BE(8), secretKey: b.readInt32BE(12) };
}
