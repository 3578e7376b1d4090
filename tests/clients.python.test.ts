/**
 * psycopg2, SQLAlchemy and pandas (Debian's python3-psycopg2, python3-sqlalchemy,
 * python3-pandas under /usr/bin/python3) against a real gateway: TLS with verify-full,
 * parameters of each Python type and the Python types that come back, server-side
 * (named) cursors, cancel and statement_timeout, errors with their SQLSTATE and recovery;
 * SQLAlchemy's first-connect queries, text() with bound parameters, inspection, and
 * pandas.read_sql* into DataFrames. Each program runs all its checks in one process
 * (tests/support/python/*.py) and prints JSON; each `it` asserts one check.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checked, DRIVER_TABLES_SQL, requirePython, type CheckResults } from './support/clients.js';
import { addTestTenant, startGateway, type TestGateway } from './support/gateway.js';
import { runPython } from './support/python.js';
import { ENDLESS_QUERY } from './support/wait.js';

const PW = 'python-test-password';
const hasPsycopg2 = requirePython('psycopg2');
const hasSqlAlchemy = hasPsycopg2 && requirePython('sqlalchemy') && requirePython('pandas');

/** A Python value as the programs describe it: its type and its text. */
const py = (type: string, value: string) => ({ type, value });
const int = (n: number | string) => py('int', String(n));
const tuple = (...values: unknown[]) => ({ type: 'tuple', value: values });
const dec = (v: string) => py('decimal.Decimal', v);

const pgError = (cls: string, sqlstate: string, message: string | RegExp) => ({
  class: `psycopg2.errors.${cls}`,
  sqlstate,
  message: typeof message === 'string' ? message : expect.stringMatching(message),
});

describe.runIf(hasPsycopg2)('Python drivers', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
    await addTestTenant(gw.registry, 'acme', PW, { sql: DRIVER_TABLES_SQL });
  });
  afterAll(() => gw?.stop());

  describe('psycopg2', () => {
    let results: CheckResults;
    beforeAll(async () => {
      results = await runPython(gw, 'psycopg2_checks', { tenant: 'acme', password: PW }, { endless: ENDLESS_QUERY });
    });

    it('connects over TLS with sslmode=verify-full and sslrootcert', () => {
      expect(checked(results, 'tls')).toEqual({ one: int(1), ssl_in_use: true, protocol_is_tls: true });
    });

    it('is refused a plaintext login', () => {
      expect(checked(results, 'plaintextRefused')).toEqual({
        class: 'psycopg2.OperationalError',
        sqlstate: null,
        message: expect.stringMatching(/FATAL: {2}SSL connection is required by this server/),
      });
    });

    it('sends a parameter of each Python type and reads PostgreSQL\'s type back', () => {
      expect(checked(results, 'parameters')).toEqual({
        int: int(42),
        bigint: int('4611686018427387904'),
        // psycopg2 writes a float as a bare literal, which PostgreSQL reads as numeric.
        float: dec('2.5'),
        float8: py('float', '2.5'),
        decimal: dec('12345.6789'),
        str: py('str', "O'Reilly ☕"),
        date: py('datetime.date', '2024-02-29'),
        datetime: py('datetime.datetime', '2024-01-02T03:04:05.123456'),
        datetimetz: py('datetime.datetime', '2024-01-02T01:04:05+00:00'),
        bool: py('bool', 'True'),
        none: null,
        uuid: py('uuid.UUID', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
        list: { type: 'list', value: [int(1), int(2), int(3)] },
      });
    });

    it('reads every column type as the Python type psycopg2 maps it to', () => {
      expect(checked(results, 'typedColumns')).toEqual({
        i: int(42), l: int('9007199254740993'), s: int(-7), d: py('float', '2.5'), f: py('float', '1.25'), b: py('bool', 'True'),
        n: dec('12345.6789'), t: py('str', 'Grüße, ☕'), dt: py('datetime.date', '2024-02-29'),
        ts: py('datetime.datetime', '2024-01-02T03:04:05.123456'), bin: py('memoryview', '00ff'),
        u: py('uuid.UUID', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'), nothing: null,
      });
    });

    it('compares parameters of each type with columns', () => {
      expect(checked(results, 'parametersInWhere')).toEqual({ n: int(1) });
    });

    it('binds %(name)s parameters', () => {
      expect(checked(results, 'namedParameters')).toEqual([1, 4, 7].map((i) => tuple(int(i), py('str', 'widget 1'))));
    });

    it('sends bytes as a bytea literal and reads the same bytes back', () => {
      expect(checked(results, 'bytesParameter')).toEqual({ bytes: py('memoryview', '00ff'), length: int(2), matches: int(1) });
    });

    it('reads through a named (server-side) cursor: DECLARE, FETCH FORWARD itersize, CLOSE', () => {
      expect(checked(results, 'namedCursor')).toEqual({
        first: [0, 1, 2, 3, 4].map((i) => tuple(int(i), dec((i * 1.25).toFixed(2)))),
        restRows: 995,
        last: tuple(int(999), dec('1248.75')),
        sum: '624375.00',
        after: { n: int(1000) },
      });
    });

    it('moves a named cursor forward with scroll() (MOVE), and refuses to move back (55000: cursors read forward only)', () => {
      expect(checked(results, 'namedCursorScroll')).toEqual({
        forward: [tuple(int(10)), tuple(int(500))],
        back: pgError('ObjectNotInPrerequisiteState', '55000', 'cursor can only scan forward'),
      });
    });

    it('reads a WITH HOLD named cursor on after COMMIT', () => {
      expect(checked(results, 'namedCursorWithHold')).toEqual({ head: 10, tail: 20, last: tuple(int(29)) });
    });

    it('keeps an error inside a transaction until rollback (25P02), with PostgreSQL\'s SQLSTATEs and error classes', () => {
      expect(checked(results, 'errorsInTransaction')).toEqual({
        syntax: pgError('SyntaxError', '42601', 'syntax error at or near "SELEC"'),
        unknownTable: pgError('UndefinedTable', '42P01', 'relation "no_such_table" does not exist'),
        aborted: pgError('InFailedSqlTransaction', '25P02', 'current transaction is aborted, commands ignored until end of transaction block'),
        write: pgError('ReadOnlySqlTransaction', '25006', 'cannot execute INSERT in a read-only transaction'),
        // PostgreSQL says 'invalid input syntax for type integer: "abc"'; the message names the value.
        badValue: pgError('InvalidTextRepresentation', '22P02', /["']abc["']/),
        after: { five: int(5) },
      });
    });

    it('reports errors in autocommit mode, and the connection goes on', () => {
      expect(checked(results, 'errorsAutocommit')).toEqual({
        unknownTable: pgError('UndefinedTable', '42P01', 'relation "no_such_table" does not exist'),
        ddl: pgError('ReadOnlySqlTransaction', '25006', /^cannot execute CREATE( TABLE)? in a read-only transaction$/),
        after: { six: int(6) },
      });
    });

    it('runs in a read-only session (BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY)', () => {
      expect(checked(results, 'readOnlySession')).toEqual({ n: int(1000) });
    });

    it('cancels a query with conn.cancel() from another thread (57014), and the connection goes on', () => {
      expect(checked(results, 'cancel')).toEqual({
        error: pgError('QueryCanceled', '57014', 'canceling statement due to user request'),
        cancelError: null,
        after: { seven: int(7) },
      });
    });

    it('stops a query at statement_timeout (57014), and the connection goes on', () => {
      expect(checked(results, 'statementTimeout')).toEqual({
        error: pgError('QueryCanceled', '57014', 'canceling statement due to statement timeout'),
        after: { eight: int(8) },
      });
    });
  });

  describe.runIf(hasSqlAlchemy)('SQLAlchemy and pandas', () => {
    let results: CheckResults;
    beforeAll(async () => {
      results = await runPython(gw, 'sqlalchemy_checks', { tenant: 'acme', password: PW });
    });

    it('connects: the dialect\'s first-connect queries and psycopg2\'s hstore lookup are answered', () => {
      expect(checked(results, 'connect')).toEqual({ one: int(1), serverVersion: [16, 4], defaultSchema: 'public' });
      expect(checked(results, 'connectWithoutHstore')).toEqual({ one: int(1), defaultSchema: 'public' });
    });

    it('runs text() queries with bound parameters', () => {
      expect(checked(results, 'textWithBoundParameters')).toEqual([
        tuple(int(1), py('str', 'widget 1'), dec('1.25')),
        tuple(int(4), py('str', 'widget 1'), dec('5.00')),
        tuple(int(7), py('str', 'widget 1'), dec('8.75')),
      ]);
    });

    it('reports an error as ProgrammingError carrying the SQLSTATE, and the connection goes on', () => {
      expect(checked(results, 'errorAndRecovery')).toEqual({
        error: {
          class: 'sqlalchemy.exc.ProgrammingError', sqlstate: '42P01', message: 'relation "no_such_table" does not exist',
          orig: 'psycopg2.errors.UndefinedTable',
        },
        after: int(5),
      });
    });

    it('reads a query into a DataFrame with pandas.read_sql and an engine', () => {
      const shipped = ['2024-01-01T00:00:00', '2024-01-01T00:00:01.000001', '2024-01-01T00:00:02.000002'];
      expect(checked(results, 'pandasReadSqlWithEngine')).toEqual({
        dtypes: {
          order_id: 'int64', order_date: 'object', product: 'object', quantity: 'int64', unit_price: 'float64',
          shipped_at: 'datetime64[ns]',
        },
        rows: [0, 1, 2].map((i) => ({
          order_id: int(i), order_date: py('datetime.date', `2024-01-0${i + 1}`), product: py('str', `widget ${i}`),
          quantity: int(i), unit_price: py('float', ['0.0', '1.25', '2.5'][i]!),
          shipped_at: py('pandas._libs.tslibs.timestamps.Timestamp', shipped[i]!),
        })),
      });
    });

    it('lists tables with inspect(engine).get_table_names()', () => {
      expect(checked(results, 'inspectTableNames')).toEqual(['orders', 'typed']);
    });

    it('lists a table\'s columns with inspect(engine).get_columns()', () => {
      expect(checked(results, 'inspectColumns')).toEqual([
        { name: 'order_id', type: 'BIGINT', nullable: true },
        { name: 'order_date', type: 'DATE', nullable: true },
        { name: 'product', type: 'TEXT', nullable: true },
        { name: 'quantity', type: 'INTEGER', nullable: true },
        { name: 'unit_price', type: 'NUMERIC(10, 2)', nullable: true },
        { name: 'shipped_at', type: 'TIMESTAMP', nullable: true },
      ]);
    });

    it('reads a whole table with pandas.read_sql_table (reflection, then SELECT)', () => {
      expect(checked(results, 'pandasReadSqlTable')).toEqual({
        dtypes: {
          order_id: 'int64', order_date: 'datetime64[ns]', product: 'object', quantity: 'int64', unit_price: 'float64',
          shipped_at: 'datetime64[ns]',
        },
        rows: 1000,
        first: {
          order_id: int(0), order_date: py('pandas._libs.tslibs.timestamps.Timestamp', '2024-01-01T00:00:00'),
          product: py('str', 'widget 0'), quantity: int(0), unit_price: py('float', '0.0'),
          shipped_at: py('pandas._libs.tslibs.timestamps.Timestamp', '2024-01-01T00:00:00'),
        },
      });
    });

    it('gives sum() of an integer column PostgreSQL\'s type: bigint (int64 in pandas), numeric for bigint', () => {
      expect(checked(results, 'pandasSumOfIntegers')).toEqual({
        dtypes: { quantity: 'int64', ids: 'float64' },
        rows: [{ quantity: int(2997), ids: py('float', '499500.0') }],
      });
    });

    it('reads a query with parameters into a DataFrame with pandas.read_sql_query and a psycopg2 connection', () => {
      expect(checked(results, 'pandasReadSqlQueryWithPsycopg2')).toEqual({
        dtypes: { product: 'object', n: 'int64', most: 'int64', first: 'object' },
        rows: [0, 1, 2].map((i) => ({
          product: py('str', `widget ${i}`), n: int(10), most: int(6), first: py('datetime.date', `2024-01-0${i + 1}`),
        })),
      });
    });
  });
});
