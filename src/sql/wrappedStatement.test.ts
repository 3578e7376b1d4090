import { describe, expect, it } from 'vitest';
import { splitStatements } from './lexer.js';
import { parseWrappedStatement, type WrappedStatement } from './wrappedStatement.js';

const parse = (sql: string): WrappedStatement | null => {
  const [st] = splitStatements(sql);
  return parseWrappedStatement(st!.tokens, st!.text);
};

const fails = (sql: string) => {
  try {
    parse(sql);
  } catch (e) {
    const err = e as { code: string; message: string };
    return { code: err.code, message: err.message };
  }
  throw new Error(`no error for ${sql}`);
};

const TEXT = { format: 'text', delimiter: '\t', null: '\\N', header: false, quote: '"', escape: '"', forceQuote: [] };
const CSV = { format: 'csv', delimiter: ',', null: '', header: false, quote: '"', escape: '"', forceQuote: [] };

describe('COPY', () => {
  it('cuts out the query, with its offset in the statement', () => {
    const s = parse('COPY (SELECT a, (b) FROM t) TO STDOUT');
    expect(s).toMatchObject({ kind: 'copy', columns: null, options: TEXT });
    const q = (s as { query: { text: string; offset: number; generated: boolean; tokens: unknown[] } }).query;
    expect(q.text).toBe('SELECT a, (b) FROM t');
    expect(q.offset).toBe(6);
    expect(q.generated).toBe(false);
    expect(q.tokens[0]).toMatchObject({ kind: 'word', value: 'SELECT', start: 0 });
  });

  it('writes a SELECT for a table and its columns, quoting every name', () => {
    expect(parse('COPY orders TO STDOUT')).toMatchObject({ query: { text: 'SELECT * FROM "orders"', generated: true }, columns: null });
    expect(parse('copy public."Orders" (id, "Name") to stdout')).toMatchObject({
      query: { text: 'SELECT "id", "Name" FROM "public"."Orders"' },
      columns: ['id', 'Name'],
    });
    expect(parse('COPY "we""ird" TO STDOUT')).toMatchObject({ query: { text: 'SELECT * FROM "we""ird"' } });
    expect(fails('COPY t (a, a) TO STDOUT')).toEqual({ code: '42701', message: 'column "a" specified more than once' });
  });

  it('reads the options of PostgreSQL 9.0 on', () => {
    expect(parse("COPY t TO STDOUT WITH (FORMAT csv, HEADER, DELIMITER ';', NULL 'n/a', QUOTE '''', ESCAPE '\\', FORCE_QUOTE (a, \"B\"))")).toMatchObject({
      options: { format: 'csv', header: true, delimiter: ';', null: 'n/a', quote: "'", escape: '\\', forceQuote: ['a', 'B'] },
    });
    expect(parse('COPY t TO STDOUT (FORMAT csv, HEADER true, FORCE_QUOTE *)')).toMatchObject({ options: { ...CSV, header: true, forceQuote: '*' } });
    expect(parse("COPY t TO STDOUT (FORMAT 'csv', HEADER off, ENCODING 'UTF-8', FREEZE)")).toMatchObject({ options: CSV });
    expect(parse('COPY t TO STDOUT (HEADER 1)')).toMatchObject({ options: { ...TEXT, header: true } });
    expect(parse('COPY t TO STDOUT (FORMAT binary)')).toMatchObject({ options: { format: 'binary' } });
  });

  it('reads the options of PostgreSQL before 9.0', () => {
    expect(parse('COPY (SELECT 1) TO STDOUT WITH CSV HEADER')).toMatchObject({ options: { ...CSV, header: true } });
    expect(parse("COPY t TO STDOUT CSV QUOTE AS '''' FORCE QUOTE a, b DELIMITER AS '|' NULL AS 'x'")).toMatchObject({
      options: { ...CSV, quote: "'", escape: "'", forceQuote: ['a', 'b'], delimiter: '|', null: 'x' },
    });
    expect(parse('COPY t TO STDOUT WITH CSV FORCE QUOTE *')).toMatchObject({ options: { forceQuote: '*' } });
    expect(parse('COPY BINARY t TO STDOUT')).toMatchObject({ options: { format: 'binary' } });
    expect(parse('COPY t TO STDOUT WITH BINARY')).toMatchObject({ options: { format: 'binary' } });
    expect(parse("COPY t TO STDOUT DELIMITER ','")).toMatchObject({ options: { ...TEXT, delimiter: ',' } });
  });

  it('checks options as PostgreSQL does', () => {
    expect(fails('COPY t TO STDOUT (FORMAT csv, FORMAT text)')).toEqual({ code: '42601', message: 'conflicting or redundant options' });
    expect(fails('COPY t TO STDOUT (FORMAT xml)')).toEqual({ code: '22023', message: 'COPY format "xml" not recognized' });
    expect(fails('COPY t TO STDOUT (COLOUR red)')).toEqual({ code: '42601', message: 'option "colour" not recognized' });
    expect(fails('COPY t TO STDOUT (HEADER maybe)')).toEqual({ code: '42601', message: 'header requires a Boolean value or "match"' });
    expect(fails('COPY t TO STDOUT (HEADER match)')).toEqual({ code: '0A000', message: 'cannot use "match" with HEADER in COPY TO' });
    expect(fails("COPY t TO STDOUT (DELIMITER ',,')")).toEqual({ code: '0A000', message: 'COPY delimiter must be a single one-byte character' });
    expect(fails("COPY t TO STDOUT (DELIMITER 'é')")).toEqual({ code: '0A000', message: 'COPY delimiter must be a single one-byte character' });
    expect(fails("COPY t TO STDOUT (DELIMITER 'a')")).toEqual({ code: '22023', message: 'COPY delimiter cannot be "a"' });
    expect(fails("COPY t TO STDOUT (DELIMITER E'\\n')")).toEqual({ code: '22023', message: 'COPY delimiter cannot be newline or carriage return' });
    expect(fails("COPY t TO STDOUT (QUOTE '''')")).toEqual({ code: '0A000', message: 'COPY quote available only in CSV mode' });
    expect(fails('COPY t TO STDOUT (FORCE_QUOTE *)')).toEqual({ code: '0A000', message: 'COPY force quote available only in CSV mode' });
    expect(fails('COPY t TO STDOUT (FORMAT csv, FORCE_QUOTE a)')).toEqual({
      code: '22023',
      message: 'argument to option "force_quote" must be a list of column names',
    });
    expect(fails('COPY t TO STDOUT (FORMAT csv, FORCE_NOT_NULL (a))')).toEqual({
      code: '0A000',
      message: 'COPY force not null only available using COPY FROM',
    });
    expect(fails("COPY t TO STDOUT (FORMAT csv, DELIMITER '\"')")).toEqual({ code: '22023', message: 'COPY delimiter and quote must be different' });
    expect(fails("COPY t TO STDOUT (NULL 'a\tb')")).toEqual({ code: '22023', message: 'COPY delimiter must not appear in the NULL specification' });
    expect(fails("COPY t TO STDOUT (FORMAT csv, NULL '\"')")).toEqual({ code: '22023', message: 'CSV quote character must not appear in the NULL specification' });
    expect(fails('COPY t TO STDOUT (FORMAT binary, HEADER)')).toEqual({ code: '0A000', message: 'cannot specify HEADER in BINARY mode' });
    expect(fails("COPY t TO STDOUT (FORMAT binary, NULL 'x')")).toEqual({ code: '42601', message: 'cannot specify NULL in BINARY mode' });
    expect(fails("COPY t TO STDOUT (ENCODING 'LATIN1')").code).toBe('0A000');
    expect(fails('COPY t TO STDOUT (DELIMITER)')).toEqual({ code: '42601', message: 'delimiter requires a parameter' });
  });

  it('refuses COPY FROM, files and programs, and what is not COPY syntax', () => {
    expect(fails('COPY t FROM STDIN')).toMatchObject({ code: '25006', message: 'cannot execute COPY FROM in a read-only transaction' });
    expect(fails('COPY t (a) FROM STDIN WITH CSV WHERE a > 1')).toMatchObject({ code: '25006' });
    expect(fails("COPY t FROM '/etc/passwd'")).toMatchObject({ code: '25006', message: 'cannot execute COPY FROM in a read-only transaction' });
    expect(fails("COPY t FROM PROGRAM 'id'")).toMatchObject({ code: '25006' });
    expect(fails("COPY t TO '/tmp/x.csv'")).toMatchObject({ code: '42501', message: 'COPY to a file is not allowed' });
    expect(fails("COPY (SELECT 1) TO '/tmp/x.parquet' (FORMAT parquet)")).toMatchObject({ code: '42501' });
    expect(fails("COPY t TO PROGRAM 'rm -rf /'")).toMatchObject({ code: '42501', message: 'COPY to an external program is not allowed' });
    expect(fails('COPY (SELECT 1) FROM STDIN')).toMatchObject({ code: '42601', message: 'syntax error at or near "FROM"' });
    expect(fails('COPY FROM DATABASE acme TO other')).toMatchObject({ code: '25006' });
    expect(fails('COPY () TO STDOUT')).toMatchObject({ code: '42601' });
    expect(fails('COPY t TO STDOUT WITH NONSENSE')).toMatchObject({ code: '42601', message: 'syntax error at or near "NONSENSE"' });
    expect(fails('COPY t')).toMatchObject({ code: '42601', message: 'syntax error at end of input' });
    // STDIN as a target means the client, as in PostgreSQL.
    expect(parse('COPY t TO STDIN')).toMatchObject({ kind: 'copy' });
  });
});

describe('cursors', () => {
  it('reads DECLARE in the forms drivers send', () => {
    expect(parse('declare "SQL_CUR0x55d5c0a8" cursor with hold for select * from orders')).toMatchObject({
      kind: 'declare', name: 'SQL_CUR0x55d5c0a8', hold: true, binary: false, query: { text: 'select * from orders' },
    });
    expect(parse('DECLARE "c" CURSOR WITHOUT HOLD FOR SELECT 1')).toMatchObject({ name: 'c', hold: false });
    expect(parse('DECLARE C1 BINARY INSENSITIVE NO SCROLL CURSOR FOR SELECT 1')).toMatchObject({ name: 'c1', binary: true, hold: false });
    expect(parse('DECLARE c SCROLL CURSOR FOR VALUES (1)')).toMatchObject({ query: { text: 'VALUES (1)' } });
    expect(fails('DECLARE c SCROLL NO SCROLL CURSOR FOR SELECT 1')).toEqual({ code: '42P11', message: 'cannot specify both SCROLL and NO SCROLL' });
    expect(fails('DECLARE c CURSOR FOR')).toMatchObject({ code: '42601' });
    expect(fails('DECLARE c CURSOR WITH FOR SELECT 1')).toMatchObject({ code: '42601' });
    expect(fails('DECLARE "" CURSOR FOR SELECT 1')).toMatchObject({ code: '42601', message: 'zero-length delimited identifier at or near """"' });
  });

  it('reads FETCH and MOVE directions, turning negative counts around', () => {
    const dir = (sql: string) => (parse(sql) as { direction: unknown }).direction;
    expect(parse('FETCH c')).toEqual({ kind: 'fetch', move: false, name: 'c', direction: { kind: 'forward', count: 1 } });
    expect(dir('FETCH FROM c')).toEqual({ kind: 'forward', count: 1 });
    expect(dir('fetch 100 in "SQL_CUR0x55d5c0a8"')).toEqual({ kind: 'forward', count: 100 });
    expect(dir('FETCH FORWARD 2000 FROM "c"')).toEqual({ kind: 'forward', count: 2000 });
    expect(dir('FETCH FORWARD c')).toEqual({ kind: 'forward', count: 1 });
    expect(dir('FETCH FORWARD FROM c')).toEqual({ kind: 'forward', count: 1 });
    expect(dir('FETCH FORWARD ALL c')).toEqual({ kind: 'forward', count: 'ALL' });
    expect(dir('FETCH ALL FROM c')).toEqual({ kind: 'forward', count: 'ALL' });
    expect(dir('FETCH NEXT FROM c')).toEqual({ kind: 'forward', count: 1 });
    expect(dir('FETCH PRIOR FROM c')).toEqual({ kind: 'backward', count: 1 });
    expect(dir('FETCH -3 FROM c')).toEqual({ kind: 'backward', count: 3 });
    expect(dir('FETCH BACKWARD -3 FROM c')).toEqual({ kind: 'forward', count: 3 });
    expect(dir('FETCH BACKWARD ALL FROM c')).toEqual({ kind: 'backward', count: 'ALL' });
    expect(dir('FETCH FIRST FROM c')).toEqual({ kind: 'absolute', position: 1 });
    expect(dir('FETCH LAST FROM c')).toEqual({ kind: 'absolute', position: -1 });
    expect(dir('FETCH ABSOLUTE 5 FROM c')).toEqual({ kind: 'absolute', position: 5 });
    expect(dir('FETCH RELATIVE -2 FROM c')).toEqual({ kind: 'relative', offset: -2 });
    expect(parse('MOVE FORWARD 5 IN c')).toEqual({ kind: 'fetch', move: true, name: 'c', direction: { kind: 'forward', count: 5 } });
    expect(fails('FETCH')).toMatchObject({ code: '42601' });
    expect(fails('FETCH 5')).toMatchObject({ code: '42601' });
    expect(fails('FETCH 1.5 FROM c')).toMatchObject({ code: '42601' });
    expect(fails('FETCH 5 FROM c d')).toMatchObject({ code: '42601', message: 'syntax error at or near "d"' });
  });

  it('reads CLOSE', () => {
    expect(parse('CLOSE c')).toEqual({ kind: 'close', name: 'c' });
    expect(parse('CLOSE ALL')).toEqual({ kind: 'close', name: null });
    expect(parse('CLOSE "ALL"')).toEqual({ kind: 'close', name: 'ALL' });
    expect(fails('CLOSE')).toMatchObject({ code: '42601' });
  });
});

describe('PREPARE, EXECUTE, DEALLOCATE', () => {
  it('reads PREPARE with parameter types in PostgreSQL spellings', () => {
    expect(parse('PREPARE q AS SELECT 1')).toMatchObject({ kind: 'prepare', name: 'q', types: [], query: { text: 'SELECT 1' } });
    expect(
      parse('PREPARE q (integer, double precision, character varying(20), timestamp(3) with time zone, numeric(10,2), text[], pg_catalog.int8, "int2", bool) AS SELECT $1'),
    ).toMatchObject({ types: ['int4', 'float8', 'varchar', 'timestamptz', 'numeric', '_text', 'int8', 'int2', 'bool'] });
    expect(parse('PREPARE q (mystery) AS SELECT $1')).toMatchObject({ types: ['mystery'] });
    expect(fails('PREPARE q AS')).toMatchObject({ code: '42601' });
    expect(fails('PREPARE q (int SELECT 1')).toMatchObject({ code: '42601' });
    expect(parse("PREPARE TRANSACTION 'x'")).toBeNull();
  });

  it('reads EXECUTE parameters as constants, never as SQL', () => {
    expect(parse('EXECUTE q')).toEqual({ kind: 'execute', name: 'q', args: [] });
    expect(parse("EXECUTE q ('it''s', 42, -1.5, NULL, TRUE, false, '2024-01-31'::date, DATE '2024-02-01', E'a\\tb', $$x$$::text, 7::pg_catalog.int8)")).toEqual({
      kind: 'execute',
      name: 'q',
      args: [
        { value: "it's", type: null },
        { value: '42', type: null },
        { value: '-1.5', type: null },
        { value: null, type: null },
        { value: 'true', type: null },
        { value: 'false', type: null },
        { value: '2024-01-31', type: 'date' },
        { value: '2024-02-01', type: 'date' },
        { value: 'a\tb', type: null },
        { value: 'x', type: 'text' },
        { value: '7', type: 'int8' },
      ],
    });
    for (const sql of ['EXECUTE q (1 + 1)', 'EXECUTE q (now())', 'EXECUTE q ((SELECT 1))', 'EXECUTE q (a)', 'EXECUTE q ($1)', "EXECUTE q ('a' || 'b')"]) {
      expect(fails(sql).code, sql).toBe('0A000');
    }
    expect(fails('EXECUTE q ()')).toMatchObject({ code: '42601' });
    expect(fails('EXECUTE q (1,)')).toMatchObject({ code: '42601' });
    expect(fails('EXECUTE q (1) x')).toMatchObject({ code: '42601' });
  });

  it('reads DEALLOCATE', () => {
    expect(parse('DEALLOCATE q')).toEqual({ kind: 'deallocate', name: 'q' });
    expect(parse('DEALLOCATE PREPARE q')).toEqual({ kind: 'deallocate', name: 'q' });
    expect(parse('DEALLOCATE ALL')).toEqual({ kind: 'deallocate', name: null });
    expect(parse('DEALLOCATE PREPARE ALL')).toEqual({ kind: 'deallocate', name: null });
  });

  it('leaves everything else to the gate', () => {
    for (const sql of ['SELECT 1', 'WITH x AS (SELECT 1) SELECT * FROM x', 'SET a = 1', 'EXPLAIN SELECT 1']) expect(parse(sql)).toBeNull();
  });
});
