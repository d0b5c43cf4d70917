"""The study's store on a PostgreSQL server (psycopg 3): one schema, many interviewers writing at once.

The same records, migrations and methods as the embedded SQLite store (base.py, schema.py); what differs:

- Feature modules write SQLite-style SQL with `?` placeholders. `_translate` turns them into psycopg's `%s`
  (escaping a literal `%`), LIKE into ILIKE (SQLite's LIKE ignores case), and an INSERT into a table with an
  identity `id` gains `RETURNING id` so `cursor.lastrowid` works as on SQLite. Values are bound client-side
  (psycopg's ClientCursor), so an untyped NULL or a `LIMIT ?` reads as SQLite reads it.
- The schema version lives in the table `survey_schema_migrations` (one row per applied migration); a
  database of a newer schema is refused, one of an older schema is migrated under an advisory lock, so two
  clients starting at once do not both migrate.
- Each transaction is BEGIN ... COMMIT on the connection (READ COMMITTED); `lock(name)` takes a transaction
  advisory lock (quota cells are counted under one), `lock_row` is SELECT ... FOR UPDATE, and `skip_locked`
  gives row leases for handing out respondents.
- The server going away mid-write becomes a StoreError that says so; the write was not stored (or, if the
  COMMIT was sent but never acknowledged, it may be: the caller never showed it as saved). The next call
  reconnects.
- Passwords never appear in messages (`redact`); use libpq's password or service file.
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from survey_tui.core.store.base import StoreBase, StoreError, StoreUnavailable
from survey_tui.core.store.schema import MIGRATIONS, postgresql_statements
from survey_tui.i18n import _

if TYPE_CHECKING:
    import polars as pl

VERSION_TABLE = "survey_schema_migrations"
#: advisory lock key (any constant) held while migrating
_MIGRATION_LOCK = 7_013_001
CONNECT_TIMEOUT_S = 5

URL_SCHEMES = ("postgresql", "postgres")


def is_server_url(text: str | None) -> bool:
    return bool(text) and urlsplit(str(text)).scheme in URL_SCHEMES


def url_password(url: str) -> str | None:
    """The password written into a URL (netloc or ?password=), or None."""
    parts = urlsplit(url)
    if parts.password:
        return parts.password
    return next((v for k, v in parse_qsl(parts.query) if k == "password"), None)


def redact(url: str) -> str:
    """The URL for messages: any password replaced by ***."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.split(':', 1)[0]}:***@{host}"
    query = re.sub(r"(^|&)password=[^&]*", r"\1password=***", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


# -- SQL translation ---------------------------------------------------------------------------------
_SEGMENTS = re.compile(r"('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*)")
_LIKE = re.compile(r"\bLIKE\b", re.IGNORECASE)
_NAMED = re.compile(r"(?<!:):([A-Za-z_]\w*)")
_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)", re.IGNORECASE)


def _adbc_database(url: str) -> Any:
    import adbc_driver_postgresql

    return adbc_driver_postgresql.connect(url)


def _numbered(sql: str) -> str:
    """SQLite-style SQL with `?` placeholders as the ``$1, $2`` ones ADBC's PostgreSQL driver binds."""
    numbered, count = [], 0
    for i, part in enumerate(_SEGMENTS.split(sql)):
        if not i % 2:
            pieces = part.split("?")
            part = pieces[0]
            for piece in pieces[1:]:
                count += 1
                part += f"${count}{piece}"
            part = _LIKE.sub("ILIKE", part)
        numbered.append(part)
    return "".join(numbered)


@functools.lru_cache(maxsize=2048)  # the same few statements run for every answer
def _translate(sql: str, named: bool) -> str:
    """SQLite-style SQL (see the module docstring) as psycopg SQL with parameters."""
    out = []
    for i, part in enumerate(_SEGMENTS.split(sql)):
        if i % 2:  # a quoted literal, identifier or comment: as it is, apart from psycopg's own % escape
            out.append(part.replace("%", "%%"))
            continue
        part = part.replace("%", "%%")
        part = _NAMED.sub(r"%(\1)s", part) if named else part.replace("?", "%s")
        out.append(_LIKE.sub("ILIKE", part))
    return "".join(out)


def _params(params: Sequence[Any] | Mapping[str, Any] | None) -> Any:
    """Booleans as 0/1 (the schema keeps flags as INTEGER, as SQLite does)."""
    if params is None:
        return None
    if isinstance(params, Mapping):
        return {k: int(v) if isinstance(v, bool) else v for k, v in params.items()}
    return [int(v) if isinstance(v, bool) else v for v in params]


class Row(tuple):  # noqa: SLOT001 - like sqlite3.Row: by position, by column name, and dict(row)
    """A result row read by position or by column name, as sqlite3.Row is."""

    _names: tuple[str, ...]

    def __new__(cls, values: Sequence[Any], names: tuple[str, ...]) -> Row:
        row = super().__new__(cls, values)
        row._names = names
        return row

    def keys(self) -> list[str]:
        return list(self._names)

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            try:
                return tuple.__getitem__(self, self._names.index(key))
            except ValueError:
                raise IndexError(f"no column {key!r}") from None
        return tuple.__getitem__(self, key)


def _row_factory(cursor: Any) -> Any:
    names = tuple(d.name for d in cursor.description or ())
    return lambda values: Row(values, names)


class Cursor:
    """A psycopg cursor with sqlite3's cursor surface (fetchone, fetchall, rowcount, lastrowid, iteration)."""

    def __init__(self, raw: Any, lastrowid: int | None = None) -> None:
        self._raw = raw
        self.lastrowid = lastrowid
        self.rowcount = raw.rowcount

    def fetchone(self) -> Row | None:
        return self._raw.fetchone() if self._raw.description else None

    def fetchall(self) -> list[Row]:
        return self._raw.fetchall() if self._raw.description else []

    def __iter__(self) -> Iterator[Row]:
        return iter(self.fetchall())


class Connection:
    """What `store.transaction()` yields on PostgreSQL: `execute` and `executemany` taking SQLite-style SQL."""

    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Cursor:
        return self._store._execute(sql, params)

    def executemany(self, sql: str, rows: Any) -> Cursor:
        return self._store._executemany(sql, rows)


#: rows per statement when many rows are inserted at once (see PostgresStore._executemany)
MULTI_ROW_CHUNK = 1000
_MULTI_ROW = re.compile(
    r"^\s*(?P<head>INSERT\s+INTO\s+\w+\s*\([^)]*\)\s*VALUES)\s*(?P<values>\((?:\s*%s\s*,)*\s*%s\s*\))"
    r"(?P<tail>\s+ON\s+CONFLICT\s*(?:\([^)]*\))?\s*DO\s+NOTHING)?\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)


def _one_type_per_column(rows: Sequence[Sequence[Any]]) -> bool:
    """True when every column holds one Python type (or None) across `rows`: PostgreSQL resolves a multi-row
    VALUES column to one type, so an integer above a text would turn the text into an integer (an error),
    where one row per statement is cast to the column's type each time."""
    seen: dict[int, type] = {}
    for row in rows:
        for i, value in enumerate(row):
            if value is not None and seen.setdefault(i, type(value)) is not type(value):
                return False
    return True


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def connect_failure(url: str, exc: BaseException) -> StoreError:
    """Why a connection failed, in words (never with the password), and what to do."""
    text = str(exc)
    where = redact(url)
    if "password authentication failed" in text or "no password supplied" in text:
        return StoreError(
            _(
                "{where}: the server refused these credentials ({error}); check the user name and the "
                "password in your libpq password file (~/.pgpass) or service file; nothing was changed"
            ).format(where=where, error=_first_line(exc))
        )
    if "does not exist" in text and "database" in text:
        return StoreError(
            _("{where}: {error}; create it first (createdb), then 'survey-tui server setup'").format(
                where=where, error=_first_line(exc)
            )
        )
    return StoreUnavailable(
        _(
            "{where}: cannot reach the study server ({error}); check that it is running and that the "
            "host and port are right; nothing was changed"
        ).format(where=where, error=_first_line(exc))
    )


class PostgresStore(StoreBase):
    """One connection to a study's PostgreSQL database; safe to share between threads (calls are serialised).

    Opening refuses a database of a newer schema or one holding another program's tables, and migrates an
    older (or empty) one when this user may; a user who may not (an interviewer) is told to ask for
    `survey-tui server setup`.
    """

    dialect = "postgresql"

    def __init__(self, url: str, migrations: list[str] | None = None, *, migrate: bool = True) -> None:
        self.url = url
        self.path = None  # there is no file; messages use `where`
        self._migrations = MIGRATIONS if migrations is None else migrations
        self._lock = threading.RLock()
        self._depth = 0
        self._identity: set[str] = set()
        self._conn = self._connect()
        try:
            self._check_and_migrate(migrate)
            self._identity = self._identity_tables()
        except BaseException:
            self._conn.close()
            raise

    # -- connection ------------------------------------------------------------------------------
    def _connect(self) -> Any:
        import psycopg

        try:
            conn = psycopg.connect(
                self.url,
                autocommit=True,
                cursor_factory=psycopg.ClientCursor,
                connect_timeout=CONNECT_TIMEOUT_S,
                application_name="survey-tui",
            )
        except psycopg.Error as exc:
            raise connect_failure(self.url, exc) from None
        conn.row_factory = _row_factory
        _numeric_as_float(conn)
        return conn

    def _ensure_connected(self) -> None:
        """After the server went away: one reconnect attempt before the next call."""
        if self._conn.closed or self._conn.broken:
            with contextlib.suppress(Exception):  # it is gone either way
                self._conn.close()
            self._conn = self._connect()

    def _gone(self, exc: BaseException) -> StoreError:
        return StoreUnavailable(
            _(
                "{where}: the study server is gone ({error}); this change was not stored (nothing "
                "half-written); it can be given again once the server is back"
            ).format(where=self.where, error=_first_line(exc))
        )

    @property
    def where(self) -> str:
        return redact(self.url)

    # -- schema ----------------------------------------------------------------------------------
    def _version_now(self) -> int | None:
        """The applied schema version, or None when the version table is missing."""
        exists = self._raw("SELECT to_regclass(%s)", (VERSION_TABLE,)).fetchone()[0]
        if exists is None:
            return None
        return int(self._raw(f"SELECT COALESCE(MAX(version), 0) FROM {VERSION_TABLE}").fetchone()[0])

    def _check_and_migrate(self, migrate: bool) -> None:
        target = len(self._migrations)
        current = self._version_now()
        if current is not None and current > target:
            raise self._newer(current, target)
        if current == target:
            return
        if current is None:
            foreign = [r[0] for r in self._raw("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]
            if foreign:
                raise StoreError(
                    _(
                        "{where}: holds tables of another program ({tables}), not a survey database; give an "
                        "empty database (createdb) to 'survey-tui server setup'"
                    ).format(where=self.where, tables=", ".join(sorted(foreign)[:3]))
                )
        if not migrate:
            raise StoreError(
                _(
                    "{where}: the study database needs setting up or upgrading (schema {current} -> {target}); "
                    "ask whoever runs the server to run 'survey-tui server setup URL'"
                ).format(where=self.where, current=current or 0, target=target)
            )
        import psycopg

        try:
            with self._lock:
                self._raw("BEGIN")
                try:
                    self._raw("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                    self._raw(f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version INTEGER PRIMARY KEY, at TEXT)")
                    current = self._version_now() or 0  # another client may have migrated meanwhile
                    if current > target:
                        raise self._newer(current, target)
                    for version in range(current, target):
                        for statement in postgresql_statements(self._migrations[version]):
                            self._raw(statement)
                        self._raw(f"INSERT INTO {VERSION_TABLE} (version, at) VALUES (%s, now()::text)", (version + 1,))
                    self._raw("COMMIT")
                except BaseException:
                    self._raw_rollback()
                    raise
        except psycopg.errors.InsufficientPrivilege as exc:
            raise StoreError(
                _(
                    "{where}: the study database needs setting up or upgrading (schema {current} -> {target}) "
                    "and this user may not ({error}); ask whoever runs the server to run "
                    "'survey-tui server setup URL'"
                ).format(where=self.where, current=current or 0, target=target, error=_first_line(exc))
            ) from None

    def _newer(self, current: int, target: int) -> StoreError:
        return StoreError(
            _(
                "{path} was written by a newer survey-tui (schema {current}, this one knows {target}); "
                "upgrade survey-tui to open it"
            ).format(path=self.where, current=current, target=target)
            + _("; nothing was changed")
        )

    def _identity_tables(self) -> set[str]:
        rows = self._raw(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND column_name = 'id' AND is_identity = 'YES'"
        ).fetchall()
        return {r[0] for r in rows}

    @property
    def schema_version(self) -> int:
        with self._lock:
            return self._version_now() or 0

    def tables(self) -> list[str]:
        rows = self.query(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> ? ORDER BY 1",
            (VERSION_TABLE,),
        )
        return [r[0] for r in rows]

    def columns(self, table: str) -> list[str]:
        rows = self.query(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = ? ORDER BY ordinal_position",
            (table,),
        )
        return [r[0] for r in rows]

    def integrity_check(self) -> str:
        """The server keeps its own consistency; 'ok' once it answers (the same word as SQLite's check)."""
        self.query("SELECT 1")
        return "ok"

    def may_read(self, table: str) -> bool:
        return bool(self.query("SELECT has_table_privilege(current_user, ?, 'SELECT')", (table,))[0][0])

    #: the tables an erasure leaves dead row versions of (what VACUUM must reclaim)
    ERASED_TABLES = ("respondent_contacts", "answers", "audit_log")

    def may_vacuum(self) -> bool:
        """Whether this user may VACUUM the study's tables: their owner, the database's owner or a superuser
        (PostgreSQL skips a table anyone else names with only a warning, so this is asked, not tried)."""
        row = self.query(
            "SELECT COALESCE((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), FALSE)"
            " OR pg_has_role(current_user, (SELECT datdba FROM pg_database WHERE datname = current_database()),"
            " 'USAGE')"
            " OR COALESCE((SELECT bool_and(pg_has_role(current_user, c.relowner, 'USAGE')) FROM pg_class c"
            " WHERE c.oid IN (SELECT to_regclass(t) FROM unnest(?::text[]) AS t)), FALSE)",
            (list(self.ERASED_TABLES),),
        )
        return bool(row[0][0])

    def erase_traces(self) -> bool:
        """After an erasure: VACUUM the contact, answer and audit tables, so the erased rows' dead versions are
        reclaimed rather than left in the table files. Only the owner may (see `may_vacuum`); anyone else (a
        supervisor erasing a respondent) leaves a request in `maintenance_requests` for the owner's
        `survey-tui server maintain`, and gets False. Not inside a transaction (VACUUM cannot run in one)."""
        with self._lock:
            if self._depth:
                return False
            if self.may_vacuum():
                self.vacuum_erased()
                return True
            with self.transaction() as conn:
                conn.execute(
                    "INSERT INTO maintenance_requests (requested_at, requested_by, tables)"
                    " VALUES (now()::text, current_user, ?)",
                    (" ".join(self.ERASED_TABLES),),
                )
            return False

    def vacuum_erased(self) -> list[str]:
        """VACUUM the erased tables (as their owner) and close every open maintenance request; the tables done."""
        import psycopg

        with self._lock:
            if self._depth:
                raise StoreError("VACUUM cannot run inside a transaction")
            try:
                self._ensure_connected()
                for table in self.ERASED_TABLES:
                    self._raw(f"VACUUM {table}")
            except psycopg.OperationalError as exc:
                raise self._gone(exc) from None
            with self.transaction() as conn:
                conn.execute(
                    "UPDATE maintenance_requests SET done_at = now()::text, done_by = current_user"
                    " WHERE done_at IS NULL"
                )
        return list(self.ERASED_TABLES)

    # -- plumbing --------------------------------------------------------------------------------
    def _raw(self, sql: str, params: Any = None) -> Any:
        return self._conn.execute(sql, params)

    def _raw_rollback(self) -> None:
        try:
            if not self._conn.broken and not self._conn.closed:
                self._raw("ROLLBACK")
        except Exception:  # noqa: BLE001 - the connection broke: the server rolls back itself
            pass

    def _execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Cursor:
        named = isinstance(params, Mapping)
        text = _translate(sql, named)
        insert = _INSERT.match(text)
        returning = bool(insert and insert[1] in self._identity and "RETURNING" not in text.upper())
        if returning:
            text = text.rstrip().rstrip(";") + " RETURNING id"
        with self._lock:
            raw = self._conn.execute(text, _params(params))
            last = None
            if returning:
                rows = raw.fetchall()
                last = int(rows[-1][0]) if rows else None
            return Cursor(raw, last)

    def _executemany(self, sql: str, rows: Any) -> Cursor:
        text = _translate(sql, False)
        params = [_params(r) for r in rows]
        many = _MULTI_ROW.match(text)
        with self._lock:
            cur = self._conn.cursor()
            if many is None or len(params) < 2:
                cur.executemany(text, params)
                return Cursor(cur)
            # A plain INSERT (or one that skips conflicts) of many rows is sent as multi-row VALUES, a chunk
            # at a time: one statement per chunk instead of one per row (20,000 answers of a sync: 20 statements
            # instead of 20,000, each of which the server parses, plans and answers).
            head, values, tail = many["head"], many["values"], many["tail"] or ""
            total = 0
            for at in range(0, len(params), MULTI_ROW_CHUNK):
                chunk = params[at : at + MULTI_ROW_CHUNK]
                if not _one_type_per_column(chunk):  # VALUES rows must agree on each column's type
                    cur.executemany(text, chunk)
                    total += max(cur.rowcount, 0)
                    continue
                # each row quoted by the client cursor's own literal rules (the small VALUES text is parsed
                # once and cached); psycopg re-parses a long query with placeholders on every call
                literal = ", ".join(cur.mogrify(values, row) for row in chunk)
                cur.execute(f"{head} {literal}{tail}")  # no parameters: the text goes as it is
                total += max(cur.rowcount, 0)
            result = Cursor(cur)
            result.rowcount = total  # every chunk's rows, as one executemany reports them
            return result

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[Connection]:
        """One durable write (COMMIT waits for the server's WAL flush); nested uses join the outer one.
        `durable=False`: synchronous_commit is off for this transaction (see StoreBase.transaction)."""
        import psycopg

        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield Connection(self)
                finally:
                    self._depth -= 1
                return
            try:
                self._ensure_connected()
                self._raw("BEGIN")
                if not durable:
                    self._raw("SET LOCAL synchronous_commit = off")
            except psycopg.OperationalError as exc:
                self._raw_rollback()
                raise self._gone(exc) from None
            self._depth = 1
            try:
                yield Connection(self)
                self._raw("COMMIT")
            except psycopg.OperationalError as exc:
                self._raw_rollback()
                raise self._gone(exc) from None
            except BaseException:
                self._raw_rollback()
                raise
            finally:
                self._depth = 0

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[Any]:
        import psycopg

        with self._lock:
            try:
                if not self._depth:
                    self._ensure_connected()
                return self._execute(sql, params).fetchall()
            except psycopg.OperationalError as exc:
                raise self._gone(exc) from None

    def lock(self, name: str) -> None:
        if not self._depth:
            raise StoreError("lock() is only meaningful inside a transaction")
        self._execute("SELECT pg_advisory_xact_lock(hashtext(?))", (name,))

    def lock_row(self, table: str, key: str) -> None:
        if not self._depth:
            raise StoreError("lock_row() is only meaningful inside a transaction")
        self._execute(f"SELECT 1 FROM {table} WHERE id = ? FOR UPDATE", (key,))

    @property
    def skip_locked(self) -> str:
        return " FOR UPDATE SKIP LOCKED"

    def read_frames(
        self, sql: str, params: Iterable[tuple[Any, ...]], schema: Mapping[str, Any]
    ) -> Generator[pl.DataFrame]:
        """Each parameter tuple's result as a polars frame with `schema`: through ADBC's PostgreSQL driver
        (Arrow columns over the COPY protocol, one connection of its own for all of them) when it is installed
        and no transaction is open here, else (or from the first query it refuses) the rows through psycopg."""
        import polars as pl

        from survey_tui.core.store import adbc

        pending = list(params)
        with self._lock:
            if not self._depth:
                numbered = _numbered(sql)
                bulk = adbc.frames(
                    lambda: _adbc_database(self.url), ((numbered, tuple(_params(p) or ())) for p in pending), schema
                )
                if bulk is not None:
                    pending = yield from adbc.drain(bulk, pending)
            for one in pending:  # unnamed: the rows are freed once the frame is made, not at the next query
                yield pl.DataFrame([tuple(r) for r in self.query(sql, one)], schema=dict(schema), orient="row")

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _numeric_as_float(conn: Any) -> None:
    """AVG and SUM over numeric come back as float (as from SQLite), not Decimal."""
    from psycopg.types.numeric import FloatLoader

    conn.adapters.register_loader("numeric", FloatLoader)
