"""A database this program changed only through its own transactions, on a file known clean just before, is
not read through again by the next open (quick_check reads every page: seconds on a tracker); any other
change, or damage, still is."""

from __future__ import annotations

import random
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from survey_tui.core.store import sqlite as store_module
from survey_tui.core.store.sqlite import Store, StoreError


@pytest.fixture
def checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The quick_checks every store opened from now on runs (this process's memory of clean files emptied)."""
    monkeypatch.setenv("SURVEY_TUI_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(store_module, "_KNOWN_CLEAN", {})
    statements: list[str] = []
    connect = Store._connect

    def traced(self: Store) -> sqlite3.Connection:
        conn = connect(self)
        conn.set_trace_callback(lambda s: statements.append(s) if "quick_check" in s else None)
        return conn

    monkeypatch.setattr(Store, "_connect", traced)
    return statements


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
    rng = random.Random(3)
    size = db.stat().st_size
    with db.open("r+b") as handle:  # damage after our last write: the file's time changes, so it is seen
        for _ in range(40):
            handle.seek(rng.randrange(4096, size - 256))
            handle.write(rng.randbytes(200))
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
