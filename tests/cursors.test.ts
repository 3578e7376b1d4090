/**
 * SQL cursors (DECLARE, FETCH, MOVE, CLOSE) and PREPARE / EXECUTE / DEALLOCATE through the
 * gateway, with node-postgres, pg-cursor and a raw protocol client: the forms drivers send
 * (psycopg2 named cursors, psqlODBC's declare/fetch, psycopg 3 over the extended
 * protocol), PostgreSQL's tags and errors, cursor lifetimes across transactions, and
 * isolation in a shared tenant.
 */
import pg from 'pg';
import Cursor from 'pg-cursor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_OPEN_PORTALS } from '../src/session/portals.js';
import { addTenant } from '../src/tenants/registry.js';
import { loadTable } from '../src/tenants/snapshots.js';
import { pgConnect, rawTypes, requireCommand, run, sendCancel } from './support/clients.js';
import { addTestTenant, startGateway, writeCsv, type TestGateway } from './support/gateway.js';
import { dataRow, dataRowBytes, errorFields, fe, RawClient, types, type BackendMessage } from './support/rawClient.js';
import { ENDLESS_QUERY, until } from './support/wait.js';

const PW = 'cursor-test-password';
const ROWS = 1000;

const tag = (ms: BackendMessage[]) => ms.filter((m) => m.type === 'C').map((m) => m.body.toString('utf8').replace(/\0$/, ''));
const rowsOf = (ms: BackendMessage[]) => ms.filter((m) => m.type === 'D').map(dataRow);
const errorOf = (ms: BackendMessage[]) => {
  const e = ms.find((m) => m.type === 'E');
  return e ? errorFields(e) : null;
};

const cancel = (gw: TestGateway, client: pg.Client) => sendCancel(gw.port, client);

describe('SQL cursors', () => {
  let gw: TestGateway;
  let c: pg.Client;
  let raw: RawClient;
  /** Runs one simple Query on the raw client; returns every message up to ReadyForQuery. */
  const q = async (sql: string) => {
    raw.send(fe.query(sql));
    return raw.until('Z');
  };

  beforeAll(async () => {
    gw = await startGateway({ allowPlaintext: true });
    await addTestTenant(gw.registry, 'acme', PW, {
      sql: [`CREATE TABLE orders AS SELECT i AS id, 'product ' || (i % 7) AS product, (i * 0.25)::DECIMAL(10,2) AS amount FROM range(${ROWS}) t(i)`],
    });
    await addTestTenant(gw.registry, 'globex', PW, { sql: ["CREATE TABLE secrets AS SELECT 'GLOBEX-SECRET' AS s"] });
    c = await pgConnect(gw, { tenant: 'acme', password: PW }, { types: rawTypes });
    raw = await RawClient.connect(gw.port, { database: 'acme', user: 'acme', password: PW });
  });
  afterAll(async () => {
    raw.end();
    await c.end();
    await gw.stop();
  });

  it('fetches in batches exactly what a plain SELECT returns (psycopg2 named cursors)', async () => {
    const plain = await c.query('SELECT * FROM orders ORDER BY id');
    await c.query('BEGIN');
    const declared = await c.query('DECLARE "cur_1" CURSOR WITHOUT HOLD FOR SELECT * FROM orders ORDER BY id');
    expect(declared.command).toBe('DECLARE');
    const got: unknown[] = [];
    let fields: string[] = [];
    for (;;) {
      const r = await c.query('FETCH FORWARD 300 FROM "cur_1"');
      expect(r.command).toBe('FETCH');
      expect(r.rowCount).toBe(r.rows.length);
      fields = r.fields.map((f) => `${f.name}:${f.dataTypeID}`);
      got.push(...r.rows);
      if (r.rows.length < 300) break;
    }
    expect(got).toEqual(plain.rows);
    expect(fields).toEqual(plain.fields.map((f) => `${f.name}:${f.dataTypeID}`));
    expect((await c.query('CLOSE "cur_1"')).command).toBe('CLOSE');
    await c.query('COMMIT');
  });

  it('answers with PostgreSQL\'s tags', async () => {
    const ms = await q('BEGIN; DECLARE t1 CURSOR FOR SELECT id FROM orders ORDER BY id; FETCH 2 FROM t1; MOVE 3 IN t1; FETCH NEXT FROM t1; CLOSE t1; CLOSE ALL; COMMIT');
    expect(tag(ms)).toEqual(['BEGIN', 'DECLARE CURSOR', 'FETCH 2', 'MOVE 3', 'FETCH 1', 'CLOSE CURSOR', 'CLOSE CURSOR ALL', 'COMMIT']);
    expect(rowsOf(ms)).toEqual([['0'], ['1'], ['5']]);
    expect(types(ms)).toBe('C C T D D C C T D C C C C Z');
  });

  it('keeps a cursor WITH HOLD across COMMIT, and psqlODBC\'s declare/fetch works outside a block', async () => {
    await c.query('declare "SQL_CUR0x55d5c0a8" cursor with hold for select * from orders order by id');
    const first = await c.query('fetch 100 in "SQL_CUR0x55d5c0a8"');
    expect(first.rows.map((r: { id: string }) => r.id)).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
    await c.query('BEGIN');
    await c.query('DECLARE h CURSOR WITH HOLD FOR SELECT id FROM orders ORDER BY id');
    expect((await c.query('FETCH 2 FROM h')).rows).toEqual([{ id: '0' }, { id: '1' }]);
    await c.query('COMMIT');
    expect((await c.query('FETCH 2 FROM h')).rows).toEqual([{ id: '2' }, { id: '3' }]);
    // A later transaction's rollback leaves cursors held before it alone.
    await c.query('BEGIN');
    await c.query('ROLLBACK');
    expect((await c.query('fetch 100 in "SQL_CUR0x55d5c0a8"')).rows[0]).toMatchObject({ id: '100' });
    expect((await c.query('FETCH ALL FROM h')).rowCount).toBe(ROWS - 4);
    await c.query('CLOSE h');
    await c.query('close "SQL_CUR0x55d5c0a8"');
  });

  it('ends cursors with their transaction: no HOLD needs a block, a rollback removes the cursors declared in it', async () => {
    await expect(c.query('DECLARE c CURSOR FOR SELECT 1')).rejects.toMatchObject({
      code: '25P01',
      message: 'DECLARE CURSOR can only be used in transaction blocks',
    });
    await c.query('BEGIN');
    await c.query('DECLARE c CURSOR FOR SELECT 1');
    await c.query('COMMIT');
    await expect(c.query('FETCH c')).rejects.toMatchObject({ code: '34000', message: 'cursor "c" does not exist' });
    await c.query('BEGIN');
    await c.query('DECLARE h CURSOR WITH HOLD FOR SELECT 1');
    await c.query('ROLLBACK');
    await expect(c.query('FETCH h')).rejects.toMatchObject({ code: '34000' });
    // ROLLBACK TO takes the cursors declared after the savepoint.
    await c.query('BEGIN');
    await c.query('DECLARE a CURSOR FOR SELECT 1 AS one');
    await c.query('SAVEPOINT s');
    await c.query('DECLARE b CURSOR FOR SELECT 2 AS two');
    await c.query('ROLLBACK TO SAVEPOINT s');
    expect((await c.query('FETCH a')).rows).toEqual([{ one: '1' }]);
    await expect(c.query('FETCH b')).rejects.toMatchObject({ code: '34000' });
    await c.query('ROLLBACK');
    // A failed Query outside a block is rolled back: its held cursor goes with it.
    const ms = await q('DECLARE gone CURSOR WITH HOLD FOR SELECT 1; SELECT nope');
    expect(errorOf(ms)?.code).toBe('42703');
    expect(errorOf(await q('FETCH gone'))?.code).toBe('34000');
  });

  it('moves forward with MOVE, FETCH ALL, ABSOLUTE and RELATIVE, and refuses to go back with 55000', async () => {
    await c.query('BEGIN');
    await c.query('DECLARE m CURSOR FOR SELECT id FROM orders ORDER BY id');
    const move = await c.query('MOVE 5 IN m');
    expect([move.command, move.rowCount]).toEqual(['MOVE', 5]);
    expect((await c.query('FETCH 2 FROM m')).rows).toEqual([{ id: '5' }, { id: '6' }]);
    expect((await c.query('FETCH RELATIVE 3 FROM m')).rows).toEqual([{ id: '9' }]);
    expect((await c.query('FETCH ABSOLUTE 20 FROM m')).rows).toEqual([{ id: '19' }]);
    expect((await c.query('MOVE 0 IN m')).rowCount).toBe(1);
    expect((await c.query('FETCH FORWARD FROM m')).rows).toEqual([{ id: '20' }]);
    const rest = await c.query('FETCH ALL FROM m');
    expect([rest.rowCount, rest.rows[0], rest.rows[rest.rows.length - 1]]).toEqual([ROWS - 21, { id: '21' }, { id: String(ROWS - 1) }]);
    expect((await c.query('FETCH NEXT FROM m')).rowCount).toBe(0);
    expect((await c.query('MOVE ALL IN m')).rowCount).toBe(0);
    expect((await c.query('FETCH 0 FROM m')).rowCount).toBe(0);
    await c.query('COMMIT');
    for (const fetch of ['FETCH PRIOR FROM b', 'FETCH BACKWARD 2 FROM b', 'FETCH -1 FROM b', 'FETCH ABSOLUTE 1 FROM b', 'FETCH LAST FROM b', 'FETCH 0 FROM b', 'FETCH FIRST FROM b']) {
      await c.query('BEGIN');
      await c.query('DECLARE b CURSOR FOR SELECT id FROM orders ORDER BY id');
      await c.query('FETCH 3 FROM b');
      await expect(c.query(fetch), fetch).rejects.toMatchObject({ code: '55000', message: 'cursor can only scan forward' });
      await c.query('ROLLBACK');
    }
  });

  it('refuses unknown and duplicate names, and cursors over queries the gate refuses', async () => {
    await expect(c.query('FETCH 1 FROM nope')).rejects.toMatchObject({ code: '34000', message: 'cursor "nope" does not exist' });
    await expect(c.query('CLOSE nope')).rejects.toMatchObject({ code: '34000', message: 'cursor "nope" does not exist' });
    await expect(c.query('MOVE nope')).rejects.toMatchObject({ code: '34000' });
    await c.query('BEGIN');
    await c.query('DECLARE d CURSOR FOR SELECT 1');
    await expect(c.query('DECLARE d CURSOR FOR SELECT 2')).rejects.toMatchObject({ code: '42P03', message: 'cursor "d" already exists' });
    // The block failed: cursor statements are refused like any other until it ends.
    for (const sql of ['FETCH d', 'DECLARE e CURSOR FOR SELECT 1', 'CLOSE d', 'MOVE d']) {
      await expect(c.query(sql), sql).rejects.toMatchObject({ code: '25P02' });
    }
    await c.query('ROLLBACK');
    const refused: [string, string][] = [
      ['DECLARE w CURSOR WITH HOLD FOR DELETE FROM orders', '25006'],
      ['DECLARE w CURSOR WITH HOLD FOR SELECT * FROM secrets', '42P01'],
      ['DECLARE w CURSOR WITH HOLD FOR SELECT * FROM globex.main.secrets', '42P01'],
      ["DECLARE w CURSOR WITH HOLD FOR SELECT * FROM read_csv('/etc/passwd')", '42501'],
      ['DECLARE w CURSOR WITH HOLD FOR SELECT $1', '42P02'],
      ['DECLARE w SCROLL NO SCROLL CURSOR FOR SELECT 1', '42P11'],
    ];
    for (const [sql, code] of refused) await expect(c.query(sql), sql).rejects.toMatchObject({ code });
    // None of them left a cursor behind.
    await expect(c.query('FETCH w')).rejects.toMatchObject({ code: '34000' });
  });

  it('reports an error in a cursor\'s rows at FETCH, then the cursor is gone and the session goes on', async () => {
    await c.query('BEGIN');
    await c.query("DECLARE bad CURSOR FOR SELECT CASE WHEN id < 900 THEN id::VARCHAR ELSE 'x' END::INTEGER AS n FROM orders ORDER BY id");
    await expect(c.query('FETCH ALL FROM bad')).rejects.toMatchObject({ code: '22P02' });
    await c.query('ROLLBACK');
    await c.query('DECLARE bad2 CURSOR WITH HOLD FOR SELECT CASE WHEN id < 900 THEN id::VARCHAR ELSE \'x\' END::INTEGER AS n FROM orders ORDER BY id');
    await expect(c.query('FETCH ALL FROM bad2')).rejects.toMatchObject({ code: '22P02' });
    await expect(c.query('FETCH bad2')).rejects.toMatchObject({ code: '34000' });
    expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: '1' }]);
  });

  it('cancels a FETCH with 57014 and the session goes on', async () => {
    await c.query('BEGIN');
    await c.query(`DECLARE slow CURSOR FOR ${ENDLESS_QUERY}`);
    const fetching = c.query('FETCH 1 FROM slow').then(() => null, (e: { code: string; message: string }) => e);
    await until(() => gw.gateway.runningQueries === 1);
    await cancel(gw, c);
    expect(await fetching).toMatchObject({ code: '57014', message: 'canceling statement due to user request' });
    await c.query('ROLLBACK');
    await c.query("SET statement_timeout = '300ms'");
    await c.query(`DECLARE slow2 CURSOR WITH HOLD FOR ${ENDLESS_QUERY}`);
    await expect(c.query('FETCH 1 FROM slow2')).rejects.toMatchObject({ code: '57014', message: 'canceling statement due to statement timeout' });
    await c.query('RESET statement_timeout');
    await until(() => gw.gateway.runningQueries === 0);
    expect((await c.query('SELECT 2 AS two')).rows).toEqual([{ two: '2' }]);
  });

  it('sends binary values from a BINARY cursor', async () => {
    const ms = await q("BEGIN; DECLARE bin BINARY CURSOR FOR SELECT 7::INTEGER AS n, 'x' AS s, NULL::INTEGER AS z; FETCH 1 FROM bin; COMMIT");
    const t = ms.find((m) => m.type === 'T')!.body;
    // The format code is the last Int16 of each field.
    const formats: number[] = [];
    let at = 2;
    for (let i = 0; i < t.readInt16BE(0); i++) {
      at = t.indexOf(0, at) + 1 + 4 + 2 + 4 + 2 + 4;
      formats.push(t.readInt16BE(at));
      at += 2;
    }
    expect(formats).toEqual([1, 1, 1]);
    const row = dataRowBytes(ms.find((m) => m.type === 'D')!);
    expect(row).toEqual([Buffer.from([0, 0, 0, 7]), Buffer.from('x'), null]);
  });

  it('is a portal: Describe and Execute reach a cursor by name, with a row limit', async () => {
    expect(errorOf(await q('BEGIN; DECLARE pc CURSOR FOR SELECT id FROM orders ORDER BY id'))).toBeNull();
    raw.send(fe.describe('P', 'pc'), fe.execute('pc', 3), fe.sync());
    const ms = await raw.until('Z');
    expect(types(ms)).toBe('T D D D s Z');
    expect(rowsOf(ms)).toEqual([['0'], ['1'], ['2']]);
    const f = await q('FETCH 2 FROM pc');
    expect(rowsOf(f)).toEqual([['3'], ['4']]);
    raw.send(fe.execute('pc', 0), fe.sync());
    const rest = await raw.until('Z');
    expect(tag(rest)).toEqual([`SELECT ${ROWS - 5}`]);
    // Bind cannot take a cursor's name; Close of the portal closes the cursor.
    raw.send(fe.parse('', 'SELECT 1'), fe.bind('pc', ''), fe.sync());
    expect(errorOf(await raw.until('Z'))).toMatchObject({ code: '42P03', message: 'cursor "pc" already exists' });
    await q('ROLLBACK');
    expect(errorOf(await q('BEGIN; DECLARE pc2 CURSOR FOR SELECT 1'))).toBeNull();
    raw.send(fe.close('P', 'pc2'), fe.sync());
    expect(types(await raw.until('Z'))).toBe('3 Z');
    expect(errorOf(await q('FETCH pc2'))?.code).toBe('34000');
    await q('ROLLBACK');
  });

  it('runs DECLARE with parameters, FETCH and CLOSE through Parse/Bind/Execute (psycopg 3)', async () => {
    await q('BEGIN');
    raw.send(fe.parse('', 'DECLARE pp NO SCROLL CURSOR FOR SELECT id, product FROM orders WHERE id < $1 ORDER BY id'), fe.describe('S', ''), fe.bind('', '', ['5']), fe.execute(''), fe.sync());
    const declared = await raw.until('Z');
    expect(types(declared)).toBe('1 t n 2 C Z');
    expect(declared[1]!.body.readUInt32BE(2)).toBe(20); // $1 compared with a BIGINT: int8
    expect(tag(declared)).toEqual(['DECLARE CURSOR']);
    raw.send(fe.parse('f', 'FETCH FORWARD 2 FROM pp'), fe.describe('S', 'f'), fe.bind('', 'f'), fe.execute(''), fe.sync());
    const fetched = await raw.until('Z');
    expect(types(fetched)).toBe('1 t T 2 D D C Z');
    expect(rowsOf(fetched)).toEqual([['0', 'product 0'], ['1', 'product 1']]);
    expect(tag(fetched)).toEqual(['FETCH 2']);
    // In the formats Bind asks for: the id in binary.
    raw.send(fe.bind('', 'f', [], { resultFormats: [1, 0] }), fe.describe('P', ''), fe.execute(''), fe.sync());
    const binary = await raw.until('Z');
    expect(types(binary)).toBe('2 T D D C Z');
    expect(dataRowBytes(binary.find((m) => m.type === 'D')!)).toEqual([Buffer.from([0, 0, 0, 0, 0, 0, 0, 2]), Buffer.from('product 2')]);
    raw.send(fe.parse('', 'MOVE FORWARD ALL IN pp'), fe.describe('S', ''), fe.bind('', ''), fe.execute(''), fe.parse('', 'CLOSE pp'), fe.bind('', ''), fe.execute(''), fe.sync());
    const moved = await raw.until('Z');
    expect(types(moved)).toBe('1 t n 2 C 1 2 C Z');
    expect(tag(moved)).toEqual(['MOVE 1', 'CLOSE CURSOR']);
    await q('COMMIT');
  });

  it('reads in batches with pg-cursor (a named portal of the protocol)', async () => {
    const client = await pgConnect(gw, { tenant: 'acme', password: PW }, { types: rawTypes });
    const plain = await client.query('SELECT id, amount FROM orders ORDER BY id');
    const cursor = client.query(new Cursor('SELECT id, amount FROM orders WHERE id >= $1 ORDER BY id', [0], { types: rawTypes }));
    const got: unknown[] = [];
    for (;;) {
      const batch = await cursor.read(128);
      if (batch.length === 0) break;
      got.push(...batch);
    }
    await cursor.close();
    expect(got).toEqual(plain.rows);
    await client.end();
  });

  it('caps the cursors and portals a session holds open, and DISCARD ALL closes held cursors', async () => {
    const client = await pgConnect(gw, { tenant: 'acme', password: PW }, { types: rawTypes });
    await client.query('BEGIN');
    const declares = Array.from({ length: MAX_OPEN_PORTALS }, (_, i) => `DECLARE c${i} CURSOR FOR SELECT ${i} AS n`).join('; ');
    await client.query(declares);
    await expect(client.query('DECLARE one_more CURSOR FOR SELECT 1')).rejects.toMatchObject({ code: '54000' });
    await client.query('ROLLBACK');
    await client.query('DECLARE held CURSOR WITH HOLD FOR SELECT 1 AS one');
    await client.query('DISCARD ALL');
    await expect(client.query('FETCH held')).rejects.toMatchObject({ code: '34000' });
    await client.end();
  });
});

describe('PREPARE, EXECUTE, DEALLOCATE', () => {
  let gw: TestGateway;
  let c: pg.Client;
  beforeAll(async () => {
    gw = await startGateway({ allowPlaintext: true });
    await addTestTenant(gw.registry, 'acme', PW, {
      sql: ["CREATE TABLE orders AS SELECT i AS id, 'product ' || i AS product FROM range(10) t(i)"],
    });
    c = await pgConnect(gw, { tenant: 'acme', password: PW }, { types: rawTypes });
  });
  afterAll(async () => {
    await c.end();
    await gw.stop();
  });

  it('prepares a statement and executes it with constants as parameter values', async () => {
    expect((await c.query('PREPARE q (int) AS SELECT id, product FROM orders WHERE id < $1 ORDER BY id')).command).toBe('PREPARE');
    const r = await c.query('EXECUTE q (3)');
    expect([r.command, r.rowCount]).toEqual(['SELECT', 3]);
    expect(r.rows.map((x: { id: string }) => x.id)).toEqual(['0', '1', '2']);
    expect((await c.query("EXECUTE q ('2')")).rowCount).toBe(2);
    await c.query('PREPARE typed (date, boolean, numeric, text, double precision) AS SELECT $1 + 1 AS d, NOT $2 AS b, $3::DECIMAL(10,2) * 2 AS n, upper($4) AS t, $5 AS f');
    expect((await c.query("EXECUTE typed ('2024-02-28', true, 1.25, 'abc', -1.5e3)")).rows).toEqual([
      { d: '2024-02-29', b: 'f', n: '2.50', t: 'ABC', f: '-1500' },
    ]);
    expect((await c.query("EXECUTE typed (DATE '2024-12-31', FALSE, '3'::numeric, NULL, 0)")).rows).toEqual([
      { d: '2025-01-01', b: 't', n: '6.00', t: null, f: '0' },
    ]);
    // A parameter DuckDB cannot type is text, as in PostgreSQL.
    await c.query('PREPARE echo AS SELECT $1 AS v');
    expect((await c.query('EXECUTE echo (42)')).rows).toEqual([{ v: '42' }]);
    // Values are bound, never written into SQL.
    const sneaky = "x'); DROP TABLE orders; --";
    expect((await c.query(`EXECUTE echo ('${sneaky.replaceAll("'", "''")}')`)).rows).toEqual([{ v: sneaky }]);
    expect((await c.query('SELECT count(*) AS n FROM orders')).rows).toEqual([{ n: '10' }]);
  });

  it('refuses what is not a constant, unknown and duplicate names, and the wrong number of parameters', async () => {
    for (const sql of ['EXECUTE q (1 + 1)', 'EXECUTE q (now())', 'EXECUTE q ((SELECT 1))', 'EXECUTE q (id)']) {
      await expect(c.query(sql), sql).rejects.toMatchObject({ code: '0A000' });
    }
    await expect(c.query('EXECUTE nope')).rejects.toMatchObject({ code: '26000', message: 'prepared statement "nope" does not exist' });
    await expect(c.query('DEALLOCATE nope')).rejects.toMatchObject({ code: '26000' });
    await expect(c.query('PREPARE q AS SELECT 1')).rejects.toMatchObject({ code: '42P05', message: 'prepared statement "q" already exists' });
    await expect(c.query('EXECUTE q')).rejects.toMatchObject({ code: '42601', message: 'wrong number of parameters for prepared statement "q"' });
    await expect(c.query('EXECUTE q (1, 2)')).rejects.toMatchObject({ code: '42601' });
    await expect(c.query('PREPARE u (mystery) AS SELECT $1')).rejects.toMatchObject({ code: '42704', message: 'type "mystery" does not exist' });
    await expect(c.query("EXECUTE q ('x'::mystery)")).rejects.toMatchObject({ code: '42704' });
    await expect(c.query("EXECUTE q ('many')")).rejects.toMatchObject({ code: '22P02' });
    // The gate checks what is prepared.
    await expect(c.query('PREPARE w AS DELETE FROM orders')).rejects.toMatchObject({ code: '25006' });
    await expect(c.query("PREPARE r AS SELECT * FROM read_csv('/etc/passwd')")).rejects.toMatchObject({ code: '42501' });
    await expect(c.query('EXECUTE w')).rejects.toMatchObject({ code: '26000' });
  });

  it('shares the namespace of the protocol\'s named statements, both ways', async () => {
    // node-postgres prepares a named statement with Parse; SQL's EXECUTE runs it.
    expect((await c.query({ name: 'by_parse', text: 'SELECT $1::int + 1 AS n', values: [1] })).rows).toEqual([{ n: '2' }]);
    expect((await c.query('EXECUTE by_parse (41)')).rows).toEqual([{ n: '42' }]);
    await expect(c.query('PREPARE by_parse AS SELECT 1')).rejects.toMatchObject({ code: '42P05' });
    // A statement PREPAREd in SQL is bound and executed by the protocol.
    await c.query('PREPARE pq (int) AS SELECT $1 * 2 AS n');
    const raw = await RawClient.connect(gw.port, { database: 'acme', user: 'acme', password: PW });
    raw.send(fe.describe('S', 'pq'), fe.bind('', 'pq', ['21']), fe.describe('P', ''), fe.execute(''), fe.sync());
    const ms = await raw.until('Z');
    expect(errorOf(ms)?.code).toBe('26000'); // another session: its own namespace
    raw.send(fe.query('PREPARE pq (int) AS SELECT $1 * 2 AS n'));
    await raw.until('Z');
    raw.send(fe.describe('S', 'pq'), fe.bind('', 'pq', ['21']), fe.describe('P', ''), fe.execute(''), fe.sync());
    const ok = await raw.until('Z');
    expect(types(ok)).toBe('t T 2 T D C Z');
    expect(ok[0]!.body.readUInt32BE(2)).toBe(23);
    expect(rowsOf(ok)).toEqual([['42']]);
    // EXECUTE itself through Parse/Bind/Execute: Describe gives the statement's columns.
    raw.send(fe.parse('', 'EXECUTE pq (5)'), fe.describe('S', ''), fe.bind('', ''), fe.execute(''), fe.sync());
    const ex = await raw.until('Z');
    expect(types(ex)).toBe('1 t T 2 D C Z');
    expect(rowsOf(ex)).toEqual([['10']]);
    expect(tag(ex)).toEqual(['SELECT 1']);
    // DEALLOCATE is Close's SQL face.
    raw.send(fe.query('DEALLOCATE PREPARE pq'));
    expect(tag(await raw.until('Z'))).toEqual(['DEALLOCATE']);
    raw.send(fe.bind('', 'pq', ['1']), fe.sync());
    expect(errorOf(await raw.until('Z'))?.code).toBe('26000');
    raw.end();
  });

  it('keeps prepared statements across ROLLBACK, refuses them in a failed block, and DEALLOCATE ALL drops them', async () => {
    await c.query('BEGIN');
    await c.query('PREPARE in_tx AS SELECT 7 AS seven');
    await c.query('ROLLBACK');
    expect((await c.query('EXECUTE in_tx')).rows).toEqual([{ seven: '7' }]);
    await c.query('BEGIN');
    await expect(c.query('SELECT nope')).rejects.toMatchObject({ code: '42703' });
    for (const sql of ['EXECUTE in_tx', 'PREPARE x AS SELECT 1', 'DEALLOCATE in_tx']) {
      await expect(c.query(sql), sql).rejects.toMatchObject({ code: '25P02' });
    }
    await c.query('ROLLBACK');
    expect((await c.query('DEALLOCATE ALL')).command).toBe('DEALLOCATE');
    await expect(c.query('EXECUTE in_tx')).rejects.toMatchObject({ code: '26000' });
    await expect(c.query('EXECUTE q (1)')).rejects.toMatchObject({ code: '26000' });
  });
});

describe('cursors and prepared statements in a shared tenant', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
    for (const id of ['acme', 'globex']) await addTenant(gw.registry, { id, plan: 'pro', password: PW, isolation: 'shared' });
    const csv = (name: string, rows: string[]) => writeCsv(gw.dataDir, name, 'id,product', rows);
    await loadTable(gw.registry, 'acme', 'orders', csv('a.csv', ['1,ACME-widget', '2,ACME-gadget', '3,ACME-lamp']), 'create');
    await loadTable(gw.registry, 'globex', 'orders', csv('g.csv', ['1,GLOBEX-SECRET', '4,GLOBEX-lamp']), 'create');
  });
  afterAll(() => gw.stop());

  it('only ever see the tenant\'s own rows', async () => {
    const acme = await pgConnect(gw, { tenant: 'acme', password: PW }, { types: rawTypes });
    await acme.query('BEGIN');
    await acme.query('DECLARE c CURSOR FOR SELECT * FROM orders ORDER BY id');
    const first = await acme.query('FETCH 2 FROM c');
    expect(first.fields.map((f) => f.name)).toEqual(['id', 'product']);
    const rest = await acme.query('FETCH ALL FROM c');
    expect([...first.rows, ...rest.rows]).toEqual([
      { id: '1', product: 'ACME-widget' },
      { id: '2', product: 'ACME-gadget' },
      { id: '3', product: 'ACME-lamp' },
    ]);
    await acme.query('COMMIT');
    await acme.query('DECLARE h CURSOR WITH HOLD FOR SELECT o.product FROM orders o JOIN main.orders p USING (id)');
    expect(JSON.stringify((await acme.query('FETCH ALL FROM h')).rows)).not.toContain('GLOBEX');
    await acme.query('PREPARE p (int) AS SELECT product FROM orders WHERE id = $1');
    expect((await acme.query('EXECUTE p (1)')).rows).toEqual([{ product: 'ACME-widget' }]);
    expect((await acme.query('EXECUTE p (4)')).rows).toEqual([]);
    await expect(acme.query('DECLARE t CURSOR WITH HOLD FOR SELECT tenant_id FROM orders')).rejects.toMatchObject({ code: '42703' });
    await acme.end();
  });
});

const hasPsql = requireCommand('psql');

describe.runIf(hasPsql)('cursors with psql', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
    await addTestTenant(gw.registry, 'acme', PW, { sql: ['CREATE TABLE orders AS SELECT i AS id FROM range(1000) t(i)'] });
  });
  afterAll(() => gw.stop());

  it('reads a result in batches with FETCH_COUNT (BEGIN, DECLARE _psql_cursor, FETCH FORWARD, CLOSE, COMMIT)', async () => {
    const conninfo = `host=127.0.0.1 port=${gw.port} dbname=acme user=acme sslmode=verify-full sslrootcert=${gw.caFile}`;
    const r = await run('psql', [conninfo, '-X', '-v', 'FETCH_COUNT=100', '-A', '-t', '-c', 'SELECT id FROM orders ORDER BY id'], {
      env: { PGPASSWORD: PW, PGCONNECT_TIMEOUT: '10' },
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(Array.from({ length: 1000 }, (_, i) => `${i}\n`).join(''));
    // psql went through a cursor: ten FETCHes of 100 rows, and an empty last one.
    const fetches = gw.logs.filter((l) => l.includes('"fetch done"')).map((l) => (JSON.parse(l) as { rows: number }).rows);
    expect(fetches).toEqual([...Array<number>(10).fill(100), 0]);
  });
});
