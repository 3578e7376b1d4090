import { describe, expect, it } from 'vitest';
import { hasValidLength, readBind, readExecute, readParse, readTarget } from './frontend.js';
import { i16, i32, msg } from '../../tests/support/bytes.js';


function sqlstate(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return `${(e as { code: string }).code} ${(e as Error).message}`;
  }
  return 'no error';
}

describe('frontend messages of the extended protocol', () => {
  it('reads Parse with its parameter type OIDs (unsigned)', () => {
    const m = msg('P', 's1', 'SELECT $1, $2', i16(2), i32(23), Buffer.from([0xf0, 0, 0, 1]));
    expect(readParse(m)).toEqual({ statement: 's1', query: 'SELECT $1, $2', paramTypes: [23, 0xf0000001] });
  });

  it('reads Bind: formats, values with NULL and empty, result formats', () => {
    const m = msg('B', 'p', 's', i16(2), i16(0), i16(1), i16(3), i32(2), Buffer.from('ab'), i32(-1), i32(0), i16(1), i16(1));
    const b = readBind(m);
    expect(b).toMatchObject({ portal: 'p', statement: 's', paramFormats: [0, 1], resultFormats: [1] });
    expect(b.values.map((v) => (v === null ? null : Buffer.from(v).toString()))).toEqual(['ab', null, '']);
  });

  it('reads Describe, Close and Execute', () => {
    expect(readTarget(msg('D', [0x53], 'q1'), 'DESCRIBE')).toEqual({ kind: 'S', name: 'q1' });
    expect(readTarget(msg('C', [0x50], ''), 'CLOSE')).toEqual({ kind: 'P', name: '' });
    expect(readExecute(msg('E', 'c', i32(10)))).toEqual({ portal: 'c', maxRows: 10 });
    expect(readExecute(msg('E', '', i32(-1)))).toEqual({ portal: '', maxRows: 0 });
  });

  it('answers a malformed body with 08P01, never reading past the message', () => {
    expect(sqlstate(() => readBind(msg('B', 'p', 's', i16(0), i16(1), i32(100), Buffer.from('short'))))).toBe('08P01 insufficient data left in message');
    expect(sqlstate(() => readBind(msg('B', 'p', 's', i16(0), i16(1), i32(-5))))).toBe('08P01 insufficient data left in message');
    expect(sqlstate(() => readBind(msg('B', 'p', 's', i16(5), i16(0))))).toBe('08P01 insufficient data left in message');
    expect(sqlstate(() => readBind(msg('B', 'p')))).toBe('08P01 invalid string in message');
    expect(sqlstate(() => readParse(msg('P', 's', 'SELECT 1', i16(0), [1, 2])))).toBe('08P01 invalid message format');
    expect(sqlstate(() => readParse(msg('P', 's', Buffer.from([0xff, 0]), i16(0))))).toBe('08P01 invalid byte sequence for encoding "UTF8"');
    expect(sqlstate(() => readTarget(msg('D', [0x58], 'x'), 'DESCRIBE'))).toBe('08P01 invalid DESCRIBE message subtype 88');
    expect(sqlstate(() => readExecute(msg('E', 'p', [0, 1])))).toBe('08P01 insufficient data left in message');
  });

  it('checks that a message\'s length covers exactly its body', () => {
    expect(hasValidLength(msg('S'))).toBe(true);
    expect(hasValidLength(Buffer.from([0x53, 0, 0, 0, 3]))).toBe(false);
    expect(hasValidLength(Buffer.from([0x53, 0, 0]))).toBe(false);
  });
});
