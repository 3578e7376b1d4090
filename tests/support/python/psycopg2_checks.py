"""
Drives a tenantgate gateway with psycopg2 (libpq) the way Python tools use it, and prints
one "@result <json>" line. Every check opens its own connection.

  /usr/bin/python3 psycopg2_checks.py host=... port=... db=... user=... password=... \
      sslrootcert=... endless=<a query that runs until cancelled> [only=a,b]
"""
import contextlib
import datetime
import decimal
import uuid

import psycopg2
import psycopg2.extras

from harness import ARGS, check, describe, describe_error, describe_row, expect_error, run_cancelled, run_checks

psycopg2.extras.register_uuid()

UUID = uuid.UUID('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')


def connect(**extra):
    params = dict(host=ARGS['host'], port=ARGS['port'], dbname=ARGS['db'], user=ARGS['user'], password=ARGS['password'],
                  sslmode=ARGS.get('sslmode', 'verify-full'), sslrootcert=ARGS['sslrootcert'], connect_timeout=10)
    params.update(extra)
    return psycopg2.connect(**params)


@contextlib.contextmanager
def session(**extra):
    conn = connect(**extra)
    try:
        yield conn
    finally:
        conn.close()


def one(cur, sql, params=None):
    cur.execute(sql, params)
    names = [d.name for d in cur.description]
    rows = cur.fetchall()
    if len(rows) != 1:
        raise AssertionError(f'expected one row, got {len(rows)}')
    return describe_row(names, rows[0])


@check
def tls():
    with session() as conn:
        with conn.cursor() as cur:
            cur.execute('SELECT 1 AS one')
            value = cur.fetchone()[0]
        return {'one': describe(value), 'ssl_in_use': conn.info.ssl_in_use, 'protocol_is_tls': conn.info.ssl_attribute('protocol').startswith('TLSv1.')}


@check
def plaintextRefused():
    return expect_error(connect, sslmode='disable')


@check
def parameters():
    """One %s of each Python type; psycopg2 writes each as a literal of its PostgreSQL type."""
    with session() as conn, conn.cursor() as cur:
        return one(cur, 'SELECT %s AS int, %s AS bigint, %s AS float, %s::float8 AS float8, %s AS decimal, %s AS str, '
                        '%s AS date, %s AS datetime, %s AS datetimetz, %s AS bool, %s AS none, %s AS uuid, %s AS list',
                   (42, 2 ** 62, 2.5, 2.5, decimal.Decimal('12345.6789'), "O'Reilly ☕",
                    datetime.date(2024, 2, 29), datetime.datetime(2024, 1, 2, 3, 4, 5, 123456),
                    datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
                    True, None, UUID, [1, 2, 3]))


@check
def typedColumns():
    with session() as conn, conn.cursor() as cur:
        return one(cur, 'SELECT * FROM typed')


@check
def parametersInWhere():
    """The same values compared with the columns of `typed`."""
    with session() as conn, conn.cursor() as cur:
        return one(cur, 'SELECT count(*) AS n FROM typed WHERE i = %s AND l = %s AND s = %s AND d = %s AND f = %s AND b = %s '
                        'AND n = %s AND t = %s AND dt = %s AND ts = %s AND u = %s',
                   (42, 9007199254740993, -7, 2.5, 1.25, True, decimal.Decimal('12345.6789'), 'Grüße, ☕',
                    datetime.date(2024, 2, 29), datetime.datetime(2024, 1, 2, 3, 4, 5, 123456), UUID))


@check
def bytesParameter():
    """psycopg2 writes bytes as a literal in PostgreSQL's hex format: '\\x00ff'::bytea."""
    with session() as conn, conn.cursor() as cur:
        return one(cur, 'SELECT %s AS bytes, octet_length(%s) AS length, (SELECT count(*) FROM typed WHERE bin = %s) AS matches',
                   (b'\x00\xff', b'\x00\xff', b'\x00\xff'))


@check
def namedParameters():
    with session() as conn, conn.cursor() as cur:
        cur.execute('SELECT order_id, product FROM orders WHERE order_id < %(n)s AND product = %(p)s ORDER BY order_id',
                    {'n': 10, 'p': 'widget 1'})
        return [describe(r) for r in cur.fetchall()]


@check
def namedCursor():
    """A server-side cursor: DECLARE ... CURSOR WITHOUT HOLD, FETCH FORWARD itersize, CLOSE."""
    with session() as conn:
        with conn.cursor('orders_cursor') as cur:
            cur.itersize = 100
            cur.execute('SELECT order_id, unit_price FROM orders ORDER BY order_id')
            first = cur.fetchmany(5)
            rest = list(cur)
        after = one(conn.cursor(), 'SELECT count(*) AS n FROM orders')
        conn.commit()
        return {'first': [describe(r) for r in first], 'restRows': len(rest), 'last': describe(rest[-1]),
                'sum': str(sum(r[1] for r in first + rest)), 'after': after}


@check
def namedCursorScroll():
    """scroll() is MOVE n / MOVE ABSOLUTE n. tenantgate's cursors read forward only (README):
    moving back is 55000, as PostgreSQL answers for a NO SCROLL cursor."""
    with session() as conn:
        cur = conn.cursor('scroller')
        cur.execute('SELECT order_id FROM orders ORDER BY order_id')
        cur.scroll(10)
        a = cur.fetchone()
        cur.scroll(500, mode='absolute')
        b = cur.fetchone()
        back = expect_error(cur.scroll, -5)
        conn.rollback()
        return {'forward': [describe(a), describe(b)], 'back': back}


@check
def namedCursorWithHold():
    """withhold=True: DECLARE ... WITH HOLD, read on after the transaction commits."""
    with session() as conn:
        cur = conn.cursor('held', withhold=True)
        cur.execute('SELECT order_id FROM orders WHERE order_id < 30 ORDER BY order_id')
        head = cur.fetchmany(10)
        conn.commit()
        tail = cur.fetchall()
        cur.close()
        return {'head': len(head), 'tail': len(tail), 'last': describe(tail[-1])}


@check
def errorsInTransaction():
    """psycopg2 opens a transaction with the first statement: an error aborts it until rollback."""
    conn = connect()
    try:
        cur = conn.cursor()
        out = {}
        out['syntax'] = expect_error(cur.execute, 'SELEC 1')
        conn.rollback()
        out['unknownTable'] = expect_error(cur.execute, 'SELECT * FROM no_such_table')
        out['aborted'] = expect_error(cur.execute, 'SELECT 1')
        conn.rollback()
        out['write'] = expect_error(cur.execute, 'INSERT INTO orders (order_id) VALUES (%s)', (1,))
        conn.rollback()
        out['badValue'] = expect_error(cur.execute, "SELECT 'abc'::int")
        conn.rollback()
        out['after'] = one(cur, 'SELECT %s AS five', (5,))
        conn.commit()
        return out
    finally:
        conn.close()


@check
def errorsAutocommit():
    conn = connect()
    try:
        conn.autocommit = True
        cur = conn.cursor()
        out = {'unknownTable': expect_error(cur.execute, 'SELECT * FROM no_such_table'),
               'ddl': expect_error(cur.execute, 'CREATE TABLE t2 (x int)'),
               'after': one(cur, 'SELECT 6 AS six')}
        return out
    finally:
        conn.close()


@check
def readOnlySession():
    """set_session: psycopg2 begins each transaction with BEGIN ISOLATION LEVEL ... READ ONLY."""
    conn = connect()
    try:
        conn.set_session(isolation_level='REPEATABLE READ', readonly=True)
        return one(conn.cursor(), 'SELECT count(*) AS n FROM orders')
    finally:
        conn.close()


@check
def cancel():
    """conn.cancel() from another thread while execute() waits (repeated until the query ends:
    a CancelRequest that arrives before the query starts cancels nothing)."""
    conn = connect()
    try:
        cur = conn.cursor()
        out = run_cancelled(conn.cancel, cur.execute, ARGS['endless'])
        conn.rollback()
        out['after'] = one(cur, 'SELECT 7 AS seven')
        return out
    finally:
        conn.close()


@check
def statementTimeout():
    conn = connect()
    try:
        conn.autocommit = True
        cur = conn.cursor()
        cur.execute("SET statement_timeout = '300ms'")
        out = {'error': expect_error(cur.execute, ARGS['endless'])}
        cur.execute('RESET statement_timeout')
        out['after'] = one(cur, 'SELECT 8 AS eight')
        return out
    finally:
        conn.close()


if __name__ == '__main__':
    run_checks()
