/**
 * pgjdbc (Debian's libpostgresql-jdbc-java) against a real gateway: TLS with verify-full,
 * the switch to a named server statement and binary results after prepareThreshold runs,
 * portals read with a fetch size, parameters and getObject of every type, cancel and
 * query timeout, errors with their SQLSTATE and recovery, DatabaseMetaData.
 * All checks run in one JVM (tests/support/java/JdbcChecks.java); each `it` asserts one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checked, DRIVER_TABLES_SQL, requireJava, type CheckResults } from './support/clients.js';
import { addTestTenant, startGateway, type TestGateway } from './support/gateway.js';
import { runJava } from './support/jdbc.js';
import { ENDLESS_QUERY } from './support/wait.js';

const PW = 'jdbc-test-password';
const hasJava = requireJava();

const j = (cls: string, value: string) => ({ class: cls, value });

/** getObject of every column of `typed` (DRIVER_TABLES_SQL), as pgjdbc maps PostgreSQL types to Java classes. */
const TYPED_OBJECTS = {
  i: j('java.lang.Integer', '42'),
  l: j('java.lang.Long', '9007199254740993'),
  s: j('java.lang.Integer', '-7'), // pgjdbc reads int2 as Integer
  d: j('java.lang.Double', '2.5'),
  f: j('java.lang.Float', '1.25'),
  b: j('java.lang.Boolean', 'true'),
  n: j('java.math.BigDecimal', '12345.6789'),
  t: j('java.lang.String', 'Grüße, ☕'),
  dt: j('java.sql.Date', '2024-02-29'),
  ts: j('java.sql.Timestamp', '2024-01-02 03:04:05.123456'),
  bin: j('byte[]', '00ff'),
  u: j('java.util.UUID', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
  nothing: null,
};

/** An order row as pgjdbc's getObject gives it (java.sql.Timestamp prints at least ".0"). */
function orderRow(i: number) {
  const shipped = new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString().slice(0, 19).replace('T', ' ');
  const day = new Date(Date.UTC(2024, 0, 1) + (i % 30) * 86_400_000).toISOString().slice(0, 10);
  return {
    order_id: j('java.lang.Long', String(i)),
    quantity: j('java.lang.Integer', String(i % 7)),
    unit_price: j('java.math.BigDecimal', (i * 1.25).toFixed(2)),
    order_date: j('java.sql.Date', day),
    product: j('java.lang.String', `widget ${i % 3}`),
    shipped_at: j('java.sql.Timestamp', `${shipped}.${String(i).padStart(6, '0').replace(/0+$/, '') || '0'}`),
  };
}

const sqlError = (sqlstate: string, message: string | RegExp) => ({
  sqlstate,
  message: typeof message === 'string' ? message : expect.stringMatching(message),
  class: 'org.postgresql.util.PSQLException',
});

describe.runIf(hasJava)('pgjdbc', () => {
  let gw: TestGateway;
  let results: CheckResults;
  beforeAll(async () => {
    gw = await startGateway();
    await addTestTenant(gw.registry, 'acme', PW, { sql: DRIVER_TABLES_SQL });
    results = await runJava(gw, 'JdbcChecks', { tenant: 'acme', password: PW }, { endless: ENDLESS_QUERY });
  });
  afterAll(() => gw?.stop());

  it('connects over TLS with sslmode=verify-full and sslrootcert', () => {
    expect(checked(results, 'tls')).toEqual({ one: j('java.lang.Integer', '1'), autocommit: true });
  });

  it('is refused a plaintext login with 28000', () => {
    expect(checked(results, 'plaintextRefused')).toEqual(
      sqlError('28000', 'SSL connection is required by this server (sslmode=require or stronger)'),
    );
  });

  it('reads every column type with getObject as the Java class pgjdbc maps it to', () => {
    expect(checked(results, 'getObjectTypes')).toEqual(TYPED_OBJECTS);
  });

  it('describes result columns (ResultSetMetaData) with PostgreSQL type names and JDBC types', () => {
    expect(checked(results, 'resultSetMetaData')).toEqual([
      { label: 'i', type: 4, typeName: 'int4', className: 'java.lang.Integer' },
      { label: 'l', type: -5, typeName: 'int8', className: 'java.lang.Long' },
      { label: 's', type: 5, typeName: 'int2', className: 'java.lang.Integer' },
      { label: 'd', type: 8, typeName: 'float8', className: 'java.lang.Double' },
      { label: 'f', type: 7, typeName: 'float4', className: 'java.lang.Float' },
      { label: 'b', type: -7, typeName: 'bool', className: 'java.lang.Boolean' },
      { label: 'n', type: 2, typeName: 'numeric', className: 'java.math.BigDecimal' },
      { label: 't', type: 12, typeName: 'text', className: 'java.lang.String' },
      { label: 'dt', type: 91, typeName: 'date', className: 'java.sql.Date' },
      { label: 'ts', type: 93, typeName: 'timestamp', className: 'java.sql.Timestamp' },
      { label: 'bin', type: -2, typeName: 'bytea', className: '[B' },
      { label: 'u', type: 1111, typeName: 'uuid', className: 'java.util.UUID' },
    ]);
  });

  it('binds a PreparedStatement parameter of each Java type and reads it back', () => {
    expect(checked(results, 'parameters')).toEqual(TYPED_OBJECTS);
  });

  it('binds the same values against columns without casts', () => {
    expect(checked(results, 'parametersInWhere')).toBe('1');
  });

  it('keeps every digit of a BigDecimal bound where the SQL gives no scale', () => {
    expect(checked(results, 'unconstrainedNumeric')).toEqual({
      '12345.6789': {
        bare: j('java.math.BigDecimal', '12345.6789'),
        cast: j('java.math.BigDecimal', '12345.6789'),
        matches: j('java.lang.Long', '1'),
      },
      '123456789012345678901.5': {
        bare: j('java.math.BigDecimal', '123456789012345678901.5'),
        cast: j('java.math.BigDecimal', '123456789012345678901.5'),
        matches: j('java.lang.Long', '0'),
      },
    });
  });

  it('binds and reads java.time LocalDate and LocalDateTime', () => {
    expect(checked(results, 'javaTime')).toEqual([
      [j('java.time.LocalDate', '2024-02-29'), j('java.time.LocalDateTime', '2024-01-02T03:04:05.123456')],
    ]);
  });

  it('reads the same values before and after pgjdbc switches to a named statement and binary results', () => {
    const runs = checked(results, 'prepareThreshold') as { serverPrepared: boolean; formats: string; row: unknown }[];
    expect(runs.map((r) => r.row)).toEqual(Array.from({ length: 10 }, (_, k) => orderRow(100 + k)));
    // The switch happened: isUseServerPrepare() says "the next run is server-prepared" from the
    // 4th run on; from the 6th, int8, int4, numeric, date and timestamp arrive binary (text stays text).
    expect(runs.map((r) => r.serverPrepared)).toEqual([false, false, false, true, true, true, true, true, true, true]);
    expect(runs.map((r) => r.formats)).toEqual([...Array(5).fill('tttttt'), ...Array(5).fill('bbbbtb')]);
  });

  it('reads two results through portals 100 rows at a time, interleaved (setFetchSize, autocommit off)', () => {
    expect(checked(results, 'fetchSize')).toEqual({
      rows: 1000, sumA: 499500, sumB: 499500, inOrder: true, secondEnded: true,
      countAfter: j('java.lang.Long', '1000'), fetchSize: 100,
    });
  });

  it('reports errors with their SQLSTATE in autocommit mode, and the connection goes on', () => {
    expect(checked(results, 'errorsAutocommit')).toEqual({
      syntax: sqlError('42601', /syntax error/),
      unknownTable: sqlError('42P01', /no_such_table/),
      write: sqlError('25006', 'cannot execute DELETE in a read-only transaction'),
      // PostgreSQL names the command CREATE TABLE; the SQLSTATE is what clients act on.
      ddl: sqlError('25006', /^cannot execute CREATE( TABLE)? in a read-only transaction$/),
      // pgjdbc declares a String parameter varchar, so the cast to integer happens in the
      // query (PostgreSQL: 'invalid input syntax for type integer: "abc"'); the message names the value.
      badParameter: sqlError('22P02', /["']abc["']/),
      afterBadParameter: j('java.lang.Integer', '17'),
      after: j('java.lang.Integer', '5'),
    });
  });

  it('keeps a failed transaction failed (25P02) until rollback, then goes on', () => {
    expect(checked(results, 'errorsInTransaction')).toEqual({
      before: j('java.lang.Long', '1000'),
      unknownTable: sqlError('42P01', /no_such_table/),
      aborted: sqlError('25P02', 'current transaction is aborted, commands ignored until end of transaction block'),
      afterRollback: j('java.lang.Integer', '2'),
      write: sqlError('25006', 'cannot execute UPDATE in a read-only transaction'),
      syntax: sqlError('42601', /syntax error/),
      afterSecondRollback: j('java.lang.Integer', '3'),
      autocommitAgain: j('java.lang.Integer', '4'),
    });
  });

  it('keeps a server-prepared statement usable after one of its runs fails', () => {
    const runs = checked(results, 'errorInServerPreparedStatement') as unknown[];
    expect(runs).toEqual([1, 2, 3, 4, 5, 6, 'error', 8, 9, 10].map((v) =>
      v === 'error' ? sqlError('22P02', /["']x["']/) : j('java.lang.Integer', String(Number(v) + 1)),
    ));
  });

  it('rolls back to a savepoint after an error', () => {
    expect(checked(results, 'savepoints')).toEqual({
      first: j('java.lang.Integer', '1'),
      error: sqlError('42P01', /no_such_table/),
      afterRollbackTo: j('java.lang.Integer', '2'),
    });
  });

  it('keeps the transaction going after an error with autosave=always', () => {
    expect(checked(results, 'autosave')).toEqual({
      first: j('java.lang.Integer', '1'),
      error: sqlError('42P01', /no_such_table/),
      sameTransaction: j('java.lang.Integer', '2'),
    });
  });

  it('stops a query at setQueryTimeout with 57014 (pgjdbc sends a CancelRequest), and the connection goes on', () => {
    expect(checked(results, 'queryTimeout')).toEqual({
      error: sqlError('57014', 'canceling statement due to user request'),
      after: j('java.lang.Integer', '6'),
    });
  });

  it('cancels a query with Statement.cancel() from another thread, and the connection goes on', () => {
    expect(checked(results, 'cancelFromAnotherThread')).toEqual({
      error: sqlError('57014', 'canceling statement due to user request'),
      cancelError: null,
      after: j('java.lang.Integer', '7'),
    });
  });

  it('answers DatabaseMetaData: product, version, catalog, schema (current_schema())', () => {
    expect(checked(results, 'databaseMetaData')).toEqual({
      product: 'PostgreSQL', major: 16, catalog: 'acme', schema: 'public', readOnly: false, user: 'acme',
    });
  });

  it('lists the tenant\'s tables with DatabaseMetaData.getTables', () => {
    expect(checked(results, 'metaDataTables')).toEqual([
      ['public', 'orders', 'TABLE'],
      ['public', 'typed', 'TABLE'],
    ]);
  });

  it('lists a table\'s columns with DatabaseMetaData.getColumns', () => {
    expect(checked(results, 'metaDataColumns')).toEqual([
      ['order_id', -5, 'int8', 1],
      ['order_date', 91, 'date', 2],
      ['product', 12, 'text', 3],
      ['quantity', 4, 'int4', 4],
      ['unit_price', 2, 'numeric', 5],
      ['shipped_at', 93, 'timestamp', 6],
    ]);
  });

  it('answers getSchemas, getCatalogs, getPrimaryKeys, getImportedKeys, getIndexInfo and getTypeInfo', () => {
    // The tenant's own database and schemas; no keys or indexes (DuckDB snapshots have none to show).
    expect(checked(results, 'metaDataMore')).toEqual({
      schemas: ['information_schema', 'pg_catalog', 'public'], catalogs: ['acme'], primaryKeys: 0, importedKeys: 0, indexes: 0,
      manyTypes: true, int4: true, text: true,
    });
  });

  it('reads interval, json and array columns as PGInterval, PGobject and java.sql.Array', () => {
    expect(checked(results, 'extraTypes')).toEqual({
      interval: j('org.postgresql.util.PGInterval', '0 years 0 mons 1 days 2 hours 3 mins 4.0 secs'),
      json: j('org.postgresql.util.PGobject', '{"a":1}'),
      array: { baseTypeName: 'int4', elements: j('java.lang.Integer[]', '[1, 2, null]') },
    });
  });
});
