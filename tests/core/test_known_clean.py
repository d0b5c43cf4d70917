"""A database this program changed only through its own transactions, on a file known clean just before, is
not read through again by the next open (quick_check reads every page: seconds on a tracker); any other
change, or damage, still is."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from survey_tui.core.store import sqlite as store_module
from survey_tui.core.store.sqlite import Store, StoreError
from tests.privacy.test_damaged_store import _damage


def _study_db(tmp_path: Path) -> Path:
    db = tmp_path / "survey.db"
    with Store(db) as store:
        version = store.publish_instrument("brand", "source")
        for _ in range(3):
            row = store.start_interview(version.id, mode="field", interviewer="amy")
            store.save_answer(row.id, "q1", 1, None)
    return db


def _new_process() -> None:
    """What a new process knows: the user's cache only."""
    store_module._KNOWN_CLEAN.clear()


def _from_elsewhere(tmp_path: Path) -> None:
    """As if the file came from another machine: nothing known about it here."""
    _new_process()
    shutil.rmtree(tmp_path / "cache", ignore_errors=True)


def test_our_own_writes_keep_the_file_known_clean_in_this_process_and_the_next(
    tmp_path: Path, checks: list[str]
) -> None:
    db = _study_db(tmp_path)
    _from_elsewhere(tmp_path)
    checks.clear()
    writer = Store(db)
    assert len(checks) == 1  # not known here: checked once
    writer.save_answer(1, "q1", 2, None)
    writer.log_event(1, "note", None, "a note")
    with Store(db) as reader:  # a screen opening its own store after the interviewer's answers
        assert reader.answers(1)["q1"].value == 2
    writer.save_answer(2, "q1", 3, None)
    writer.close()  # the last connection: SQLite copies the WAL into the file
    assert len(checks) == 1
    _new_process()
    Store(db).close()  # the next command: the user's cache says the file as closed is clean
    assert len(checks) == 1


def test_a_change_by_another_program_or_damage_is_checked_again(tmp_path: Path, checks: list[str]) -> None:
    db = _study_db(tmp_path)
    _from_elsewhere(tmp_path)
    store = Store(db)
    store.save_answer(1, "q1", 2, None)
    other = sqlite3.connect(db)  # another program writing between two of ours
    other.execute("UPDATE answers SET value = '5' WHERE interview_id = 2")
    other.commit()
    other.close()
    store.save_answer(3, "q1", 4, None)  # begun on a file changed by someone else: not vouched for
    store.close()
    checks.clear()
    _new_process()
    Store(db).close()
    assert len(checks) == 1
    with Store(db) as again:
        again.save_answer(1, "q1", 3, None)
    _damage(db, "random pages")  # after our last write: the file's time changes, so it is seen
    with pytest.raises(StoreError, match="damaged|not a usable survey database"):
        Store(db)


def test_the_next_command_after_fieldwork_in_another_process_does_not_check_again(
    tmp_path: Path, checks: list[str]
) -> None:
    """Interviews keyed in one process (the app), then a command in another: the file is not read through."""
    db = _study_db(tmp_path)
    _from_elsewhere(tmp_path)
    checks.clear()
    Store(db).close()
    assert len(checks) == 1
    checks.clear()
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from survey_tui.core.store.sqlite import Store\n"
        "with Store(Path(sys.argv[1])) as store:\n"
        "    for q in ('q2', 'q3'):\n"
        "        store.save_answer(1, q, 7, None)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(db)], check=True, timeout=120)
    _new_process()
    with Store(db) as store:
        assert store.answers(1)["q3"].value == 7
    assert checks == []


class _Replacing:
    """The store's connection, with another file renamed into the database's place just after `when`
    ("COMMIT" or "close"), as a restore or a sync tool might at that very moment."""

    def __init__(self, conn: sqlite3.Connection, when: str, replace: object) -> None:
        self._real, self._when, self._replace = conn, when, replace

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        cursor = self._real.execute(sql, *args)
        if sql == self._when:
            self._replace()  # type: ignore[operator]
        return cursor

    def close(self) -> None:
        self._real.close()
        if self._when == "close":
            self._replace()  # type: ignore[operator]

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)


def _damaged_copy(db: Path, target: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    shutil.copyfile(db, target)
    _damage(target, "random pages")


@pytest.mark.parametrize("when", ["COMMIT", "close"])
def test_a_file_renamed_into_place_during_our_own_write_is_never_vouched_for(
    tmp_path: Path, checks: list[str], when: str
) -> None:
    db = _study_db(tmp_path)
    bad = tmp_path / "restored.db"
    _damaged_copy(db, bad)
    store = Store(db)
    store._conn = _Replacing(store._conn, when, lambda: os.replace(bad, db))  # type: ignore[assignment]
    store.save_answer(1, "q1", 2, None)
    if when == "COMMIT":
        assert str(db.resolve()) not in store_module._KNOWN_CLEAN  # this process no longer vouches for it
    store.close()
    _new_process()
    checks.clear()
    with pytest.raises(StoreError, match="damaged|not a usable survey database"):
        Store(db)
    assert checks == ["PRAGMA quick_check"]  # read through, not let in by a marker


def test_a_database_reached_through_a_link_has_its_wal_seen(tmp_path: Path, checks: list[str]) -> None:
    """SQLite keeps the WAL beside the file a link points to: a commit by another program there is a change."""
    (tmp_path / "real").mkdir()
    db = _study_db(tmp_path / "real")
    link = tmp_path / "survey.db"
    link.symlink_to(db)
    with Store(link):
        pass
    other = sqlite3.connect(db)  # kept open: its commit stays in the WAL
    other.execute("UPDATE answers SET value = '9' WHERE interview_id = 1")
    other.commit()
    checks.clear()
    try:
        Store(link).close()
    finally:
        other.close()
    assert len(checks) == 1
