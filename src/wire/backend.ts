/**
 * Backend (server → client) messages of the PostgreSQL protocol, version 3.0.
 * Pure: no I/O, no logging. Messages are appended to one growing buffer so that a
 * batch of DataRows leaves as one write.
 * https://www.postgresql.org/docs/current/protocol-message-formats.html
 */

export interface FieldDescription {
  name: string;
  tableOid: number;
  columnAttr: number;
  typeOid: number;
  typeLen: number;
  typeMod: number;
  format: 0 | 1;
}

export type TransactionStatus = 'I' | 'T' | 'E';

export interface ErrorFields {
  severity: string;
  code: string;
  message: string;
  detail?: string | undefined;
  hint?: string | undefined;
  position?: number | undefined;
}

/** A message with no body: type byte and Int32 length 4, built once. */
function bodiless(type: number): Buffer {
  return Buffer.from([type, 0, 0, 0, 4]);
}

const PARSE_COMPLETE = bodiless(0x31); // '1'
const BIND_COMPLETE = bodiless(0x32); // '2'
const CLOSE_COMPLETE = bodiless(0x33); // '3'
const NO_DATA = bodiless(0x6e); // 'n'
const PORTAL_SUSPENDED = bodiless(0x73); // 's'
const EMPTY_QUERY_RESPONSE = bodiless(0x49); // 'I'
const COPY_DONE = bodiless(0x63); // 'c'

export class BackendWriter {
  private buf: Buffer;
  private len = 0;
  /** Start of the message being written, for patching its length. */
  private msgStart = -1;
  /** DataRows written so far, and the last CommandComplete tag: what the query log reports. */
  dataRows = 0;
  lastTag: string | null = null;

  constructor(initialSize = 16 * 1024) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  get length(): number {
    return this.len;
  }

  /** Returns the bytes written so far and starts over. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.len));
    this.len = 0;
    return out;
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  private begin(type: number): void {
    this.ensure(5);
    this.buf[this.len] = type;
    this.msgStart = this.len + 1;
    this.len += 5;
  }

  /**
   * Drops a message whose writing failed half way (an exception between begin and end),
   * so that what is sent next (the ErrorResponse) starts on a message boundary.
   */
  dropUnfinished(): void {
    if (this.msgStart < 0) return;
    this.len = this.msgStart - 1;
    this.msgStart = -1;
  }

  private end(): this {
    this.buf.writeInt32BE(this.len - this.msgStart, this.msgStart);
    this.msgStart = -1;
    return this;
  }

  private int16(n: number): void {
    this.ensure(2);
    this.buf.writeInt16BE(n, this.len);
    this.len += 2;
  }

  private int32(n: number): void {
    this.ensure(4);
    this.buf.writeInt32BE(n | 0, this.len);
    this.len += 4;
  }

  private cstring(s: string): void {
    this.ensure(s.length * 3 + 1);
    this.len += this.buf.write(s, this.len, 'utf8');
    this.buf[this.len++] = 0;
  }

  authenticationOk(): this {
    this.begin(0x52); // 'R'
    this.int32(0);
    return this.end();
  }

  parameterStatus(name: string, value: string): this {
    this.begin(0x53); // 'S'
    this.cstring(name);
    this.cstring(value);
    return this.end();
  }

  backendKeyData(processId: number, secretKey: number): this {
    this.begin(0x4b); // 'K'
    this.int32(processId);
    this.int32(secretKey);
    return this.end();
  }

  readyForQuery(status: TransactionStatus): this {
    this.begin(0x5a); // 'Z'
    this.ensure(1);
    this.buf[this.len++] = status.charCodeAt(0);
    return this.end();
  }

  rowDescription(fields: readonly FieldDescription[]): this {
    this.begin(0x54); // 'T'
    this.int16(fields.length);
    for (const f of fields) {
      this.cstring(f.name);
      this.int32(f.tableOid);
      this.int16(f.columnAttr);
      this.int32(f.typeOid);
      this.int16(f.typeLen);
      this.int32(f.typeMod);
      this.int16(f.format);
    }
    return this.end();
  }

  /** DataRow, text format; null is SQL NULL. */
  dataRow(values: readonly (string | null)[]): this {
    this.beginDataRow(values.length);
    for (const v of values) {
      if (v === null) this.nullField();
      else this.textField(v);
    }
    return this.endDataRow();
  }

  /** Field-by-field DataRow for the hot path: no array per row. */
  beginDataRow(columns: number): this {
    this.begin(0x44); // 'D'
    this.dataRows++;
    this.int16(columns);
    return this;
  }

  nullField(): this {
    this.int32(-1);
    return this;
  }

  textField(s: string): this {
    this.ensure(4 + s.length * 3);
    const at = this.len;
    const n = this.buf.write(s, at + 4, 'utf8');
    this.buf.writeInt32BE(n, at);
    this.len = at + 4 + n;
    return this;
  }

  /** A field of raw bytes: the binary format of a value. */
  bytesField(bytes: Uint8Array): this {
    this.ensure(4 + bytes.length);
    this.buf.writeInt32BE(bytes.length, this.len);
    this.buf.set(bytes, this.len + 4);
    this.len += 4 + bytes.length;
    return this;
  }

  endDataRow(): this {
    return this.end();
  }

  commandComplete(tag: string): this {
    this.lastTag = tag;
    this.begin(0x43); // 'C'
    this.cstring(tag);
    return this.end();
  }

  emptyQueryResponse(): this {
    return this.fixed(EMPTY_QUERY_RESPONSE);
  }

  parseComplete(): this {
    return this.fixed(PARSE_COMPLETE);
  }

  bindComplete(): this {
    return this.fixed(BIND_COMPLETE);
  }

  closeComplete(): this {
    return this.fixed(CLOSE_COMPLETE);
  }

  noData(): this {
    return this.fixed(NO_DATA);
  }

  portalSuspended(): this {
    return this.fixed(PORTAL_SUSPENDED);
  }

  /** ParameterDescription: the type OID of every parameter of a prepared statement. */
  parameterDescription(oids: readonly number[]): this {
    this.begin(0x74); // 't'
    this.ensure(2 + oids.length * 4);
    this.buf.writeUInt16BE(oids.length, this.len); // a count: unsigned, as PostgreSQL writes it
    this.len += 2;
    for (const oid of oids) {
      this.buf.writeUInt32BE(oid >>> 0, this.len);
      this.len += 4;
    }
    return this.end();
  }

  /** CopyOutResponse: COPY's overall format (0 text, 1 binary) and each column's. */
  copyOutResponse(format: 0 | 1, columnFormats: readonly (0 | 1)[]): this {
    this.begin(0x48); // 'H'
    this.ensure(1);
    this.buf[this.len++] = format;
    this.int16(columnFormats.length);
    for (const f of columnFormats) this.int16(f);
    return this.end();
  }

  /** One CopyData message holding these bytes. */
  copyData(bytes: Uint8Array): this {
    return this.beginCopyData().copyBytes(bytes).endCopyData();
  }

  /**
   * A CopyData message written piece by piece, so that many rows of COPY's output are
   * encoded straight into one message: beginCopyData, copyText / copyBytes / copyInt16 /
   * copyInt32 as often as needed, endCopyData.
   */
  beginCopyData(): this {
    this.begin(0x64); // 'd'
    return this;
  }

  /** Bytes of the CopyData message being written since beginCopyData. */
  get copyDataLength(): number {
    return this.msgStart < 0 ? 0 : this.len - this.msgStart - 4;
  }

  copyText(s: string): this {
    this.ensure(s.length * 3);
    this.len += this.buf.write(s, this.len, 'utf8');
    return this;
  }

  copyBytes(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  copyInt16(n: number): this {
    this.int16(n);
    return this;
  }

  copyInt32(n: number): this {
    this.int32(n);
    return this;
  }

  endCopyData(): this {
    return this.end();
  }

  copyDone(): this {
    return this.fixed(COPY_DONE);
  }

  private fixed(message: Buffer): this {
    this.ensure(message.length);
    message.copy(this.buf, this.len);
    this.len += message.length;
    return this;
  }

  errorResponse(e: ErrorFields): this {
    this.begin(0x45); // 'E'
    this.noticeFields(e);
    return this.end();
  }

  noticeResponse(e: ErrorFields): this {
    this.begin(0x4e); // 'N'
    this.noticeFields(e);
    return this.end();
  }

  private noticeFields(e: ErrorFields): void {
    const field = (code: string, value: string) => {
      this.ensure(1);
      this.buf[this.len++] = code.charCodeAt(0);
      this.cstring(value);
    };
    field('S', e.severity);
    field('V', e.severity);
    field('C', e.code);
    field('M', e.message);
    if (e.detail !== undefined) field('D', e.detail);
    if (e.hint !== undefined) field('H', e.hint);
    if (e.position !== undefined) field('P', String(e.position));
    this.ensure(1);
    this.buf[this.len++] = 0;
  }
}
