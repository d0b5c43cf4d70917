"""A database's open-time check run behind a reading command's work, and the gate its outputs wait at.

Opening a survey.db never checked here runs SQLite's `quick_check` over the whole file: about 2 s for the
1.25 GB of a 100,000-interview tracker, before the first row is read. Commands that only read the study and
write files from it (`tables`, `export`, `report`) run inside `checks_behind()`: the check runs in a child
process (its own interpreter, so this one gains no thread to fork with) while the command reads and
computes, and

- nothing the command makes leaves it before the check has found the file clean: every file is renamed
  into place through `confirm_clean()` (`core.atomic`, the tab books, the export's move into place), and the
  command's exit waits for it too;
- a write to the database waits for it (`Store.transaction`), so a damaged file is still never written to;
- a damaged file ends the command with the same message as the check at open, and no file is left behind;
- the child checks the file the command has open, not whatever the path names by then: a file renamed onto
  it meanwhile (a restore, a sync tool) gets no verdict, and the command says to run it again.

A WAL holding committed frames (another process writing, or one that crashed) is checked at open as before:
the last connection to close copies it into the file, which must not happen to a damaged one.

Only the whole-file check is used: checking table by table misses a page linked into two tables.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

#: run in the child: its own connection, the rows of quick_check, one per line; exit 3 if SQLite cannot read it
_CHILD = (
    "import os, sqlite3, sys\n"
    "def ident():\n"
    "    st = os.stat(sys.argv[2]); return f'{st.st_dev}:{st.st_ino}'\n"
    "try:\n"
    "    before = ident()\n"
    "    c = sqlite3.connect(sys.argv[1], uri=True)\n"
    "    c.execute('PRAGMA busy_timeout = 30000')\n"
    "    c.execute('PRAGMA schema_version')  # the file is open (and bound to its inode) from here\n"
    "    if not before == ident() == sys.argv[3]: sys.exit(4)  # not the file the command reads\n"
    "    rows = [str(r[0]) for r in c.execute('PRAGMA quick_check(5)')]\n"
    "except OSError:\n"
    "    sys.exit(4)\n"
    "except sqlite3.DatabaseError as exc:\n"
    "    sys.stdout.write(str(exc)); sys.exit(3)\n"
    "sys.stdout.write('\\n'.join(rows))\n"
)

_lock = threading.Lock()
_depth = 0
_checks: dict[tuple[str, str], BehindCheck] = {}  # (file, fingerprint) -> its check, until found clean


class Replaced(Exception):
    """The file at the path is no longer the one the command opened: its check says nothing about it."""


class BehindCheck:
    """One file's check in a child process, of the file at `path` only if it is still `identity` (device and
    inode) once the child has it open. `judge(rows)` turns quick_check's rows into the error to raise (None:
    clean, recorded as such by the judge); `inline()` runs the same check here, for when no child can be
    started or it died without a verdict; `unreadable(text)` is the error for a file SQLite could not read
    at all, `replaced()` the one for another file renamed onto the path since the command opened it."""

    def __init__(
        self,
        uri: str,
        *,
        path: str,
        identity: str,
        judge: Callable[[list[str]], Exception | None],
        inline: Callable[[], list[str]],
        unreadable: Callable[[str], Exception],
        replaced: Callable[[], Exception],
    ) -> None:
        self._judge, self._inline, self._unreadable = judge, inline, unreadable
        self._replaced = replaced
        self._wait_lock = threading.Lock()
        self._verdict: tuple[Exception | None] | None = None
        self._proc: Any = None
        if not sys.executable:
            return  # an embedded interpreter: checked when the verdict is asked for
        import subprocess

        with contextlib.suppress(OSError):
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _CHILD, uri, path, identity],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                encoding="utf-8",
                errors="replace",
            )

    def verdict(self) -> Exception | None:
        """The check's finding, waited for: None if the file is clean, else the error that says so."""
        with self._wait_lock:
            if self._verdict is None:
                self._verdict = (self._decide(),)
            return self._verdict[0]

    def _decide(self) -> Exception | None:
        out, code = "", None
        if self._proc is not None:
            out, _ = self._proc.communicate()  # interrupted (Ctrl-C): the handle stays for stop() to kill
            code = self._proc.returncode
            self._proc = None
        if code == 4:
            return self._replaced()
        if code == 3:
            return self._unreadable(out.strip())
        rows = [line for line in out.splitlines() if line] if code == 0 else None
        if not rows:  # no child, or it died: the same check here
            try:
                rows = self._inline()
            except Replaced:
                return self._replaced()
            except Exception as exc:  # noqa: BLE001 - SQLite's own word on a file it cannot read
                return self._unreadable(str(exc))
        return self._judge(rows)

    @property
    def done(self) -> bool:
        return self._verdict is not None

    def stop(self) -> None:
        """The command ended before it needed the verdict: the child is stopped (the next open checks)."""
        proc = self._proc
        if proc is not None and self._verdict is None:
            with contextlib.suppress(OSError):
                proc.kill()
            with contextlib.suppress(Exception):
                proc.communicate(timeout=5)


def identity_of(fingerprint: str) -> str:
    """Which file (device:inode) a store's fingerprint was taken of: the database's, its first part."""
    return ":".join(fingerprint.split("|")[0].split(":")[:2])


def enabled() -> bool:
    """Whether stores opened now may leave their check behind (inside `checks_behind()`)."""
    return _depth > 0


def start(key: str, fingerprint: str, make: Callable[[], BehindCheck]) -> BehindCheck:
    """The check of this file as it is now: the one already in flight for it, else `make()`'s."""
    with _lock:
        check = _checks.get((key, fingerprint))
        if check is None:
            check = _checks[(key, fingerprint)] = make()
        return check


def in_flight(key: str, fingerprint: str) -> BehindCheck | None:
    with _lock:
        return _checks.get((key, fingerprint))


def confirm_clean() -> None:
    """Wait for every check in flight; raise the first one's error if a file was found damaged. Called
    before anything made from the data leaves the process."""
    with _lock:
        pending = list(_checks.items())
    for where, check in pending:
        error = check.verdict()
        if error is not None:
            raise error
        with _lock:
            if _checks.get(where) is check:
                del _checks[where]


@contextlib.contextmanager
def checks_behind() -> Iterator[None]:
    """A reading command's run: stores opened inside leave their check behind; on the way out every check
    is waited for, and a damaged file's error replaces whatever the command ended with (the reading may
    have failed on the damage first, in SQLite's words). Ctrl-C stops the checks instead."""
    global _depth
    import subprocess  # noqa: F401 - imported here, on the command's thread, before any worker thread runs

    with _lock:
        _depth += 1
    try:
        try:
            yield
        except (KeyboardInterrupt, SystemExit, GeneratorExit):
            raise
        except BaseException as exc:  # noqa: B036 - the damage is the cause, whatever the reading raised
            try:
                confirm_clean()
            except Exception as damage:  # noqa: BLE001
                raise damage from exc
            raise
        confirm_clean()
    finally:
        with _lock:
            _depth -= 1
            left = list(_checks.values()) if _depth == 0 else []
            if _depth == 0:
                _checks.clear()
        for check in left:
            check.stop()
