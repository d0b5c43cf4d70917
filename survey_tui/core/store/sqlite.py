"""The study's SQLite store: answers that must survive a crash.

Every accepted answer is its own transaction (WAL, synchronous=FULL), so an answer the interviewer saw
accepted is on disk even if the machine dies the next instant. Write transactions start with
BEGIN IMMEDIATE so two capturing processes queue on the busy timeout instead of failing with
"database is locked". Contact data sits in its own table and nothing here joins it into answers.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import threading
import time
import uuid as uuidlib
from collections.abc import Generator, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from survey_tui.core.cache import cache_dir, memo_key, read_memo, write_memo
from survey_tui.core.store import check_behind

# Re-exported: the names feature modules have always imported from here.
from survey_tui.core.store.base import (  # noqa: F401
    InstrumentVersion,
    InterviewRow,
    StoreBase,
    StoredAnswer,
    StoreError,
    decode,
    encode,
    now,
)
from survey_tui.core.store.schema import (  # noqa: F401
    INTERVIEW_MODES,
    INTERVIEW_STATUSES,
    MIGRATIONS,
    OUTCOMES,
    split_sql,
    sqlite_statements,
)
from survey_tui.i18n import N_, _

if TYPE_CHECKING:
    import polars as pl

BUSY_TIMEOUT_MS = 30_000

RESTORE_HINT = N_(
    "it was left exactly as it is; restore survey.db (and survey.db-wal if the backup has one) from your latest "
    "backup while no survey-tui runs, or ask for help with 'sqlite3 survey.db .recover'"
)


def _not_usable(path: Path, exc: Exception) -> str:
    return _("{path}: not a usable survey database ({error}); {hint}").format(
        path=path, error=exc, hint=_(RESTORE_HINT)
    )


def _create_private(path: Path) -> None:
    """Make an existing database file owner-only (it may hold personal data)."""
    st = path.stat()
    if st.st_mode & 0o077 and st.st_uid == os.getuid():
        os.chmod(path, st.st_mode & 0o700)


def _writable(path: Path) -> bool:
    """Can this process write the database and the files SQLite keeps beside it (-wal, -shm)?"""
    folder = path.parent if path.parent != Path("") else Path(".")
    return os.access(folder, os.W_OK | os.X_OK) and (not path.exists() or os.access(path, os.W_OK))


_EXPECTED: dict[tuple[str, ...], dict[str, set[str]]] = {}


def _expected_schema(migrations: list[str]) -> dict[str, set[str]]:
    """table -> columns after every migration, to check an opened file against.

    Built by running the migrations on an in-memory database, once per set of migrations and SQLite
    version: the result is kept in the user's cache (keyed by both), since replaying every migration was a
    sizeable part of opening the store at each start of the app or a command."""
    key = tuple(migrations)
    if key not in _EXPECTED:
        memo = memo_key("expected-schema", sqlite3.sqlite_version, *migrations)
        cached = read_memo("schema", memo)
        if isinstance(cached, dict) and all(
            isinstance(cols, list) and all(isinstance(c, str) for c in cols) for cols in cached.values()
        ):
            _EXPECTED[key] = {str(table): set(cols) for table, cols in cached.items()}
        else:
            conn = sqlite3.connect(":memory:")
            try:
                for script in migrations:
                    for statement in sqlite_statements(script):
                        conn.execute(statement)
                _EXPECTED[key] = _schema_of(conn)
            finally:
                conn.close()
            write_memo("schema", memo, {table: sorted(cols) for table, cols in _EXPECTED[key].items()})
    return _EXPECTED[key]


def _schema_of(conn: sqlite3.Connection) -> dict[str, set[str]]:
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {t: {c[1] for c in conn.execute(f"PRAGMA table_info({t})")} for t in tables}


def _adbc_database(path: Path) -> Any:
    """A read-only ADBC database on the study file (its own connection: it sees committed rows only)."""
    import adbc_driver_sqlite

    return adbc_driver_sqlite.connect(f"file:{quote(str(path.resolve()))}?mode=ro")


#: the fingerprint at which this process knows each study database clean, by its resolved path
_KNOWN_CLEAN: dict[str, str] = {}
_KNOWN_LOCK = threading.Lock()


class Store(StoreBase):
    """The embedded backend: one connection to a study's `survey.db`; safe to share between threads.

    Opening checks the file before anything is written to it: a 0-byte file where a database was expected, a
    folder, a file that fails `PRAGMA quick_check` or lacks the expected tables is refused with a StoreError
    saying how to restore it, and is never written to or replaced. A file or folder this process cannot write
    opens read-only: reading, listing and exporting elsewhere work; any write says the study is read-only.
    Deleted content is overwritten (`secure_delete`), so an erasure leaves no bytes in free space.
    """

    dialect = "sqlite"

    def __init__(self, path: Path, migrations: list[str] | None = None, *, readonly: bool | None = None) -> None:
        self.path = Path(path)
        self._key = str(self.path.resolve())
        self._immutable = False
        self._migrations = MIGRATIONS if migrations is None else migrations
        self._lock = threading.RLock()
        self._depth = 0
        self._check_file()
        self.readonly = bool(readonly) or not _writable(self.path)
        if not self.path.exists():
            if self.readonly:
                raise StoreError(
                    _("{path}: cannot create the study database here (the folder is read-only)").format(path=self.path)
                )
            self._create_new()
        elif not self.readonly:
            _create_private(self.path)
        try:
            self._conn = self._connect()
        except sqlite3.DatabaseError as exc:
            raise StoreError(_not_usable(self.path, exc)) from exc
        self._pending: check_behind.BehindCheck | None = None
        try:
            self._check_contents(behind=check_behind.enabled() and not self._writes_at_open())
            current = self.schema_version
            if current <= len(self._migrations):
                self._check_schema(current)  # before the first write (switching to WAL writes the header)
            writes_now = not self.readonly and (
                str(self._conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal"
                or current < len(self._migrations)
            )
            before = self._vouch_before() if writes_now else None
            if not self.readonly:
                mode = self._set_wal()
                if mode.lower() != "wal":
                    raise StoreError(
                        _("{path}: cannot switch to WAL journaling (got {mode})").format(path=self.path, mode=mode)
                    )
                self._conn.execute("PRAGMA synchronous = FULL")
            self._migrate()
            self._check_schema()
            self._still_clean(before)  # switched to WAL or migrated just now, by this store
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            damage = self._damage_found()
            raise damage or StoreError(_not_usable(self.path, exc)) from exc
        except BaseException:
            self._conn.close()
            raise

    def _writes_at_open(self) -> bool:
        """Whether opening (or closing) writes to the file: switching to WAL, a migration, or a WAL holding
        committed frames (another process is writing, or one crashed), which the last connection to close
        copies into the file. Then the file is checked first, never behind. A header SQLite cannot read
        counts as a write, so the check at once says why."""
        if self.readonly:
            return False
        with contextlib.suppress(OSError):
            if os.stat(f"{self._key}-wal").st_size:  # committed frames: the last close copies them in
                return True
        try:
            mode = str(self._conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
            return mode != "wal" or self.schema_version < len(self._migrations)
        except sqlite3.DatabaseError:
            return True

    def _check_file(self) -> None:
        if self.path.is_dir():
            raise StoreError(
                _("{path}: is a folder, not the study database; move it away or restore survey.db").format(
                    path=self.path
                )
            )
        if self.path.exists() and self.path.stat().st_size == 0:
            wal = Path(f"{self.path}-wal")
            extra = (
                _(" ({name} beside it holds {size} bytes)").format(name=wal.name, size=wal.stat().st_size)
                if wal.exists()
                else ""
            )
            raise StoreError(
                _(
                    "{path}: the study database is empty (0 bytes){extra}, but a study database was expected "
                    "(a new one is never left empty); {hint}"
                ).format(path=self.path, extra=extra, hint=_(RESTORE_HINT))
            )

    def _create_new(self) -> None:
        """Build the schema in a private temporary file and link it into place, so a half-made or 0-byte
        survey.db is never seen (and an empty one can always be refused as damaged)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{uuidlib.uuid4().hex}.new")
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
        os.close(fd)
        try:
            conn = sqlite3.connect(tmp, isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("BEGIN IMMEDIATE")
                for version, script in enumerate(self._migrations):
                    for statement in sqlite_statements(script):
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {version + 1}")
                conn.execute("COMMIT")
            finally:
                conn.close()
            try:
                os.link(tmp, self.path)  # fails if another process made it first: theirs is as good
            except FileExistsError:
                pass
            except OSError:  # a file system without hard links
                if not self.path.exists():
                    os.replace(tmp, self.path)
        finally:
            for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
                leftover.unlink(missing_ok=True)

    def _connect(self) -> sqlite3.Connection:
        if self.readonly:
            wal, shm = Path(f"{self.path}-wal"), Path(f"{self.path}-shm")
            folder_ok = os.access(self.path.parent, os.W_OK)
            # SQLite reads a WAL database read-only only if it can use -shm; in a read-only folder without
            # one nobody can be writing, so the file is opened as immutable
            flags = "mode=ro" if folder_ok or (wal.exists() and shm.exists()) else "mode=ro&immutable=1"
            self._immutable = "immutable" in flags
            conn = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?{flags}",
                uri=True,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
        else:
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _check_contents(self, *, behind: bool = False) -> None:
        """quick_check before anything is written: a damaged file is refused, never made worse.

        The check reads every page (1.8 s for the 1.25 GB of a 100,000-interview tracker), so a file known
        clean and not changed since (same inode, size and modification time of the database and its WAL) is
        not checked again. Known clean: checked clean, or changed since only by this program's own writes,
        each begun on the file as it was known clean and ending on the same file (`_vouch_before`). This
        process keeps that in `_KNOWN_CLEAN`; the user's cache (never the study) keeps it for the next
        process, written as a store closes. An immutable open (a read-only folder) sees no WAL: it never
        vouches for the file.

        `behind` (a reading command, `check_behind`): the check runs in a child process while this store is
        read; writes and the command's outputs wait for its verdict. A check of this very file already in
        flight is shared, not run twice.
        """
        fingerprint = self._fingerprint()
        with _KNOWN_LOCK:
            if _KNOWN_CLEAN.get(self._key) == fingerprint:
                return
        if self._marker_text() == fingerprint:
            self._record_clean(fingerprint)
            return
        flight = check_behind.in_flight(self._key, fingerprint)
        if flight is None and not behind:
            self._check_here(fingerprint)
            return
        self._pending = flight or check_behind.start(
            self._key,
            fingerprint,
            lambda: check_behind.BehindCheck(
                self._uri(),
                path=self._key,
                identity=check_behind.identity_of(fingerprint),
                judge=lambda rows: self._judge(fingerprint, rows),
                inline=lambda: self._inline_check(fingerprint),
                unreadable=lambda text: StoreError(_not_usable(self.path, sqlite3.DatabaseError(text))),
                replaced=self._replaced,
            ),
        )
        if not behind:
            self._confirm()

    @staticmethod
    def _quick_check(conn: sqlite3.Connection) -> list[str]:
        return [line for r in conn.execute("PRAGMA quick_check(5)") for line in str(r[0]).splitlines()]

    def _check_here(self, fingerprint: str) -> None:
        """The check now, on a read-only connection of its own beside the store's: while that one is open,
        closing the store's connection (a damaged file is refused) is not the last close, which would copy
        a WAL's committed frames into the damaged file. Where the file cannot be read read-only (a rollback
        journal left by a crash must be played back first), on the store's own connection, as before."""
        try:
            probe = self._probe(fingerprint)
        except check_behind.Replaced:
            self._conn.close()
            raise self._replaced() from None
        except sqlite3.OperationalError:
            probe = None
            rows = self._quick_check(self._conn)
        else:
            try:
                rows = self._quick_check(probe)
            except BaseException:
                self._conn.close()  # first, while the probe still holds the file
                probe.close()
                raise
        error = self._judge(fingerprint, rows)
        if error is not None:
            self._conn.close()
        if probe is not None:
            probe.close()
        if error is not None:
            raise error

    def _probe(self, fingerprint: str) -> sqlite3.Connection:
        """A read-only connection to the very file `fingerprint` was taken of (`Replaced` if another one
        was renamed onto the path since: its check would say nothing about the file this store reads)."""
        conn = sqlite3.connect(self._uri(), uri=True, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        try:
            conn.execute("PRAGMA schema_version")  # opened: bound to the file the path names now
            st = os.stat(self._key)
            if f"{st.st_dev}:{st.st_ino}" != check_behind.identity_of(fingerprint):
                raise check_behind.Replaced
        except BaseException:
            conn.close()
            raise
        return conn

    def _inline_check(self, fingerprint: str) -> list[str]:
        """The check of a file left behind, here (a child process could not give a verdict)."""
        conn = self._probe(fingerprint)
        try:
            return self._quick_check(conn)
        finally:
            conn.close()

    def _replaced(self) -> StoreError:
        return StoreError(
            _(
                "{path}: the study database was replaced while this command read it (a restore or a sync?); "
                "nothing was written; run the command again"
            ).format(path=self.path)
        )

    def _uri(self) -> str:
        """A read-only URI of this file, as this store sees it (immutable in a read-only folder)."""
        return f"{self.path.resolve().as_uri()}?mode=ro" + ("&immutable=1" if self._immutable else "")

    def _judge(self, fingerprint: str, rows: list[str]) -> StoreError | None:
        """The error that quick_check's `rows` call for, or None: then the file is recorded clean as
        `fingerprint` (taken before the check began)."""
        if rows != ["ok"]:
            self._forget(marker=True)
            return StoreError(
                _("{path}: the study database is damaged ({found}); {hint}").format(
                    path=self.path, found="; ".join(rows), hint=_(RESTORE_HINT)
                )
            )
        if not self._immutable:
            self._write_marker(fingerprint)
        self._record_clean(fingerprint)
        return None

    def _record_clean(self, fingerprint: str) -> None:
        if not self._immutable:
            with _KNOWN_LOCK:
                _KNOWN_CLEAN[self._key] = fingerprint

    def _confirm(self) -> None:
        """Wait for a check left behind at open; raise if it found the file damaged (before any write)."""
        pending = self._pending
        if pending is None:
            return
        error = pending.verdict()
        if error is not None:
            raise error
        self._pending = None

    @contextmanager
    def _failed_reads_in_the_checks_words(self) -> Iterator[None]:
        """A read that fails (on a damaged page, say) while a check left behind is in flight: its verdict,
        waited for, says what is wrong if it found the file damaged."""
        try:
            yield
        except Exception as exc:
            damage = self._damage_found()
            if damage is not None:
                raise damage from exc
            raise

    def _damage_found(self) -> StoreError | None:
        """After a read failed: the check left behind, waited for, if it found the file damaged (its words
        then say what is wrong, rather than the read's)."""
        pending = self._pending
        error = pending.verdict() if pending is not None else None
        return error if isinstance(error, StoreError) else None

    @property
    def _marker(self) -> Path:
        return cache_dir("checked") / hashlib.sha256(self._key.encode()).hexdigest()

    def _marker_text(self) -> str | None:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            return self._marker.read_text(encoding="ascii")
        return None

    def _write_marker(self, fingerprint: str) -> None:
        """Written whole (renamed into place) but not synced: a marker lost in a crash costs one check."""
        with contextlib.suppress(OSError):  # no cache (read-only home): the next open checks again
            self._marker.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = self._marker.with_name(f".{self._marker.name}.{uuidlib.uuid4().hex}")
            try:
                tmp.write_text(fingerprint, encoding="ascii")
                os.replace(tmp, self._marker)
            finally:
                tmp.unlink(missing_ok=True)

    def _identity(self) -> tuple[str, str]:
        """Which files the database and its WAL are (device and inode; '-' for none)."""
        found = []
        for path in (self._key, f"{self._key}-wal"):
            try:
                st = os.stat(path)
            except OSError:
                found.append("-")
                continue
            found.append(f"{st.st_dev}:{st.st_ino}")
        return found[0], found[1]

    def _vouch_before(self) -> tuple[str, str] | None:
        """Before a change of our own: which files these are, if they are as this process last knew them
        clean (else None: someone else changed them since, and the next open checks them)."""
        if self._immutable:
            return None
        with _KNOWN_LOCK:
            if _KNOWN_CLEAN.get(self._key) != self._fingerprint():
                return None
        return self._identity()

    def _still_clean(self, before: tuple[str, str] | None) -> str | None:
        """After a change of our own begun as `_vouch_before` said: known clean as the files are now (their
        fingerprint returned), unless one of them was replaced meanwhile (a restore or a sync tool renaming
        another file into place)."""
        if before is None:
            return None
        after = self._identity()
        if after[0] != before[0] or (before[1] != "-" and after[1] not in ("-", before[1])):
            self._forget()
            return None
        fingerprint = self._fingerprint()
        with _KNOWN_LOCK:
            _KNOWN_CLEAN[self._key] = fingerprint
        return fingerprint

    def _forget(self, *, marker: bool = False) -> None:
        with _KNOWN_LOCK:
            _KNOWN_CLEAN.pop(self._key, None)
        if marker:
            with contextlib.suppress(OSError):
                self._marker.unlink()

    def _damage_seen(self, exc: BaseException) -> None:
        """SQLite met a damaged page while reading or writing: nothing here vouches for the file any more."""
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
            self._forget(marker=True)

    def _fingerprint(self) -> str:
        """The database's and its WAL's identity, size and modification time.

        An empty WAL counts as none: it holds no pages, so the contents are the main file's. Without this the
        check ran on nearly every open: a process's first connection creates the (empty) WAL and its last
        one deletes it, so each command found a fingerprint other than the one recorded (3 s at 100,000
        interviews, once or twice per command).
        """
        parts = []
        main = Path(self._key)  # resolved: SQLite keeps the WAL beside the file a link points to
        for path in (main, Path(f"{self._key}-wal")):
            try:
                st = path.stat()
            except FileNotFoundError:
                parts.append("-")
                continue
            if path != main and st.st_size == 0:
                parts.append("-")
                continue
            parts.append(f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}")
        return "|".join(parts)

    def _check_schema(self, version: int | None = None) -> None:
        """The tables and columns the schema version promises are there (a foreign or mangled file is not
        migrated into a survey database); `version` defaults to the latest."""
        expected = _expected_schema(self._migrations[: len(self._migrations) if version is None else version])
        found = _schema_of(self._conn)
        if version == 0 and found:
            raise StoreError(
                _("{path}: holds tables of another program ({tables}), not a survey database; {hint}").format(
                    path=self.path, tables=", ".join(sorted(found)[:3]), hint=_(RESTORE_HINT)
                )
            )
        missing = [t for t in expected if t not in found]
        short = [f"{t}.{c}" for t in expected if t in found for c in sorted(expected[t] - found[t])]
        if missing or short:
            raise StoreError(
                _("{path}: not the expected survey database (missing {missing}); {hint}").format(
                    path=self.path, missing=", ".join((missing + short)[:5]), hint=_(RESTORE_HINT)
                )
            )

    def _set_wal(self) -> str:
        """Switching to WAL needs a moment alone with the file; another process opening it may hold it."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                return str(self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def erase_traces(self) -> bool:
        """After an erasure: copy the WAL into the database and truncate it, so the old page images (which
        still hold the erased values) are gone from survey.db-wal too. False if a reader kept it busy."""
        if self.readonly:
            return False
        deadline = time.monotonic() + 5
        with self._lock:
            self._confirm()
            before = self._vouch_before()
            while True:
                busy = int(self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0])
                if not busy or time.monotonic() > deadline:
                    self._still_clean(before)  # only once the checkpoint went through
                    return not busy
                time.sleep(0.05)

    # -- plumbing --------------------------------------------------------------------------------
    def close(self) -> None:
        """Closing the last connection copies the WAL into the file (SQLite's own write of what was
        committed): a file known clean before is known clean as closed, kept in the user's cache when that
        changed it, so the next command after fieldwork need not check it again."""
        with self._lock:
            before = None if self.readonly else self._vouch_before()
            self._conn.close()
            fingerprint = self._still_clean(before)
            if fingerprint is not None and self._marker_text() != fingerprint:
                self._write_marker(fingerprint)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    @property
    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        target = len(self._migrations)
        with self._lock:
            current = self.schema_version
            if current > target:
                raise StoreError(
                    _(
                        "{path} was written by a newer survey-tui (schema {current}, this one knows {target}); "
                        "upgrade survey-tui to open it"
                    ).format(path=self.path, current=current, target=target)
                )
            if current == target:
                return
            if self.readonly:
                raise StoreError(
                    _(
                        "{path} needs an upgrade (schema {current} -> {target}) but the study is read-only; "
                        "open it once where it can be written"
                    ).format(path=self.path, current=current, target=target)
                )
            with self.transaction():
                current = self.schema_version  # another process may have migrated meanwhile
                for version in range(current, target):
                    for statement in sqlite_statements(self._migrations[version]):
                        self._conn.execute(statement)
                    self._conn.execute(f"PRAGMA user_version = {version + 1}")

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One durable write; nested uses join the outer transaction. `durable=False`: this commit does not
        wait for fsync (synchronous=NORMAL, still crash-consistent in WAL mode; see StoreBase.transaction).

        A full disk, a read-only file or an I/O error rolls the whole write back and becomes a StoreError that
        says so: what was stored before stays as it was."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._confirm()  # a check left behind at open: never write to a file it finds damaged
            if self.readonly:
                raise StoreError(_("{path}: the study is read-only here; nothing was changed").format(path=self.path))
            if not durable:
                self._conn.execute("PRAGMA synchronous = NORMAL")
            try:
                try:
                    self._conn.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError as exc:
                    raise _write_failure(self.path, exc) from exc
                self._depth = 1
                before = self._vouch_before()  # with the write lock held: no other writer commits meanwhile
                try:
                    yield self._conn
                    self._conn.execute("COMMIT")
                    self._still_clean(before)
                except sqlite3.OperationalError as exc:
                    self._damage_seen(exc)
                    self._rollback()
                    raise _write_failure(self.path, exc) from exc
                except BaseException as exc:
                    self._damage_seen(exc)
                    self._rollback()
                    raise
                finally:
                    self._depth = 0
            finally:
                if not durable:
                    self._conn.execute("PRAGMA synchronous = FULL")

    def _rollback(self) -> None:
        if self._conn.in_transaction:  # SQLite may already have rolled back
            self._conn.execute("ROLLBACK")

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        with self._lock, self._failed_reads_in_the_checks_words():
            try:
                cur = self._conn.execute(sql, params)
                cur.row_factory = sqlite3.Row
                return cur.fetchall()
            except sqlite3.DatabaseError as exc:
                self._damage_seen(exc)
                raise

    def read_frames(
        self, sql: str, params: Iterable[tuple[Any, ...]], schema: Mapping[str, Any]
    ) -> Generator[pl.DataFrame]:
        """One query run once per parameter tuple, each result as a polars frame with `schema`, moved in bulk.

        Through ADBC's SQLite driver (Arrow columns straight from C, one read-only connection of its own for
        all of them) when it is installed and this connection has no transaction open, since a second
        connection would not see uncommitted rows; else (or from the first query the driver refuses) plain
        tuples into polars. 3 million answers: about 1 s against 7 s through `query`. In bulk, each query
        after the first runs while the caller works on the result before (`adbc.frames`).
        """
        with self._failed_reads_in_the_checks_words():  # the driver's errors too
            yield from self._read_frames(sql, params, schema)

    def _read_frames(
        self, sql: str, params: Iterable[tuple[Any, ...]], schema: Mapping[str, Any]
    ) -> Generator[pl.DataFrame]:
        import polars as pl

        from survey_tui.core.store import adbc

        pending = list(params)
        with self._lock:
            if not self._conn.in_transaction:
                bulk = adbc.frames(
                    lambda: _adbc_database(self.path), ((sql, p) for p in pending), schema, adbc.SQLITE_OPTIONS
                )
                if bulk is not None:
                    pending = yield from adbc.drain(bulk, pending)
            for one in pending:  # unnamed: the rows are freed once the frame is made, not at the next query
                yield pl.DataFrame(self._conn.execute(sql, one).fetchall(), schema=dict(schema), orient="row")

    def integrity_check(self) -> str:
        return str(self.query("PRAGMA integrity_check")[0][0])

    def tables(self) -> list[str]:
        return [r[0] for r in self.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]

    def columns(self, table: str) -> list[str]:
        return [r[1] for r in self.query(f"PRAGMA table_info({table})")]

    def lock(self, name: str) -> None:
        """Nothing to do: a write transaction (BEGIN IMMEDIATE) already holds the database's one write lock."""
        if not self._depth:
            raise StoreError("lock() is only meaningful inside a transaction")

    def lock_row(self, table: str, key: str) -> None:
        self.lock(table)

    @property
    def where(self) -> str:
        return str(self.path)


def _write_failure(path: Path, exc: sqlite3.OperationalError) -> Exception:
    """The write failures a researcher can act on, in words; anything else stays as SQLite raised it."""
    text = str(exc)
    if "full" in text:
        return StoreError(
            _("{path}: the disk is full; the write was undone and everything stored before is kept").format(path=path)
        )
    if "readonly" in text or "read-only" in text:
        return StoreError(
            _("{path}: the study database cannot be written here (read-only); nothing was changed").format(path=path)
        )
    if "I/O" in text:
        return StoreError(
            _("{path}: the disk reported an error while writing; the write was undone ({error})").format(
                path=path, error=text
            )
        )
    return exc
