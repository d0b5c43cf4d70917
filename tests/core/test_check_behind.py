"""A reading command's check of a never-checked database runs behind its work: the store opens at once and is
read, while nothing made from it (a file, a write to the database) gets out before the whole-file check has
found it clean; a damaged file still ends the command with the check's words and leaves nothing behind."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import sqlite3
import sys
import threading
from pathlib import Path

import pytest

from survey_tui.cli import main
from survey_tui.core.atomic import write_text_atomic
from survey_tui.core.store import check_behind
from survey_tui.core.store import sqlite as store_module
from survey_tui.core.store.check_behind import checks_behind, confirm_clean
from survey_tui.core.store.sqlite import Store, StoreError
from tests.core.test_known_clean import _from_elsewhere, _new_process, _study_db


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[check_behind.BehindCheck]:
    """Every check started behind from now on."""
    made: list[check_behind.BehindCheck] = []

    class Counted(check_behind.BehindCheck):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            made.append(self)

    monkeypatch.setattr(check_behind, "BehindCheck", Counted)
    return made


def _damage_an_index(db: Path) -> None:
    """Garbage over the root page of the interview log's index: reading answers never meets it, the
    whole-file check does (as with damage in any table a command does not read)."""
    conn = sqlite3.connect(db)
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'events_by_interview'").fetchone()[0]
    conn.close()  # the last connection: the WAL copied into the file (which stays in WAL mode)
    with db.open("r+b") as handle:
        handle.seek((root - 1) * size)
        handle.write(b"\x0d" + b"\xff" * (size - 1))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _markers(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "cache" / "checked"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_the_store_opens_at_once_is_read_and_its_check_is_recorded_when_confirmed(
    tmp_path: Path, checks: list[str], started: list[check_behind.BehindCheck]
) -> None:
    db = _study_db(tmp_path)
    _from_elsewhere(tmp_path)
    checks.clear()
    with checks_behind():
        store = Store(db)
        assert checks == []  # not read through by this process: a child does it
        assert len(started) == 1 and not started[0].done
        assert store.query("SELECT count(*) FROM answers")[0][0] == 3
        second = Store(db)  # a screen's or a section's own store: shares the check in flight
        assert len(started) == 1
        confirm_clean()
        assert started[0].done and started[0].verdict() is None
        store.close()
        second.close()
    assert _markers(tmp_path)
    _new_process()
    Store(db).close()
    assert checks == [] and len(started) == 1  # the next process trusts the recorded check


def test_a_damaged_file_found_behind_lets_no_write_and_no_file_out(
    tmp_path: Path, checks: list[str], started: list[check_behind.BehindCheck]
) -> None:
    db = _study_db(tmp_path)
    _damage_an_index(db)
    _from_elsewhere(tmp_path)
    before = _digest(db)
    target = tmp_path / "out" / "tables.md"
    reached = []
    with pytest.raises(StoreError, match="damaged"), checks_behind():
        store = Store(db)
        assert store.query("SELECT count(*) FROM answers")[0][0] == 3  # the damage is elsewhere
        with pytest.raises(StoreError, match="damaged"), store.transaction() as conn:
            conn.execute("DELETE FROM answers")
        with pytest.raises(StoreError, match="damaged"):
            write_text_atomic(target, "| 甲牌 | 3 |\n")
        assert list(target.parent.iterdir()) == []  # not the file, nor its temporary copy
        store.close()
        reached.append(True)  # the command ends: its exit says the same again
    assert reached and len(started) == 1
    assert _digest(db) == before
    assert _markers(tmp_path) == []
    with pytest.raises(StoreError, match="damaged"):  # and an open outside a reading command refuses it
        Store(db)


def test_without_a_child_the_same_check_runs_here(
    tmp_path: Path, checks: list[str], started: list[check_behind.BehindCheck], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _study_db(tmp_path)
    _from_elsewhere(tmp_path)
    with monkeypatch.context() as patch, checks_behind():
        patch.setattr(sys, "executable", "")  # an embedded interpreter: no child can be started
        Store(db).close()
    assert _markers(tmp_path)
    _damage_an_index(db)
    _from_elsewhere(tmp_path)
    reached = []
    with monkeypatch.context() as patch, pytest.raises(StoreError, match="damaged"), checks_behind():
        patch.setattr(check_behind, "_CHILD", "import os; os._exit(9)")  # a child that dies
        Store(db).close()
        reached.append(True)
    assert reached and len(started) == 2 and _markers(tmp_path) == []


@pytest.fixture
def damaged_study(demo_study_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "study"
    shutil.copytree(demo_study_dir, target)
    monkeypatch.setenv("SURVEY_TUI_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(store_module, "_KNOWN_CLEAN", {})
    _damage_an_index(target / "survey.db")
    return target


def _files(folder: Path) -> dict[str, float]:
    return {str(p.relative_to(folder)): p.stat().st_mtime for p in folder.rglob("*") if not p.is_dir()}


@pytest.mark.parametrize(
    "argv",
    [
        ["report"],
        ["report", "--format", "md,docx,pptx", "--bundle"],
        ["tables", "--banner", "s3"],
        ["tables", "--banner", "s3", "--format", "xlsx"],
        ["tables", "--frequencies", "--format", "csv"],
        ["tables", "--plan", "tabs/main.yaml", "--format", "xlsx"],
        ["export", "--format", "all"],
    ],
    ids=lambda argv: " ".join(argv),
)
def test_every_reading_command_on_a_file_damaged_where_it_does_not_read_writes_nothing(
    argv: list[str], damaged_study: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = damaged_study / "survey.db"
    before, files = _digest(db), _files(damaged_study)
    assert main([*argv, "--study", str(damaged_study)]) == 1
    err = capsys.readouterr().err
    assert "survey.db: the study database is damaged" in err and "restore" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert _files(damaged_study) == files  # no report, table, export or temporary file, nothing touched
    assert _digest(db) == before


def test_a_file_that_opening_writes_to_is_checked_before_even_behind(tmp_path: Path, checks: list[str]) -> None:
    db = _study_db(tmp_path)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = DELETE")  # opening switches it to WAL: a write to the header
    conn.close()
    _damage_an_index(db)
    _from_elsewhere(tmp_path)
    before = _digest(db)
    with pytest.raises(StoreError, match="damaged"), checks_behind():
        Store(db)
    assert _digest(db) == before


def test_the_marker_is_the_fingerprint_taken_before_the_check(tmp_path: Path, checks: list[str]) -> None:
    db = _study_db(tmp_path)
    _from_elsewhere(tmp_path)
    with checks_behind():
        store = Store(db)
        other = sqlite3.connect(db, isolation_level=None)  # another process's commit while the check runs
        other.execute("PRAGMA wal_autocheckpoint = 0")
        other.execute("UPDATE answers SET value = value")
        confirm_clean()
        store.close()
    _new_process()
    checks.clear()
    Store(db).close()  # the state committed during the check was not the one vouched for
    other.close()
    assert checks, "the marker vouched for a state of the file its check may not have seen"


def test_a_file_renamed_onto_the_path_while_the_command_reads_gets_no_verdict(
    tmp_path: Path, checks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _study_db(tmp_path)
    clean = tmp_path / "backup.db"
    clean.write_bytes(db.read_bytes())
    _damage_an_index(db)
    _from_elsewhere(tmp_path)
    monkeypatch.setattr(check_behind, "_CHILD", "import time; time.sleep(0.5)\n" + check_behind._CHILD)
    with pytest.raises(StoreError, match="replaced"), checks_behind():
        store = Store(db)  # reads the damaged file from here on
        os.replace(clean, db)  # a restore (or a sync tool) renames another file onto the path
        confirm_clean()
        store.close()
    assert not (tmp_path / "cache" / "checked").exists() or not list((tmp_path / "cache" / "checked").iterdir())


def _with_committed_wal(db: Path, target: Path) -> None:
    """A copy of `db` taken while a writer had frames in its WAL not yet copied into the file (a crash)."""
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("UPDATE interviews SET interviewer = 'bob'")  # the same value would write nothing
    target.mkdir()
    for name in ("survey.db", "survey.db-wal"):
        shutil.copyfile(db.with_name(name), target / name)
    writer.close()


@pytest.mark.parametrize("behind", [False, True], ids=["at open", "reading command"])
def test_a_damaged_file_with_committed_frames_in_its_wal_is_refused_without_copying_them_in(
    tmp_path: Path, checks: list[str], started: list[check_behind.BehindCheck], behind: bool
) -> None:
    db = _study_db(tmp_path)
    _damage_an_index(db)
    copy = tmp_path / "crashed"
    _with_committed_wal(db, copy)
    wal = copy / "survey.db-wal"
    before = (_digest(copy / "survey.db"), _digest(wal))
    assert wal.stat().st_size > 0
    _from_elsewhere(tmp_path)
    checks.clear()
    with pytest.raises(StoreError, match="damaged"), checks_behind() if behind else contextlib.nullcontext():
        Store(copy / "survey.db")
    assert (_digest(copy / "survey.db"), _digest(wal)) == before  # "left exactly as it is", the WAL too
    assert len(checks) == 1 and started == []  # checked at open even for a reading command


@pytest.mark.parametrize("waiting", [False, True], ids=["before the verdict is needed", "waiting for it"])
def test_ctrl_c_stops_the_check_and_leaves_no_process(
    tmp_path: Path,
    checks: list[str],
    started: list[check_behind.BehindCheck],
    monkeypatch: pytest.MonkeyPatch,
    waiting: bool,
) -> None:
    db = _study_db(tmp_path)
    _from_elsewhere(tmp_path)
    monkeypatch.setattr(check_behind, "_CHILD", "import time; time.sleep(120)")

    def press_ctrl_c() -> None:  # the signal to the main thread, blocked reading the child's answer
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # a job in the background ignores it
    try:
        with pytest.raises(KeyboardInterrupt), checks_behind():
            Store(db).close()
            if not waiting:
                raise KeyboardInterrupt
            threading.Timer(0.2, press_ctrl_c).start()
            confirm_clean()  # a file about to be written: waits for the verdict
    finally:
        signal.signal(signal.SIGINT, previous)
    child = started[0]._proc
    assert child is not None and child.returncode is not None and child.returncode < 0  # killed, not waited for
    assert not check_behind.enabled() and check_behind._checks == {}
    assert _markers(tmp_path) == []  # never finished: the next open checks the file


def test_a_report_keeps_the_old_list_of_exclusions_until_the_data_is_found_clean(
    damaged_study: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No exclusions now: the report deletes the list an earlier run left, a decision made from the data."""
    conn = sqlite3.connect(damaged_study / "survey.db")
    conn.execute("DELETE FROM quality_decisions")
    conn.commit()
    conn.close()
    stale = damaged_study / "exports" / "report_excluded_interviews.csv"
    stale.parent.mkdir(exist_ok=True)
    stale.write_text("interview\n1\n", encoding="utf-8")
    assert main(["report", "--format", "md", "--study", str(damaged_study)]) == 1
    assert "damaged" in capsys.readouterr().err
    assert stale.read_text(encoding="utf-8") == "interview\n1\n"
