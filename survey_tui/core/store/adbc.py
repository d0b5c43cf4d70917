"""Query results as polars frames through ADBC's low-level API: Arrow columns from C, no Python object per value.

The drivers' DB-API layer (``adbc_driver_sqlite.dbapi``) imports pyarrow, and with it pyarrow.dataset and
pandas: 0.45 s and about 90 MB before the first row. The low-level `adbc_driver_manager` objects hand over an
Arrow C stream that polars reads directly (the parameters go the other way, as a one-row polars frame), so a
read costs what the data costs: opening a connection and importing the driver is about 5 ms.

Both backends use it (`Store.read_frames`); each falls back to its own row-by-row path when the driver is not
installed or refuses a query (`None` here), so nothing depends on ADBC being present.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

#: SQLite's driver infers each column's type from the first batch (1,024 rows by default): a column NULL at
#: first and text later (`special`) would fail as a mismatch, so the whole result is one batch
SQLITE_OPTIONS = {"adbc.sqlite.query.batch_rows": str(1 << 30)}


def _bind(statement: Any, params: tuple[Any, ...]) -> None:
    import polars as pl

    if not params:
        return
    row = pl.DataFrame({f"p{i}": [int(v) if isinstance(v, bool) else v] for i, v in enumerate(params)})
    statement.bind_stream(row.__arrow_c_stream__())


def frames(
    connect: Callable[[], Any],
    queries: Iterable[tuple[str, tuple[Any, ...]]],
    schema: Mapping[str, Any],
    options: Mapping[str, str] | None = None,
) -> Generator[pl.DataFrame] | None:
    """Each (sql, params) result as a frame cast to `schema`, all on one connection; None when the driver
    cannot be used at all (not installed, cannot open), so the caller reads another way.

    `connect` returns an `adbc_driver_manager.AdbcDatabase` (e.g. ``adbc_driver_sqlite.connect(uri)``). A
    query the driver refuses part-way raises `adbc_driver_manager.Error`; callers fall back on it.
    """
    try:
        import adbc_driver_manager as adbc
    except ImportError:
        return None
    try:
        database = connect()
        connection = adbc.AdbcConnection(database)
    except (ImportError, adbc.Error):
        return None
    return _frames(database, connection, queries, schema, options or {})


def _frames(
    database: Any,
    connection: Any,
    queries: Iterable[tuple[str, tuple[Any, ...]]],
    schema: Mapping[str, Any],
    options: Mapping[str, str],
) -> Generator[pl.DataFrame]:
    """Each query's frame in order, the next query run on a worker thread while the caller works on this one.

    Running the query is most of a read (SQLite's driver steps through every row and builds the Arrow batch
    in `execute_query`, and releases the GIL meanwhile): in a dataset build it overlaps the caller's work on
    the question before, about a fifth off the build at 100,000 interviews. The connection is never used by
    two threads at once: the next query starts only once this result is taken in and its statement closed.
    Taking in (polars' copy of the batch) stays on the caller's thread, so polars allocates from one
    thread's arena. At most two results are alive: the caller's frame and the next query's batch; no local
    here holds a frame while the caller has it. A query the driver refuses when it runs raises when its frame
    is asked for, with nothing run past it; one refused while it is prepared (on the caller's thread, e.g. a
    parameter it cannot bind) raises one frame early, the frame before it never given: either way `drain`'s
    count of frames given stays exact and the slow path reads each frame not given, once. A statement is
    closed only once its query has finished (an interrupt while the caller waits for it leaves it to the
    finally, after the worker is joined), and a result never taken in is released before its statement.
    """
    import adbc_driver_manager as adbc

    pending = iter(queries)
    ahead: tuple[Any, Future[Any]] | None = None
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="adbc-read") as runner:

            def run_next() -> tuple[Any, Future[Any]] | None:
                query = next(pending, None)
                if query is None:
                    return None
                statement = _prepared(adbc.AdbcStatement(connection), *query, options)
                try:
                    return statement, runner.submit(_execute, statement)
                except BaseException:  # not running (e.g. the interpreter is shutting down): nothing holds it
                    statement.close()
                    raise

            ahead = run_next()
            while ahead is not None:
                statement, running = ahead
                # `ahead` keeps the statement until it is closed: an error or interrupt while its query still
                # runs leaves it to the finally below, which closes it only once the query has finished
                given = [_taken_in(running.result(), schema)]
                try:
                    statement.close()
                finally:
                    ahead = None
                ahead = run_next()
                yield given.pop()
    finally:
        # leaving the executor waited for the query running ahead, unless a second interrupt cut that short:
        # then nothing is closed under it (the process is going down)
        if ahead is None or ahead[1].done():
            with contextlib.suppress(adbc.Error):
                if ahead is not None:
                    _discard(*ahead)
            with contextlib.suppress(adbc.Error):
                connection.close()
            with contextlib.suppress(adbc.Error):
                database.close()


def _discard(statement: Any, running: Future[Any]) -> None:
    """Close a statement whose query has finished but whose result was never taken in: its stream first, as
    the SQLite driver's stream points into its statement (released after it, it writes to freed memory)."""
    try:
        if not running.cancelled() and running.exception() is None:
            running.result().release()
    finally:
        statement.close()


def _prepared(statement: Any, sql: str, params: tuple[Any, ...], options: Mapping[str, str]) -> Any:
    try:
        if options:
            statement.set_options(**options)
        statement.set_sql_query(sql)
        _bind(statement, params)
    except BaseException:
        statement.close()
        raise
    return statement


def _execute(statement: Any) -> Any:
    """The query run, its result as an Arrow C stream (on the worker thread)."""
    stream, _ = statement.execute_query()
    return stream


def _taken_in(stream: Any, schema: Mapping[str, Any]) -> pl.DataFrame:
    """A query's Arrow stream as a frame cast to `schema`."""
    import polars as pl

    frame = pl.DataFrame(stream)
    if frame.width == 0:  # a result with no batch at all comes without its columns
        frame = pl.DataFrame(schema={name: pl.Null for name in schema})
    return frame.select(pl.col(name).cast(dtype) for name, dtype in schema.items())


def drain(bulk: Generator[Any], pending: list[Any]) -> Iterator[Any]:
    """Yield `bulk`'s frames; the generator's return value is what is still to read (every parameter tuple
    from the first one the driver refused, or nothing), for the caller's slow path: `rest = yield from
    drain(bulk, pending)`."""
    import adbc_driver_manager

    done = 0
    try:
        while True:
            try:
                yield next(bulk)  # unnamed: no frame outlives the caller's use of it (see `_frames`)
            except StopIteration:
                return []
            done += 1
    except adbc_driver_manager.Error:  # a type it cannot bind, a file it cannot open read-only: the slow way
        return pending[done:]
    finally:
        bulk.close()  # now, not when collected: a query run ahead is waited for and its connection closed
