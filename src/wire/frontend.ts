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

/** The Int32 length of a typed message must cover exactly its body (the framing said so). */
export function hasValidLength(msg: Uint8Array): boolean {
  if (msg.length < 5) return false;
  return Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength).readUInt32BE(1) === msg.length - 1;
}

/**
 * Reads the body of one typed message field by field. Running past its end, a string
 * without its terminator or bytes left over are protocol violations (08P01), as in
 * PostgreSQL's pq_getmsg* functions: never a crash, never a read of the next message.
 */
class MessageReader {
  private pos = 5;
  private readonly buf: Buffer;

  constructor(msg: Uint8Array) {
    this.buf = Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength);
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.buf.length) {
      throw new PgError(SqlState.ProtocolViolation, 'insufficient data left in message');
    }
  }

  byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  /** A count: PostgreSQL reads these as unsigned 16-bit numbers. */
  uint16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  cstring(): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw new PgError(SqlState.ProtocolViolation, 'invalid string in message');
    const s = decodeUtf8(this.buf.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }

  /** Every byte of the body must have been read. */
  end(): void {
    if (this.pos !== this.buf.length) throw new PgError(SqlState.ProtocolViolation, 'invalid message format');
  }
}

/** Parse: statement name, query, parameter type OIDs (0 = let the server infer). */
export interface ParseMessage {
  statement: string;
  query: string;
  paramTypes: number[];
}

export function readParse(msg: Uint8Array): ParseMessage {
  const r = new MessageReader(msg);
  const statement = r.cstring();
  const query = r.cstring();
  const n = r.uint16();
  const paramTypes: number[] = [];
  for (let i = 0; i < n; i++) paramTypes.push(r.uint32());
  r.end();
  return { statement, query, paramTypes };
}

/** Bind: portal, statement, parameter format codes and values (null = SQL NULL), result format codes. */
export interface BindMessage {
  portal: string;
  statement: string;
  paramFormats: number[];
  values: (Uint8Array | null)[];
  resultFormats: number[];
}

export function readBind(msg: Uint8Array): BindMessage {
  const r = new MessageReader(msg);
  const portal = r.cstring();
  const statement = r.cstring();
  const paramFormats: number[] = [];
  for (let n = r.uint16(), i = 0; i < n; i++) paramFormats.push(r.int16());
  const values: (Uint8Array | null)[] = [];
  for (let n = r.uint16(), i = 0; i < n; i++) {
    const len = r.int32();
    values.push(len === -1 ? null : r.bytes(len));
  }
  const resultFormats: number[] = [];
  for (let n = r.uint16(), i = 0; i < n; i++) resultFormats.push(r.int16());
  r.end();
  return { portal, statement, paramFormats, values, resultFormats };
}

/** Describe and Close name a prepared statement ('S') or a portal ('P'). */
export interface TargetMessage {
  kind: 'S' | 'P';
  name: string;
}

export function readTarget(msg: Uint8Array, what: 'DESCRIBE' | 'CLOSE'): TargetMessage {
  const r = new MessageReader(msg);
  const kind = r.byte();
  if (kind !== 0x53 && kind !== 0x50) {
    throw new PgError(SqlState.ProtocolViolation, `invalid ${what} message subtype ${kind}`);
  }
  const name = r.cstring();
  r.end();
  return { kind: kind === 0x53 ? 'S' : 'P', name };
}

/** Execute: portal and the most rows to return (0 or less: all). */
export interface ExecuteMessage {
  portal: string;
  maxRows: number;
}

export function readExecute(msg: Uint8Array): ExecuteMessage {
  const r = new MessageReader(msg);
  const portal = r.cstring();
  const maxRows = r.int32();
  r.end();
  return { portal, maxRows: maxRows > 0 ? maxRows : 0 };
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
