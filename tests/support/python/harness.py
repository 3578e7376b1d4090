"""
What the driver programs of this folder share: key=value arguments, checks that each
report a value or an error, values described by their Python type, and the "@result"
line (JSON) that tests/support/clients.ts runChecks reads.

Before a query that must be cancelled, a program calls await_running(): it prints
"@await-running" and reads a line, which the test sends once the gateway reports the
query running.
"""
import datetime
import json
import sys
import threading

ARGS = dict(a.split('=', 1) for a in sys.argv[1:])
ONLY = set(ARGS['only'].split(',')) if 'only' in ARGS else None
_checks = []
_stdout = threading.Lock()


def check(fn):
    """Registers a check; run_checks() runs them in the order they were defined."""
    _checks.append(fn)
    return fn


def run_checks():
    results = {}
    for fn in _checks:
        if ONLY is not None and fn.__name__ not in ONLY:
            continue
        try:
            results[fn.__name__] = {'ok': True, 'value': fn()}
        except Exception as e:  # the failure is the check's result
            results[fn.__name__] = {'ok': False, 'error': describe_error(e)}
    with _stdout:
        print('@result ' + json.dumps(results), flush=True)


def type_name(v):
    t = type(v)
    return t.__qualname__ if t.__module__ == 'builtins' else f'{t.__module__}.{t.__qualname__}'


def describe(v):
    """A value as {type, value}: enough to assert both precisely. Lists and tuples recurse."""
    if v is None:
        return None
    if isinstance(v, (list, tuple)):
        return {'type': type_name(v), 'value': [describe(x) for x in v]}
    if isinstance(v, (bytes, bytearray, memoryview)):
        text = bytes(v).hex()
    elif isinstance(v, (datetime.date, datetime.time)):
        text = v.isoformat()
    elif isinstance(v, float):
        text = repr(v)
    else:
        text = str(v)
    return {'type': type_name(v), 'value': text}


def describe_row(names, row):
    return {n: describe(v) for n, v in zip(names, row)}


def describe_error(e):
    """The class of an exception, its SQLSTATE (psycopg2 pgcode, pyodbc args[0], or that of
    the DBAPI error SQLAlchemy wraps) and the server's message where there is one."""
    orig = getattr(e, 'orig', None)
    inner = orig if orig is not None else e
    sqlstate = getattr(inner, 'pgcode', None)
    message = None
    diag = getattr(inner, 'diag', None)
    if diag is not None and getattr(diag, 'message_primary', None):
        message = diag.message_primary
    if sqlstate is None and type(inner).__module__ == 'pyodbc' and len(inner.args) >= 2:
        sqlstate, message = inner.args[0], inner.args[1]
    if message is None:
        message = str(inner).strip()
    out = {'class': type_name(e), 'sqlstate': sqlstate, 'message': message}
    if orig is not None:
        out['orig'] = type_name(orig)
    return out


def expect_error(fn, *args, **kwargs):
    """Runs something that must raise; returns the description of what it raised."""
    try:
        fn(*args, **kwargs)
    except Exception as e:
        return describe_error(e)
    raise AssertionError('expected an error, got none')


def await_running():
    with _stdout:
        print('@await-running', flush=True)
    sys.stdin.readline()


def in_thread(fn):
    """Starts fn in a thread; join() returns what it raised as text, or None."""
    box = {}

    def body():
        try:
            fn()
        except Exception as e:
            box['error'] = f'{type_name(e)}: {e}'

    t = threading.Thread(target=body)
    t.start()

    class Handle:
        @staticmethod
        def join():
            t.join()
            return box.get('error')

    return Handle


def run_cancelled(cancel, execute, sql):
    """execute(sql) while another thread calls cancel() once the gateway runs it, and again
    every second until it ends (a CancelRequest that arrives before the query starts
    cancels nothing). Returns the error execute raised and what cancel raised, if anything."""
    finished = threading.Event()

    def cancel_when_running():
        await_running()
        cancel()
        while not finished.wait(1):
            cancel()

    canceller = in_thread(cancel_when_running)
    try:
        out = {'error': expect_error(execute, sql)}
    finally:
        finished.set()
    out['cancelError'] = canceller.join()
    return out
