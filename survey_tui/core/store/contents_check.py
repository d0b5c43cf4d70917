"""Whether a study database's pages are sound: SQLite's quick_check, before anything is read or written.

`PRAGMA quick_check` reads every page of the file (1.8 s for the 1.25 GB of a 100,000-interview tracker
with a warm page cache, 14-22 s from disk), and a file that has not changed since it was checked clean is
not checked again (the fingerprint of that check is kept in the user's cache, never in the study).

When the check runs is the caller's choice (`check_on`):

- "open" (the default): all of it as the store opens. The app's screens each read the store in their own
  worker; a damaged file is refused at the door rather than by whichever screen reads it first.
- "read": each table (with its indexes) just before the first statement that reads it, and all of the
  file before the first write, so nothing is ever written to a damaged file. A command that reads a few
  tables of a large file checks only those: a report of that tracker reads 0.46 GB of its 1.25 GB (the
  interviews' event log, most of the file, is read by none of the reporting commands). The command line
  uses it: every failure of a command, wherever it arises, is one located line.

A check of some tables skips what only the whole file's check sees (the free-page list, pages used twice),
which matters only to a write: before a write the whole file is checked.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Literal, TypeVar

from survey_tui.core.atomic import write_text_atomic
from survey_tui.core.cache import cache_dir
from survey_tui.core.store.base import StoreError
from survey_tui.i18n import N_, _

T = TypeVar("T")

RESTORE_HINT = N_(
    "it was left exactly as it is; restore survey.db (and survey.db-wal if the backup has one) from your latest "
    "backup while no survey-tui runs, or ask for help with 'sqlite3 survey.db .recover'"
)

#: when a database not known to be clean is checked: see the module's docstring
_WHEN: dict[str, Literal["open", "read"]] = {"check": "open"}

#: what a statement may do before the whole file is checked (reads are checked table by table)
_WRITES = frozenset(
    {
        sqlite3.SQLITE_INSERT,
        sqlite3.SQLITE_UPDATE,
        sqlite3.SQLITE_DELETE,
        sqlite3.SQLITE_CREATE_INDEX,
        sqlite3.SQLITE_CREATE_TABLE,
        sqlite3.SQLITE_CREATE_TRIGGER,
        sqlite3.SQLITE_CREATE_VIEW,
        sqlite3.SQLITE_CREATE_VTABLE,
        sqlite3.SQLITE_DROP_INDEX,
        sqlite3.SQLITE_DROP_TABLE,
        sqlite3.SQLITE_DROP_TRIGGER,
        sqlite3.SQLITE_DROP_VIEW,
        sqlite3.SQLITE_DROP_VTABLE,
        sqlite3.SQLITE_ALTER_TABLE,
        sqlite3.SQLITE_REINDEX,
        sqlite3.SQLITE_ANALYZE,
    }
)
#: stands for "the whole file" among the tables a statement was refused for
_WHOLE_FILE = "*"


def check_on(when: Literal["open", "read"]) -> Literal["open", "read"]:
    """Set when stores opened from now on check their file; returns the setting before."""
    before, _WHEN["check"] = _WHEN["check"], when
    return before


def fingerprint(path: Path) -> str:
    """The database's and its WAL's identity, size and modification time.

    An empty WAL counts as none: it holds no pages, so the contents are the main file's. Without this the
    check ran on nearly every open: a process's first connection creates the (empty) WAL and its last one
    deletes it, so each command found a fingerprint other than the one recorded (3 s at 100,000 interviews,
    once or twice per command).
    """
    parts = []
    for one in (path, Path(f"{path}-wal")):
        try:
            st = one.stat()
        except FileNotFoundError:
            parts.append("-")
            continue
        if one != path and st.st_size == 0:
            parts.append("-")
            continue
        parts.append(f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts)


class ContentsCheck:
    """What of one connection's database is known clean, and the check of the rest when it is needed.

    The marker in the user's cache is the fingerprint of the file when it was checked, on a line of its own
    when all of it was, followed by the names of the tables checked when only those were.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection, *, writes_at_open: bool) -> None:
        self.path = path
        self._conn = conn
        self._marker = cache_dir("checked") / hashlib.sha256(str(path.resolve()).encode()).hexdigest()
        self._opened_as = fingerprint(path)
        self._tables: set[str] = set()
        self._unchecked: set[str] = set()
        self._wanted: set[str] = set()
        known = self._known()
        if known is None:
            return  # all of it checked clean, and not changed since
        if _WHEN["check"] == "open" or writes_at_open:
            self.check_whole_file()
            return
        self._tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        self._unchecked = self._tables - known
        if self._unchecked:
            conn.set_authorizer(self._authorize)

    @property
    def complete(self) -> bool:
        """Every table checked (or known clean): statements run unwatched."""
        return not self._unchecked

    def _known(self) -> set[str] | None:
        """The tables known clean at this fingerprint (None: all of them)."""
        with contextlib.suppress(OSError):
            lines = self._marker.read_text(encoding="ascii").split("\n")
            if lines[0] == self._opened_as:
                return None if len(lines) == 1 else set(lines[1].split())
        return set()

    def _authorize(self, action: int, arg1: str | None, arg2: str | None, db: str | None, source: str | None) -> int:
        if db == "temp":  # the connection's own scratch tables, never in the file
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_READ:
            if arg1 in self._unchecked:
                self._wanted.add(arg1)
                return sqlite3.SQLITE_DENY
        elif action in _WRITES:
            self._wanted.add(_WHOLE_FILE)
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    def run(self, statement: Callable[[], T]) -> T:
        """`statement()` (one prepared and run on this connection), the tables it reads checked first: a
        statement refused for an unchecked table is run again once they are (a refused one never ran)."""
        for _attempt in range(len(self._unchecked) + 2):
            try:
                return statement()
            except sqlite3.DatabaseError:
                wanted, self._wanted = self._wanted, set()
                if not wanted:
                    raise
                if _WHOLE_FILE in wanted:
                    self.check_whole_file()
                else:
                    self._check_tables(wanted)
        return statement()

    def check_whole_file(self) -> None:
        """quick_check of every page; a damaged file is refused (StoreError), a clean one recorded."""
        self._refuse_unless_ok("PRAGMA quick_check(5)")
        self._unchecked.clear()
        self._conn.set_authorizer(None)
        self._record(None)

    def check_tables(self, tables: Iterable[str]) -> None:
        """Check these tables now, if they are not known clean yet (a StoreError for a damaged one)."""
        wanted = set(tables) & self._unchecked
        if wanted:
            self._check_tables(wanted)

    def _check_tables(self, tables: set[str]) -> None:
        known = self._known()  # another open of this file may have checked some since this one opened it
        if known is None:
            self._unchecked.clear()
            self._conn.set_authorizer(None)
            return
        self._unchecked -= known
        for table in sorted(tables & self._unchecked):
            literal = "'" + table.replace("'", "''") + "'"
            self._refuse_unless_ok(f"PRAGMA quick_check({literal})")
            self._unchecked.discard(table)
        if not self._unchecked:
            self._conn.set_authorizer(None)
        self._record(self._tables - self._unchecked)

    def _refuse_unless_ok(self, check: str) -> None:
        try:
            rows = [line for r in self._conn.execute(check) for line in str(r[0]).splitlines()]
        except sqlite3.DatabaseError as exc:  # a page so garbled the check cannot go on
            rows = [str(exc)]
        if rows != ["ok"]:
            raise StoreError(
                _("{path}: the study database is damaged ({found}); {hint}").format(
                    path=self.path, found="; ".join(rows[:5]), hint=_(RESTORE_HINT)
                )
            )

    def _record(self, tables: set[str] | None) -> None:
        """Keep what is known clean for the next open, if the file is still the one checked (a change by
        another process since this one opened it means the next open checks again)."""
        if fingerprint(self.path) != self._opened_as:
            return
        text = self._opened_as if tables is None else f"{self._opened_as}\n{' '.join(sorted(tables))}"
        with contextlib.suppress(OSError):  # no cache (read-only home): the next open checks again
            self._marker.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_text_atomic(self._marker, text)
