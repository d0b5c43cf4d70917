"""A reading command's check of a never-checked database runs behind its work: the store opens at once and is
read, while nothing made from it (a file, a write to the database) gets out before the whole-file check has
found it clean; a damaged file still ends the command with the check's words and leaves nothing behind."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import sys
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


def test_ctrl_c_stops_the_check_and_leaves_no_process(
    tmp_path: Path, checks: list[str], started: list[check_behind.BehindCheck], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _study_db(tmp_path)
    _from_elsewhere(tmp_path)
    monkeypatch.setattr(check_behind, "_CHILD", "import time; time.sleep(120)")
    with pytest.raises(KeyboardInterrupt), checks_behind():
        Store(db).close()
        child = started[0]._proc
        raise KeyboardInterrupt
    assert child.poll() is not None and child.returncode < 0  # killed, not waited for
    assert not check_behind.enabled() and check_behind._checks == {}
    assert _markers(tmp_path) == []  # never finished: the next open checks the file


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
