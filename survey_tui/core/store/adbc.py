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
from collections.abc import Callable, Iterable, Iterator, Mapping
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
) -> Iterator[pl.DataFrame] | None:
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
) -> Iterator[pl.DataFrame]:
    import adbc_driver_manager as adbc

    try:
        for sql, params in queries:
            # no local holds the frame while the caller has it: once the caller drops it, its Arrow batch is
            # freed before the next query runs, so only one result is ever in memory
            yield _frame(adbc.AdbcStatement(connection), sql, params, schema, options)
    finally:
        with contextlib.suppress(adbc.Error):
            connection.close()
            database.close()


def _frame(
    statement: Any, sql: str, params: tuple[Any, ...], schema: Mapping[str, Any], options: Mapping[str, str]
) -> pl.DataFrame:
    """One query's result (the statement is closed here) as a frame cast to `schema`."""
    import polars as pl

    try:
        if options:
            statement.set_options(**options)
        statement.set_sql_query(sql)
        _bind(statement, params)
        stream, _ = statement.execute_query()
        frame = pl.DataFrame(stream)
    finally:
        statement.close()
    if frame.width == 0:  # a result with no batch at all comes without its columns
        frame = pl.DataFrame(schema={name: pl.Null for name in schema})
    return frame.select(pl.col(name).cast(dtype) for name, dtype in schema.items())


def drain(bulk: Iterator[Any], pending: list[Any]) -> Iterator[Any]:
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
