/**
 * The extended query protocol byte by byte, from a raw client after a real SCRAM login:
 * message flow, statement and portal lifetimes, transaction status, binary parameters,
 * and what malformed or unknown messages get (an error and a session still in step, or
 * FATAL and a closed connection; never a crash).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUERIES_PER_TENANT } from '../src/engine/querySlots.js';
import { buildSnapshot } from '../src/tenants/snapshots.js';
import { addTestTenant, startGateway, type TestGateway } from './support/gateway.js';
import { dataRow, dataRowBytes, errorFields, fe, int16, int32, message, RawClient, types, type BackendMessage } from './support/rawClient.js';

const PW = 'protocol-test-password';

const errorOf = (ms: BackendMessage[]) => {
  const e = ms.find((m) => m.type === 'E');
  return e ? errorFields(e) : null;
};
const status = (ms: BackendMessage[]) => ms[ms.length - 1]!.body.toString('latin1');
const rows = (ms: BackendMessage[]) => ms.filter((m) => m.type === 'D').map(dataRow);

describe('the extended protocol, message by message', () => {
  let gw: TestGateway;
  let c: RawClient;
  const connect = () => RawClient.connect(gw.port, { database: 'acme', user: 'acme', password: PW });

  beforeAll(async () => {
    gw = await startGateway({ allowPlaintext: true });
    await addTestTenant(gw.registry, 'acme', PW, { sql: ['CREATE TABLE t AS SELECT i AS id, i::VARCHAR AS s FROM range(25) r(i)'] });
    c = await connect();
  });
  afterAll(async () => {
    c.end();
    await gw.stop();
  });

  /** After every test: the session is in step and answers. */
  async function stillServes(client = c): Promise<void> {
    client.send(fe.query('SELECT 1 AS one'));
    const ms = await client.until('Z');
    expect(types(ms)).toBe('T D C Z');
    expect(rows(ms)).toEqual([['1']]);
  }

  it('runs Parse, Bind, Describe, Execute, Sync with the messages PostgreSQL sends', async () => {
    c.send(fe.parse('', 'SELECT id, s FROM t WHERE id < $1 ORDER BY id'), fe.bind('', '', ['3']), fe.describe('P', ''), fe.execute(''), fe.sync());
    const ms = await c.until('Z');
    expect(types(ms)).toBe('1 2 T D D D C Z');
    expect(rows(ms)).toEqual([['0', '0'], ['1', '1'], ['2', '2']]);
    expect(ms.find((m) => m.type === 'C')!.body.toString('latin1')).toBe('SELECT 3\0');
    expect(status(ms)).toBe('I');
  });

  it('describes a statement: ParameterDescription with inferred OIDs, then RowDescription or NoData', async () => {
    c.send(fe.parse('d1', 'SELECT $1::int AS a, $2 AS b, id FROM t WHERE s = $3'), fe.describe('S', 'd1'), fe.parse('d2', 'BEGIN'), fe.describe('S', 'd2'), fe.sync());
    const ms = await c.until('Z');
    expect(types(ms)).toBe('1 t T 1 t n Z');
    const t = ms[1]!.body;
    expect([t.readInt16BE(0), t.readUInt32BE(2), t.readUInt32BE(6), t.readUInt32BE(10)]).toEqual([3, 23, 25, 25]);
    expect(ms[4]!.body.readInt16BE(0)).toBe(0);
    c.send(fe.close('S', 'd1'), fe.close('S', 'd2'), fe.sync());
    expect(types(await c.until('Z'))).toBe('3 3 Z');
  });

  it('keeps the client\'s declared parameter types, and a declared type decides the expression\'s type', async () => {
    c.send(fe.parse('', 'SELECT $1 AS v', [16]), fe.describe('S', ''), fe.bind('', '', ['on']), fe.execute(''), fe.sync());
    const ms = await c.until('Z');
    expect(types(ms)).toBe('1 t T 2 D C Z');
    expect(ms[1]!.body.readUInt32BE(2)).toBe(16);
    expect(ms[2]!.body.readUInt32BE(ms[2]!.body.indexOf(0, 2) + 7)).toBe(16); // column type bool
    expect(rows(ms)).toEqual([['t']]);
  });

  it('returns rows up to the limit, suspends, resumes, and completes', async () => {
    c.send(fe.parse('', 'SELECT id FROM t ORDER BY id'), fe.bind('c1', '', []), fe.execute('c1', 10), fe.flush());
    let ms = await c.until('s');
    expect(types(ms)).toBe('1 2 ' + 'D '.repeat(10) + 's');
    c.send(fe.execute('c1', 10), fe.flush());
    ms = await c.until('s');
    expect(rows(ms).map((r) => r[0])).toEqual(Array.from({ length: 10 }, (_, i) => String(10 + i)));
    c.send(fe.execute('c1', 10), fe.flush());
    ms = await c.until('C');
    expect(rows(ms)).toHaveLength(5);
    expect(ms[ms.length - 1]!.body.toString('latin1')).toBe('SELECT 5\0');
    // A portal that ran to its end returns nothing more.
    c.send(fe.execute('c1', 10), fe.sync());
    ms = await c.until('Z');
    expect(types(ms)).toBe('C Z');
    expect(ms[0]!.body.toString('latin1')).toBe('SELECT 0\0');
  });

  it('closes the unnamed portal at Sync; a named one ends with the implicit transaction', async () => {
    c.send(fe.parse('', 'SELECT 1'), fe.bind('', ''), fe.bind('named', ''), fe.sync());
    expect(types(await c.until('Z'))).toBe('1 2 2 Z');
    c.send(fe.execute(''), fe.sync());
    let ms = await c.until('Z');
    expect(errorOf(ms)).toMatchObject({ code: '34000', message: 'unnamed portal does not exist' });
    c.send(fe.execute('named'), fe.sync());
    ms = await c.until('Z');
    expect(errorOf(ms)).toMatchObject({ code: '34000', message: 'portal "named" does not exist' });
    await stillServes();
  });

  it('keeps portals of a transaction block across Syncs, until the block ends', async () => {
    c.send(fe.query('BEGIN'));
    expect(status(await c.until('Z'))).toBe('T');
    c.send(fe.parse('', 'SELECT id FROM t ORDER BY id'), fe.bind('cur', ''), fe.execute('cur', 5), fe.sync());
    let ms = await c.until('Z');
    expect(types(ms)).toBe('1 2 D D D D D s Z');
    expect(status(ms)).toBe('T');
    c.send(fe.execute('cur', 5), fe.sync());
    ms = await c.until('Z');
    expect(rows(ms).map((r) => r[0])).toEqual(['5', '6', '7', '8', '9']);
    c.send(fe.query('COMMIT'));
    expect(status(await c.until('Z'))).toBe('I');
    c.send(fe.execute('cur', 5), fe.sync());
    expect(errorOf(await c.until('Z'))).toMatchObject({ code: '34000' });
  });

  it('holds no query slot while a portal is suspended: more open portals than slots, and queries still run', async () => {
    c.send(fe.query('BEGIN'));
    await c.until('Z');
    const n = QUERIES_PER_TENANT + 2;
    c.send(fe.parse('many', 'SELECT id FROM t ORDER BY id'));
    for (let i = 0; i < n; i++) c.send(fe.bind(`p${i}`, 'many'), fe.execute(`p${i}`, 1));
    c.send(fe.sync());
    const ms = await c.until('Z');
    expect(ms.filter((m) => m.type === 's')).toHaveLength(n);
    expect(gw.gateway.runningQueries).toBe(0);
    // Other sessions of the tenant get every slot.
    const others = await Promise.all(Array.from({ length: QUERIES_PER_TENANT }, () => connect()));
    for (const o of others) o.send(fe.query('SELECT count(*) FROM t'));
    for (const o of others) expect(rows(await o.until('Z'))).toEqual([['25']]);
    for (const o of others) o.end();
    c.send(fe.execute('p0', 0), fe.sync());
    expect(rows(await c.until('Z'))).toHaveLength(24);
    c.send(fe.query('ROLLBACK'), fe.close('S', 'many'), fe.sync());
    await c.until('Z');
    await c.until('Z');
  });

  it('gives back what a session holds when its client goes away with portals open', async () => {
    const d = await connect();
    d.send(fe.query('BEGIN'));
    await d.until('Z');
    for (let i = 0; i < QUERIES_PER_TENANT + 1; i++) d.send(fe.parse(`s${i}`, 'SELECT id FROM t'), fe.bind(`p${i}`, `s${i}`), fe.execute(`p${i}`, 1));
    d.send(fe.flush());
    for (let i = 0; i <= QUERIES_PER_TENANT; i++) await d.until('s');
    d.end();
    await d.closedByServer();
    await stillServes();
  });

  it('a named statement outlives a new snapshot of the data and reads the new one', async () => {
    c.send(fe.parse('count_t', 'SELECT count(*) FROM t'), fe.bind('', 'count_t'), fe.execute(''), fe.sync());
    expect(rows(await c.until('Z'))).toEqual([['25']]);
    await buildSnapshot(gw.registry, 'acme', async (conn) => {
      await conn.run('DELETE FROM t WHERE id >= 5');
    });
    c.send(fe.bind('', 'count_t'), fe.execute(''), fe.sync());
    expect(rows(await c.until('Z'))).toEqual([['5']]);
    await buildSnapshot(gw.registry, 'acme', async (conn) => {
      await conn.run('INSERT INTO t SELECT i, i::VARCHAR FROM range(5, 25) r(i)');
    });
    c.send(fe.close('S', 'count_t'), fe.sync());
    await c.until('Z');
  });

  it('reports I, T and E at Sync as the transaction goes', async () => {
    c.send(fe.parse('b', 'BEGIN'), fe.bind('', 'b'), fe.execute(''), fe.sync());
    let ms = await c.until('Z');
    expect(types(ms)).toBe('1 2 C Z');
    expect(status(ms)).toBe('T');
    c.send(fe.parse('', 'SELECT 1/0::int AS x FROM t WHERE error($1) IS NULL'), fe.bind('', '', ['boom']), fe.execute(''), fe.sync());
    ms = await c.until('Z');
    expect(status(ms)).toBe('E');
    c.send(fe.parse('', 'SELECT 1'), fe.sync());
    ms = await c.until('Z');
    expect(errorOf(ms)).toMatchObject({ code: '25P02' });
    c.send(fe.parse('rb', 'ROLLBACK'), fe.bind('', 'rb'), fe.execute(''), fe.sync());
    ms = await c.until('Z');
    expect(types(ms)).toBe('1 2 C Z');
    expect(status(ms)).toBe('I');
    c.send(fe.close('S', 'b'), fe.close('S', 'rb'), fe.sync());
    await c.until('Z');
  });

  it('after an error, discards every message until Sync', async () => {
    c.send(fe.bind('', 'no_such_statement'), fe.describe('P', ''), fe.execute(''), fe.parse('', 'SELECT 1'), fe.sync());
    let ms = await c.until('Z');
    expect(types(ms)).toBe('E Z');
    expect(errorOf(ms)).toMatchObject({ code: '26000', message: 'prepared statement "no_such_statement" does not exist' });
    c.send(fe.execute('no_such_portal'), fe.execute('again'), fe.sync());
    ms = await c.until('Z');
    expect(types(ms)).toBe('E Z');
    expect(errorOf(ms)).toMatchObject({ code: '34000' });
    c.send(fe.describe('S', 'nope'), fe.sync());
    expect(errorOf(await c.until('Z'))).toMatchObject({ code: '26000' });
    await stillServes();
  });

  it('answers the errors PostgreSQL answers for names, counts and formats', async () => {
    const expectError = async (msgs: Buffer[], code: string, message?: string) => {
      c.send(...msgs, fe.sync());
      const ms = await c.until('Z');
      expect(errorOf(ms), types(ms)).toMatchObject(message ? { code, message } : { code });
    };
    c.send(fe.parse('dup', 'SELECT 1'), fe.sync());
    await c.until('Z');
    await expectError([fe.parse('dup', 'SELECT 2')], '42P05', 'prepared statement "dup" already exists');
    c.send(fe.parse('', 'SELECT 1'), fe.parse('', 'SELECT 2'), fe.sync()); // the unnamed one is replaced
    expect(types(await c.until('Z'))).toBe('1 1 Z');
    await expectError([fe.parse('', 'SELECT $1::int'), fe.bind('', '', [])], '08P01', 'bind message supplies 0 parameters, but unnamed prepared statement requires 1');
    await expectError([fe.parse('', 'SELECT $1::int'), fe.bind('', '', ['1', '2'], { paramFormats: [0, 0, 0] })], '08P01');
    await expectError([fe.parse('', 'SELECT 1, 2'), fe.bind('', '', [], { resultFormats: [0, 0, 0] })], '08P01', 'bind message has 3 result formats but query has 2 columns');
    await expectError([fe.parse('', 'SELECT 1'), fe.bind('', '', [], { resultFormats: [2] })], '22023', 'unsupported format code: 2');
    c.send(fe.bind('open', 'dup'), fe.sync()); // a named portal in an implicit transaction: gone at Sync
    await c.until('Z');
    c.send(fe.query('BEGIN'));
    await c.until('Z');
    await expectError([fe.bind('p', 'dup'), fe.bind('p', 'dup')], '42P03', 'cursor "p" already exists');
    c.send(fe.query('ROLLBACK'));
    await c.until('Z');
    // Closing what does not exist is not an error.
    c.send(fe.close('S', 'never'), fe.close('P', 'never'), fe.close('S', 'dup'), fe.sync());
    expect(types(await c.until('Z'))).toBe('3 3 3 Z');
    await stillServes();
  });

  it('decodes binary parameters of each type', async () => {
    const cases: [number, string, string][] = [
      [16, '01', 't'],
      [21, 'fffe', '-2'],
      [23, '0001e240', '123456'],
      [20, 'ffdfffffffffffff', '-9007199254740993'],
      [700, '3fc00000', '1.5'],
      [701, 'c002000000000000', '-2.25'],
      [1700, '0003000140000003000c0d801ed2', '-123456.789'],
      [1082, '0000223f', '2024-01-02'],
      [1083, '00000000dde878c1', '01:02:03.000001'],
      [1114, '0000000000000001', '2000-01-01 00:00:00.000001'],
      [1184, 'fffca2fec4c82000', '1970-01-01 00:00:00+00'],
      [1186, '00000000003d0905000000030000000e', '1 year 2 mons 3 days 00:00:04.000005'],
      [2950, '0123456789abcdeffedcba9876543210', '01234567-89ab-cdef-fedc-ba9876543210'],
      [17, '00ff', '\\x00ff'],
      [25, '68c3a9', 'hé'],
      [1043, '78', 'x'],
    ];
    for (const [oid, hex, text] of cases) {
      c.send(fe.parse('', 'SELECT $1 AS v', [oid]), fe.bind('', '', [Buffer.from(hex, 'hex')], { paramFormats: [1] }), fe.execute(''), fe.sync());
      const ms = await c.until('Z');
      expect(errorOf(ms), `${oid}`).toBeNull();
      expect(rows(ms), `${oid}`).toEqual([[text]]);
    }
    c.send(fe.parse('', 'SELECT $1::int AS v'), fe.bind('', '', [Buffer.from('0001', 'hex')], { paramFormats: [1] }), fe.sync());
    expect(errorOf(await c.until('Z'))).toMatchObject({ code: '22P03', message: 'incorrect binary data format in bind parameter 1' });
    c.send(fe.parse('', 'SELECT $1 AS v', [1266]), fe.bind('', '', [Buffer.alloc(12)], { paramFormats: [1] }), fe.sync());
    expect(errorOf(await c.until('Z'))).toMatchObject({ code: '0A000' });
  });

  it('sends binary results per column when asked, text for the others', async () => {
    c.send(fe.parse('', "SELECT 7::INTEGER AS a, 'x' AS b"), fe.bind('', '', [], { resultFormats: [1, 0] }), fe.describe('P', ''), fe.execute(''), fe.sync());
    const ms = await c.until('Z');
    expect(types(ms)).toBe('1 2 T D C Z');
    expect(dataRowBytes(ms[3]!)).toEqual([Buffer.from('00000007', 'hex'), Buffer.from('x')]);
  });

  it('answers a malformed message with 08P01 and stays in step', async () => {
    const truncatedBind = message('B', '', '', int16(0), int16(1), int32(100), Buffer.from('short'));
    const negativeLength = message('B', '', '', int16(0), int16(1), int32(-7), int16(0));
    const tooManyFormats = message('B', '', '', int16(9), int16(0));
    const trailing = message('E', '', int32(0), [1, 2, 3]);
    const noTerminator = message('P', [0x41, 0x42]);
    const badDescribe = message('D', [0x51], '');
    for (const bad of [truncatedBind, negativeLength, tooManyFormats, trailing, noTerminator, badDescribe]) {
      c.send(fe.parse('', 'SELECT 1'), bad, fe.execute(''), fe.sync());
      const ms = await c.until('Z');
      expect(types(ms)).toBe('1 E Z');
      expect(errorOf(ms)).toMatchObject({ severity: 'ERROR', code: '08P01' });
      await stillServes();
    }
  });

  it('closes the connection with FATAL 08P01 on an unknown message type', async () => {
    const d = await connect();
    d.send(message('y', 'what'));
    const ms = await d.closedByServer();
    expect(types(ms)).toBe('E');
    expect(errorFields(ms[0]!)).toMatchObject({ severity: 'FATAL', code: '08P01', message: 'invalid frontend message type 121' });
    await stillServes();
  });

  it('closes the connection with FATAL 08P01 on a message length that cannot be', async () => {
    const d = await connect();
    d.send(Buffer.from([0x53, 0, 0, 0, 2]), fe.sync());
    const ms = await d.closedByServer();
    expect(errorFields(ms[0]!)).toMatchObject({ severity: 'FATAL', code: '08P01', message: 'invalid message length' });
    expect(d.closed).toBe(true);
  });

  it('runs the gate on every Parse: writes, engine commands and other tenants are refused', async () => {
    await addTestTenant(gw.registry, 'globex', PW, { sql: ['CREATE TABLE secret AS SELECT 42 AS x'] });
    for (const [sql, code] of [
      ['DELETE FROM t WHERE id = $1', '25006'],
      ['ATTACH $1 AS x', '42501'],
      ['SELECT * FROM globex.main.secret WHERE x = $1', '42P01'],
      ["SELECT * FROM read_csv($1)", '42501'],
      ['SELECT $name::int', '42601'],
    ] as const) {
      c.send(fe.parse('', sql), fe.sync());
      expect(errorOf(await c.until('Z')), sql).toMatchObject({ code });
    }
    await stillServes();
  });
});
