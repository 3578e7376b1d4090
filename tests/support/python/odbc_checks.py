"""
Drives a tenantgate gateway with psqlODBC (Debian's odbc-postgresql, registered with
unixODBC as "PostgreSQL Unicode") through pyodbc, the way ODBC tools use it, and prints one
"@result <json>" line. psqlODBC connects through libpq: the root certificate for
SSLmode=verify-full comes from PGSSLROOTCERT in the environment.

  PGSSLROOTCERT=ca.crt /usr/bin/python3 odbc_checks.py host=... port=... db=... user=... password=... \
      endless=<a query that runs until cancelled> [only=a,b]
"""
import contextlib
import datetime
import decimal
import uuid

import pyodbc

from harness import ARGS, check, describe, describe_row, expect_error, run_cancelled, run_checks

pyodbc.native_uuid = True  # uuid columns as uuid.UUID, not str


def conn_str(**extra):
    opts = {'Driver': '{PostgreSQL Unicode}', 'Server': ARGS['host'], 'Port': ARGS['port'], 'Database': ARGS['db'],
            'Uid': ARGS['user'], 'Pwd': ARGS['password'], 'SSLmode': ARGS.get('sslmode', 'verify-full')}
    opts.update(extra)
    return ';'.join(f'{k}={v}' for k, v in opts.items())


@contextlib.contextmanager
def session(**extra):
    conn = pyodbc.connect(conn_str(**extra), timeout=10)
    try:
        yield conn
    finally:
        conn.close()


def one(cur, sql, *params):
    cur.execute(sql, *params)
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    if len(rows) != 1:
        raise AssertionError(f'expected one row, got {len(rows)}')
    return describe_row(names, rows[0])


@check
def connect():
    with session() as conn:
        return {'one': one(conn.cursor(), 'SELECT 1 AS one'), 'dbms': conn.getinfo(pyodbc.SQL_DBMS_NAME),
                'database': conn.getinfo(pyodbc.SQL_DATABASE_NAME), 'user': conn.getinfo(pyodbc.SQL_USER_NAME)}


@check
def plaintextRefused():
    return expect_error(pyodbc.connect, conn_str(SSLmode='disable'), timeout=10)


@check
def typedColumns():
    with session() as conn:
        return one(conn.cursor(), 'SELECT * FROM typed')


@check
def parameters():
    """? parameters of each Python type, each cast to its type (psqlODBC sends them untyped, and
    a bare untyped parameter is text in PostgreSQL)."""
    with session() as conn:
        return one(conn.cursor(), 'SELECT ?::int4 AS int, ?::text AS str, ?::numeric(12,4) AS decimal, ?::float8 AS float, '
                                  '?::date AS date, ?::timestamp AS datetime, ?::bool AS bool, ?::bytea AS bytes, ?::int4 AS none',
                   42, 'Grüße, ☕', decimal.Decimal('12345.6789'), 2.5, datetime.date(2024, 2, 29),
                   datetime.datetime(2024, 1, 2, 3, 4, 5, 123456), True, b'\x00\xff', None)


@check
def parametersInWhere():
    with session() as conn:
        return one(conn.cursor(), 'SELECT count(*) AS n FROM typed WHERE i = ? AND l = ? AND d = ? AND b = ? AND n = ? AND t = ? '
                                  'AND dt = ? AND ts = ? AND bin = ? AND u = ?',
                   42, 9007199254740993, 2.5, True, decimal.Decimal('12345.6789'), 'Grüße, ☕', datetime.date(2024, 2, 29),
                   datetime.datetime(2024, 1, 2, 3, 4, 5, 123456), b'\x00\xff', uuid.UUID('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'))


@check
def fetchmanyWithDeclareFetch():
    """UseDeclareFetch=1;Fetch=100: psqlODBC reads through DECLARE ... CURSOR and FETCH 100."""
    with session(UseDeclareFetch=1, Fetch=100) as conn:
        cur = conn.cursor()
        cur.execute('SELECT order_id, unit_price FROM orders ORDER BY order_id')
        batches, ids, total = [], [], decimal.Decimal(0)
        while True:
            rows = cur.fetchmany(250)
            if not rows:
                break
            batches.append(len(rows))
            ids.extend(r[0] for r in rows)
            total += sum(r[1] for r in rows)
        after = one(cur, 'SELECT count(*) AS n FROM orders')
        return {'batches': batches, 'inOrder': ids == list(range(1000)), 'total': str(total), 'after': after}


@check
def tables():
    with session() as conn:
        return sorted([r.table_schem, r.table_name, r.table_type] for r in conn.cursor().tables(tableType='TABLE'))


@check
def columns():
    with session() as conn:
        return [[r.column_name, r.type_name, r.data_type, r.ordinal_position] for r in conn.cursor().columns(table='orders')]


@check
def errors():
    """pyodbc begins a transaction (autocommit off); psqlODBC rolls a failed statement back
    to a savepoint of its own, so the transaction goes on."""
    with session() as conn:
        cur = conn.cursor()
        out = {'syntax': expect_error(cur.execute, 'SELEC 1'),
               'unknownTable': expect_error(cur.execute, 'SELECT * FROM no_such_table'),
               'write': expect_error(cur.execute, 'DELETE FROM orders'),
               'after': one(cur, 'SELECT ? AS five', 5)}
        conn.rollback()
        out['afterRollback'] = one(cur, 'SELECT 6 AS six')
        return out


@check
def cancel():
    """cursor.cancel() (SQLCancel) from another thread, repeated until the query ends."""
    with session() as conn:
        cur = conn.cursor()
        out = run_cancelled(cur.cancel, cur.execute, ARGS['endless'])
        conn.rollback()
        out['after'] = one(conn.cursor(), 'SELECT 7 AS seven')
        return out


if __name__ == '__main__':
    run_checks()
