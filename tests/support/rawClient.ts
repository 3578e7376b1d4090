/**
 * A minimal PostgreSQL protocol client for tests that need to send exactly the bytes they
 * choose: plaintext startup (the gateway must allow it) and SCRAM-SHA-256 with node's
 * crypto, then raw frontend messages in, parsed backend messages out.
 */
import crypto from 'node:crypto';
import net from 'node:net';

export interface BackendMessage {
  /** The message type as a character ('Z', 'E', 'D', ...). */
  type: string;
  body: Buffer;
}

/** A frontend message: type, Int32 length, body. */
export function message(type: string, ...parts: (Buffer | string | number[])[]): Buffer {
  const body = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p + '\0', 'utf8') : Array.isArray(p) ? Buffer.from(p) : p)));
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

export const int16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
export const int32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

/** Frontend messages of the extended protocol. */
export const fe = {
  query: (sql: string) => message('Q', sql),
  parse: (name: string, sql: string, types: number[] = []) => message('P', name, sql, int16(types.length), ...types.map(int32)),
  bind: (portal: string, statement: string, values: (Buffer | string | null)[] = [], opts: { paramFormats?: number[]; resultFormats?: number[] } = {}) =>
    message(
      'B',
      portal,
      statement,
      int16(opts.paramFormats?.length ?? 0),
      ...(opts.paramFormats ?? []).map(int16),
      int16(values.length),
      ...values.map((v) => (v === null ? int32(-1) : Buffer.concat([int32(Buffer.byteLength(v)), Buffer.from(v)]))),
      int16(opts.resultFormats?.length ?? 0),
      ...(opts.resultFormats ?? []).map(int16),
    ),
  describe: (kind: 'S' | 'P', name: string) => message('D', [kind.charCodeAt(0)], name),
  execute: (portal: string, maxRows = 0) => message('E', portal, int32(maxRows)),
  close: (kind: 'S' | 'P', name: string) => message('C', [kind.charCodeAt(0)], name),
  sync: () => message('S'),
  flush: () => message('H'),
};

export interface ErrorFields {
  severity: string;
  code: string;
  message: string;
}

export function errorFields(m: BackendMessage): ErrorFields {
  const fields: Record<string, string> = {};
  let i = 0;
  while (i < m.body.length && m.body[i] !== 0) {
    const code = String.fromCharCode(m.body[i]!);
    const end = m.body.indexOf(0, i + 1);
    fields[code] = m.body.toString('utf8', i + 1, end);
    i = end + 1;
  }
  return { severity: fields.S ?? '', code: fields.C ?? '', message: fields.M ?? '' };
}

/** DataRow fields as text (null for SQL NULL). */
export function dataRow(m: BackendMessage): (string | null)[] {
  return dataRowBytes(m).map((b) => (b === null ? null : b.toString('utf8')));
}

export function dataRowBytes(m: BackendMessage): (Buffer | null)[] {
  const n = m.body.readInt16BE(0);
  const out: (Buffer | null)[] = [];
  let at = 2;
  for (let i = 0; i < n; i++) {
    const len = m.body.readInt32BE(at);
    at += 4;
    if (len < 0) out.push(null);
    else {
      out.push(m.body.subarray(at, at + len));
      at += len;
    }
  }
  return out;
}

export class RawClient {
  private buf = Buffer.alloc(0);
  private waiting: (() => void) | null = null;
  closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiting?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiting?.();
    });
    socket.on('error', () => undefined);
  }

  /** Connects in plaintext and logs in with SCRAM-SHA-256; returns after the first ReadyForQuery. */
  static async connect(port: number, login: { database: string; user: string; password: string }): Promise<RawClient> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const c = new RawClient(socket);
    const params = Buffer.from(`user\0${login.user}\0database\0${login.database}\0\0`);
    const startup = Buffer.concat([int32(8 + params.length), int32(196608), params]);
    socket.write(startup);
    await c.expectAuth(10); // AuthenticationSASL
    const nonce = crypto.randomBytes(18).toString('base64');
    const clientFirstBare = `n=,r=${nonce}`;
    const first = Buffer.from(`n,,${clientFirstBare}`);
    socket.write(message('p', 'SCRAM-SHA-256', int32(first.length), first));
    const serverFirst = (await c.expectAuth(11)).toString('utf8');
    const attrs = Object.fromEntries(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]));
    const salted = crypto.pbkdf2Sync(login.password, Buffer.from(attrs.s!, 'base64'), Number(attrs.i), 32, 'sha256');
    const clientKey = crypto.createHmac('sha256', salted).update('Client Key').digest();
    const storedKey = crypto.createHash('sha256').update(clientKey).digest();
    const finalWithoutProof = `c=biws,r=${attrs.r}`;
    const authMessage = `${clientFirstBare},${serverFirst},${finalWithoutProof}`;
    const signature = crypto.createHmac('sha256', storedKey).update(authMessage).digest();
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!)).toString('base64');
    socket.write(message('p', [], Buffer.from(`${finalWithoutProof},p=${proof}`)));
    await c.expectAuth(12); // AuthenticationSASLFinal
    await c.expectAuth(0); // AuthenticationOk
    await c.until('Z');
    return c;
  }

  private async expectAuth(code: number): Promise<Buffer> {
    const m = await this.next();
    if (m.type === 'E') throw new Error(`login failed: ${errorFields(m).message}`);
    if (m.type !== 'R' || m.body.readInt32BE(0) !== code) throw new Error(`expected authentication ${code}, got ${m.type}`);
    return m.body.subarray(4);
  }

  send(...messages: Buffer[]): void {
    this.socket.write(Buffer.concat(messages));
  }

  /** The next backend message; rejects if the connection closes first or after `ms`. */
  async next(ms = 20_000): Promise<BackendMessage> {
    const end = Date.now() + ms;
    for (;;) {
      if (this.buf.length >= 5) {
        const len = this.buf.readInt32BE(1);
        if (this.buf.length >= 1 + len) {
          const m = { type: String.fromCharCode(this.buf[0]!), body: Buffer.from(this.buf.subarray(5, 1 + len)) };
          this.buf = this.buf.subarray(1 + len);
          return m;
        }
      }
      if (this.closed) throw new Error('connection closed');
      const left = end - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a message');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiting = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiting = null;
    }
  }

  /** Every message up to and including the first of type `type`. */
  async until(type: string): Promise<BackendMessage[]> {
    const out: BackendMessage[] = [];
    for (;;) {
      const m = await this.next();
      out.push(m);
      if (m.type === type) return out;
    }
  }

  /** Resolves once the server has closed the connection (messages before it are returned). */
  async closedByServer(ms = 10_000): Promise<BackendMessage[]> {
    const out: BackendMessage[] = [];
    try {
      for (;;) out.push(await this.next(ms));
    } catch (e) {
      if (!this.closed) throw e;
    }
    return out;
  }

  end(): void {
    if (!this.closed) this.socket.end(message('X'));
  }
}

/** The types of a list of messages, e.g. '1 2 T D D C Z'. */
export const types = (ms: BackendMessage[]): string => ms.map((m) => m.type).join(' ');
