import { describe, expect, it } from 'vitest';
import { BackendWriter } from './backend.js';
import { i16, i32, msg } from '../../tests/support/bytes.js';


describe('BackendWriter', () => {
  it('encodes ReadyForQuery, CommandComplete, EmptyQueryResponse and ParameterStatus byte for byte', () => {
    const w = new BackendWriter(8);
    w.readyForQuery('T').commandComplete('SELECT 3').emptyQueryResponse().parameterStatus('TimeZone', 'UTC');
    expect(w.take()).toEqual(
      Buffer.concat([msg('Z', [0x54]), msg('C', 'SELECT 3'), msg('I'), msg('S', 'TimeZone', 'UTC')]),
    );
  });

  it('encodes RowDescription and DataRow with NULL and multi-byte text', () => {
    const w = new BackendWriter(4);
    w.rowDescription([{ name: 'prodüct', tableOid: 0, columnAttr: 0, typeOid: 25, typeLen: -1, typeMod: -1, format: 0 }]);
    w.dataRow(['☕', null]);
    const name = Buffer.from('prodüct\0');
    expect(w.take()).toEqual(
      Buffer.concat([
        msg('T', i16(1), name, i32(0), i16(0), i32(25), i16(-1), i32(-1), i16(0)),
        msg('D', i16(2), i32(3), Buffer.from('☕'), i32(-1)),
      ]),
    );
  });

  it('encodes ErrorResponse fields in order, with position as text', () => {
    const w = new BackendWriter();
    w.errorResponse({ severity: 'ERROR', code: '42601', message: 'syntax error', hint: 'h', position: 7 });
    expect(w.take()).toEqual(
      msg('E', 'SERROR', 'VERROR', 'C42601', 'Msyntax error', 'Hh', 'P7', [0]),
    );
  });

  it('encodes BackendKeyData and starts over after take()', () => {
    const w = new BackendWriter();
    w.backendKeyData(7, -2);
    expect(w.take()).toEqual(msg('K', i32(7), i32(-2)));
    expect(w.length).toBe(0);
  });

  it('encodes the bodiless messages of the extended protocol', () => {
    const w = new BackendWriter(2);
    w.parseComplete().bindComplete().closeComplete().noData().portalSuspended().emptyQueryResponse();
    expect(w.take()).toEqual(Buffer.concat([msg('1'), msg('2'), msg('3'), msg('n'), msg('s'), msg('I')]));
  });

  it('encodes ParameterDescription with unsigned OIDs and a binary field', () => {
    const w = new BackendWriter(4);
    w.parameterDescription([23, 25, 0xf0000001]);
    w.beginDataRow(2).bytesField(Buffer.from([0, 1, 0xff])).nullField().endDataRow();
    expect(w.take()).toEqual(
      Buffer.concat([
        msg('t', i16(3), i32(23), i32(25), Buffer.from([0xf0, 0, 0, 1])),
        msg('D', i16(2), i32(3), Buffer.from([0, 1, 0xff]), i32(-1)),
      ]),
    );
  });
});

describe('BackendWriter: COPY out', () => {
  it('encodes CopyOutResponse, CopyData written piece by piece, and CopyDone', () => {
    const w = new BackendWriter(4);
    w.copyOutResponse(0, [0, 0]);
    w.beginCopyData().copyText('1\tcafé\n');
    expect(w.copyDataLength).toBe(8);
    w.copyInt16(-1).copyInt32(7).copyBytes(Buffer.from([0xff])).endCopyData();
    w.copyData(Buffer.from('x')).copyDone();
    expect(w.take()).toEqual(
      Buffer.concat([
        msg('H', Buffer.from([0]), i16(2), i16(0), i16(0)),
        msg('d', Buffer.from('1\tcafé\n'), i16(-1), i32(7), Buffer.from([0xff])),
        msg('d', Buffer.from('x')),
        msg('c'),
      ]),
    );
  });
});

describe('a message that fails half way', () => {
  it('is dropped, so that the next message starts on a boundary', () => {
    const w = new BackendWriter();
    w.readyForQuery('I');
    const good = Buffer.from(w.take());
    w.readyForQuery('I');
    expect(() => w.rowDescription([{ name: undefined as unknown as string, tableOid: 0, columnAttr: 0, typeOid: 25, typeLen: -1, typeMod: -1, format: 0 }])).toThrow();
    w.dropUnfinished();
    w.readyForQuery('I');
    expect(Buffer.from(w.take())).toEqual(Buffer.concat([good, good]));
  });
});
