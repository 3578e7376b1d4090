/**
 * psqlODBC (Debian's odbc-postgresql, "PostgreSQL Unicode" under unixODBC) through pyodbc
 * against a real gateway: SSLmode=verify-full with the root certificate in PGSSLROOTCERT
 * (psqlODBC connects through libpq), psqlODBC's own queries on connect, ? parameters,
 * fetchmany over UseDeclareFetch (DECLARE ... CURSOR WITH HOLD / FETCH 100), the catalog
 * functions cursor.tables() and cursor.columns(), errors and SQLCancel. All checks run in
 * one process (tests/support/python/odbc_checks.py); each `it` asserts one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checked, DRIVER_TABLES_SQL, requireOdbcDriver, requirePython, type CheckResults } from './support/clients.js';
import { addTestTenant, startGateway, type TestGateway } from './support/gateway.js';
import { runPython } from './support/python.js';
import { ENDLESS_QUERY } from './support/wait.js';

const PW = 'odbc-test-password';
const hasOdbc = requirePython('pyodbc') && requireOdbcDriver();

const py = (type: string, value: string) => ({ type, value });
const int = (n: number | string) => py('int', String(n));

/** pyodbc's error: its class, the SQLSTATE psqlODBC reports, and a message holding the server's. */
const odbcError = (cls: string, sqlstate: string, message: string | RegExp) => ({
  class: `pyodbc.${cls}`,
  sqlstate,
  message: typeof message === 'string' ? expect.stringContaining(message) : expect.stringMatching(message),
});

describe.runIf(hasOdbc)('psqlODBC through pyodbc', () => {
  let gw: TestGateway;
  let results: CheckResults;
  beforeAll(async () => {
    gw = await startGateway();
    await addTestTenant(gw.registry, 'acme', PW, { sql: DRIVER_TABLES_SQL });
    results = await runPython(gw, 'odbc_checks', { tenant: 'acme', password: PW }, { endless: ENDLESS_QUERY }, { PGSSLROOTCERT: gw.caFile });
  });
  afterAll(() => gw?.stop());

  it('connects with SSLmode=verify-full (psqlODBC\'s connect-time queries are answered)', () => {
    expect(checked(results, 'connect')).toEqual({ one: { one: int(1) }, dbms: 'PostgreSQL', database: 'acme', user: 'acme' });
  });

  it('is refused a plaintext connection', () => {
    expect(checked(results, 'plaintextRefused')).toEqual(odbcError('OperationalError', '08001', 'SSL connection is required by this server'));
  });

  it('reads every column type as the Python type pyodbc maps it to (bool as "1": psqlODBC\'s BoolsAsChar)', () => {
    expect(checked(results, 'typedColumns')).toEqual({
      i: int(42), l: int('9007199254740993'), s: int(-7), d: py('float', '2.5'), f: py('float', '1.25'), b: py('str', '1'),
      n: py('decimal.Decimal', '12345.6789'), t: py('str', 'Grüße, ☕'), dt: py('datetime.date', '2024-02-29'),
      ts: py('datetime.datetime', '2024-01-02T03:04:05.123456'), bin: py('bytes', '00ff'),
      u: py('uuid.UUID', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'), nothing: null,
    });
  });

  it('binds ? parameters of each Python type', () => {
    expect(checked(results, 'parameters')).toEqual({
      int: int(42), str: py('str', 'Grüße, ☕'), decimal: py('decimal.Decimal', '12345.6789'), float: py('float', '2.5'),
      date: py('datetime.date', '2024-02-29'), datetime: py('datetime.datetime', '2024-01-02T03:04:05.123456'),
      bool: py('str', '1'), bytes: py('bytes', '00ff'), none: null,
    });
  });

  it('compares ? parameters of each type with columns', () => {
    expect(checked(results, 'parametersInWhere')).toEqual({ n: int(1) });
  });

  it('reads 1,000 rows with fetchmany(250) through UseDeclareFetch=1;Fetch=100 (DECLARE/FETCH 100)', () => {
    expect(checked(results, 'fetchmanyWithDeclareFetch')).toEqual({
      batches: [250, 250, 250, 250], inOrder: true, total: '624375.00', after: { n: int(1000) },
    });
  });

  it('lists the tenant\'s tables with cursor.tables()', () => {
    expect(checked(results, 'tables')).toEqual([
      ['public', 'orders', 'TABLE'],
      ['public', 'typed', 'TABLE'],
    ]);
  });

  it('lists a table\'s columns with cursor.columns() (ODBC type codes; text is SQL_WLONGVARCHAR -10)', () => {
    expect(checked(results, 'columns')).toEqual([
      ['order_id', 'int8', -5, 1],
      ['order_date', 'date', 91, 2],
      ['product', 'text', -10, 3],
      ['quantity', 'int4', 4, 4],
      ['unit_price', 'numeric', 2, 5],
      ['shipped_at', 'timestamp', 93, 6],
    ]);
  });

  it('reports errors with their SQLSTATE, and the transaction and connection go on', () => {
    expect(checked(results, 'errors')).toEqual({
      syntax: odbcError('ProgrammingError', '42601', 'syntax error at or near "SELEC"'),
      unknownTable: odbcError('ProgrammingError', '42P01', 'relation "no_such_table" does not exist'),
      write: odbcError('ProgrammingError', '25006', 'cannot execute DELETE in a read-only transaction'),
      // A bare ? is untyped: PostgreSQL makes it text.
      after: { five: py('str', '5') },
      afterRollback: { six: int(6) },
    });
  });

  it('cancels a query with cursor.cancel() from another thread (57014), and the connection goes on', () => {
    expect(checked(results, 'cancel')).toEqual({
      error: odbcError('Error', '57014', 'canceling statement due to user request'),
      cancelError: null,
      after: { seven: int(7) },
    });
  });
});
