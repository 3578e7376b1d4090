"""
Drives a tenantgate gateway with SQLAlchemy (postgresql+psycopg2) and pandas, the way
notebooks and BI scripts use them, and prints one "@result <json>" line.

  /usr/bin/python3 sqlalchemy_checks.py host=... port=... db=... user=... password=... sslrootcert=... [only=a,b]

On its first connection SQLAlchemy's PostgreSQL dialect asks the server for its version,
schema and settings (select pg_catalog.version(), select current_schema(), show
standard_conforming_strings, ...), and psycopg2's hstore support looks up pg_type.
"""
import warnings

import pandas
import psycopg2
import sqlalchemy as sa
from sqlalchemy.engine import URL

from harness import ARGS, check, describe, describe_row, expect_error, run_checks

warnings.simplefilter('ignore')  # pandas warns that a raw DBAPI connection is not SQLAlchemy


def engine(**kwargs):
    url = URL.create('postgresql+psycopg2', username=ARGS['user'], password=ARGS['password'], host=ARGS['host'],
                     port=int(ARGS['port']), database=ARGS['db'])
    return sa.create_engine(url, connect_args={'sslmode': ARGS.get('sslmode', 'verify-full'), 'sslrootcert': ARGS['sslrootcert']},
                            **kwargs)


def frame(df):
    """A DataFrame as its column dtypes and its rows, each value described by Python type."""
    return {'dtypes': {c: str(t) for c, t in df.dtypes.items()},
            'rows': [describe_row(list(df.columns), r) for r in df.itertuples(index=False, name=None)]}


@check
def connect():
    e = engine()
    try:
        with e.connect() as conn:
            one = conn.execute(sa.text('SELECT 1 AS one')).scalar_one()
        return {'one': describe(one), 'serverVersion': list(e.dialect.server_version_info),
                'defaultSchema': e.dialect.default_schema_name}
    finally:
        e.dispose()


@check
def connectWithoutHstore():
    """The same without psycopg2's hstore lookup: only the dialect's own first-connect queries."""
    e = engine(use_native_hstore=False)
    try:
        with e.connect() as conn:
            one = conn.execute(sa.text('SELECT 1 AS one')).scalar_one()
        return {'one': describe(one), 'defaultSchema': e.dialect.default_schema_name}
    finally:
        e.dispose()


@check
def textWithBoundParameters():
    e = engine()
    try:
        with e.connect() as conn:
            rows = conn.execute(sa.text('SELECT order_id, product, unit_price FROM orders WHERE order_id < :n AND product = :p '
                                        'ORDER BY order_id'), {'n': 10, 'p': 'widget 1'}).all()
            return [describe(tuple(r)) for r in rows]
    finally:
        e.dispose()


@check
def errorAndRecovery():
    e = engine()
    try:
        with e.connect() as conn:
            err = expect_error(conn.execute, sa.text('SELECT * FROM no_such_table'))
            # Outside a transaction block SQLAlchemy 1.4 rolls back after an error by itself.
            after = conn.execute(sa.text('SELECT :x AS x'), {'x': 5}).scalar_one()
            return {'error': err, 'after': describe(after)}
    finally:
        e.dispose()


@check
def inspectTableNames():
    e = engine()
    try:
        return sorted(sa.inspect(e).get_table_names())
    finally:
        e.dispose()


@check
def inspectColumns():
    e = engine()
    try:
        return [{'name': c['name'], 'type': str(c['type']), 'nullable': c['nullable']} for c in sa.inspect(e).get_columns('orders')]
    finally:
        e.dispose()


@check
def pandasReadSqlWithEngine():
    e = engine()
    try:
        return frame(pandas.read_sql('SELECT order_id, order_date, product, quantity, unit_price, shipped_at FROM orders '
                                     'WHERE order_id < 3 ORDER BY order_id', e))
    finally:
        e.dispose()


@check
def pandasReadSqlQueryWithPsycopg2():
    conn = psycopg2.connect(host=ARGS['host'], port=ARGS['port'], dbname=ARGS['db'], user=ARGS['user'], password=ARGS['password'],
                            sslmode=ARGS.get('sslmode', 'verify-full'), sslrootcert=ARGS['sslrootcert'])
    try:
        return frame(pandas.read_sql_query('SELECT product, count(*) AS n, max(quantity) AS most, min(order_date) AS first '
                                           'FROM orders WHERE order_id < %(n)s GROUP BY product ORDER BY product', conn, params={'n': 30}))
    finally:
        conn.close()


@check
def pandasSumOfIntegers():
    """sum() of an integer column is bigint in PostgreSQL: pandas makes it int64."""
    e = engine()
    try:
        return frame(pandas.read_sql('SELECT sum(quantity) AS quantity, sum(order_id) AS ids FROM orders', e))
    finally:
        e.dispose()


@check
def pandasReadSqlTable():
    """read_sql_table reflects the table through SQLAlchemy, then selects every column."""
    e = engine()
    try:
        df = pandas.read_sql_table('orders', e)
        return {'dtypes': {c: str(t) for c, t in df.dtypes.items()}, 'rows': len(df),
                'first': describe_row(list(df.columns), next(df.itertuples(index=False, name=None)))}
    finally:
        e.dispose()


if __name__ == '__main__':
    run_checks()
