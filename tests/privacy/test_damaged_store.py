"""A damaged or unusable survey.db is refused with a message saying how to restore it, and never written to."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from survey_tui.cli import main
from survey_tui.core.store.sqlite import Store, StoreError


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def _damage(db: Path, kind: str) -> None:
    if kind == "empty":
        db.write_bytes(b"")
    elif kind == "truncated":
        with db.open("r+b") as handle:
            handle.truncate(db.stat().st_size // 3)
    elif kind == "random pages":
        rng = random.Random(7)
        size = db.stat().st_size
        with db.open("r+b") as handle:
            for _ in range(40):
                handle.seek(rng.randrange(4096, size - 256))
                handle.write(rng.randbytes(200))
    elif kind == "directory":
        db.unlink()
        db.mkdir()
    elif kind == "newer schema":
        conn = sqlite3.connect(db)
        conn.execute("PRAGMA user_version = 999")
        conn.commit()
        conn.close()
    elif kind == "other database":
        db.unlink()
        conn = sqlite3.connect(db)
        conn.execute("CREATE TABLE notes (x)")
        conn.execute("PRAGMA user_version = 5")
        conn.commit()
        conn.close()


KINDS = ["empty", "truncated", "random pages", "directory", "newer schema", "other database"]


@pytest.fixture
def study_copy(demo_study_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "study"
    shutil.copytree(demo_study_dir, target)
    return target


@pytest.mark.parametrize("kind", KINDS)
def test_every_command_refuses_a_damaged_database_and_leaves_its_bytes(
    kind: str, study_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = study_copy / "survey.db"
    _damage(db, kind)
    before = _digest(db)
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("name,phone\n王小明,0912345678\n", encoding="utf-8")
    commands = [
        ["respondents", "list", "--study", str(study_copy)],
        ["respondents", "import", str(contacts), "--study", str(study_copy)],
        ["respondents", "withdraw", "R0001", "--study", str(study_copy)],
        ["export", "--study", str(study_copy), "--format", "csv"],
        ["tables", "--study", str(study_copy), "--banner", "s3"],
        ["publish", "--study", str(study_copy)],
    ]
    for argv in commands:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert "survey.db" in err, (argv, err)
        assert "Traceback" not in err
        if kind not in ("directory", "newer schema"):
            assert "restore" in err, err
        assert _digest(db) == before, f"{kind}: {argv} changed the database"
    assert not any(p.name.startswith(".survey.db") for p in study_copy.iterdir())


def test_a_damaged_database_gives_no_traceback_as_a_user_runs_it(study_copy: Path) -> None:
    _damage(study_copy / "survey.db", "random pages")
    result = subprocess.run(
        [sys.executable, "-m", "survey_tui", "respondents", "list", "--study", str(study_copy)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert result.returncode == 1
    assert "damaged" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1  # one problem, one line


def test_a_new_database_is_never_seen_empty(tmp_path: Path) -> None:
    """A new store is built aside and linked into place, so a 0-byte survey.db always means damage."""
    path = tmp_path / "survey.db"
    Store(path).close()
    assert path.stat().st_size > 0
    assert [p.name for p in tmp_path.iterdir()] == ["survey.db"]
    path.write_bytes(b"")
    with pytest.raises(StoreError, match="empty"):
        Store(path)
    assert path.stat().st_size == 0


def test_a_read_only_store_reads_and_refuses_writes_without_changing_the_file(tmp_path: Path) -> None:
    path = tmp_path / "survey.db"
    with Store(path) as store:
        version = store.publish_instrument("x", "text")
        store.save_answer(store.start_interview(version.id).id, "q1", 3, None)
    before = _digest(path)
    with Store(path, readonly=True) as store:
        assert store.answers(1)["q1"].value == 3
        with pytest.raises(StoreError, match="read-only"):
            store.save_answer(1, "q1", 4, None)
    assert _digest(path) == before


def test_a_full_disk_stops_the_write_and_keeps_what_was_stored(tmp_path: Path) -> None:
    """SQLite's SQLITE_FULL, produced by capping the page count (the same error a full disk gives)."""
    path = tmp_path / "survey.db"
    with Store(path) as store:
        version = store.publish_instrument("x", "text")
        interview = store.start_interview(version.id).id
        store.save_answer(interview, "q1", "kept", None)
        pages = store.query("PRAGMA page_count")[0][0]
        store.query(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(StoreError, match="disk is full"):
            store.save_answer(interview, "q2", "x" * 200_000, None)
        assert store.answers(interview) == {"q1": store.answers(interview)["q1"]}
        assert store.answers(interview)["q1"].value == "kept"
        assert store.integrity_check() == "ok"


@pytest.mark.skipif(os.geteuid() == 0, reason="file permissions do not bind root; run as a normal user")
def test_a_read_only_study_folder_can_be_listed_and_exported_elsewhere(study_copy: Path, tmp_path: Path) -> None:
    before = _digest(study_copy / "survey.db")
    for path in [study_copy, *study_copy.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)
    try:
        assert main(["respondents", "list", "--study", str(study_copy)]) == 0
        assert main(["respondents", "withdraw", "R0001", "--study", str(study_copy)]) == 1
    finally:
        for path in [study_copy, *study_copy.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
    assert _digest(study_copy / "survey.db") == before


def test_a_study_that_cannot_be_written_is_still_read(
    study_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What a read-only folder looks like to the store (root ignores permission bits, so it is simulated)."""
    import survey_tui.core.store.sqlite as store_module

    db = study_copy / "survey.db"
    with Store(db) as store:
        rid = store.query("SELECT id FROM respondents WHERE status = 'completed' LIMIT 1")[0][0]
    before = _digest(db)
    monkeypatch.setattr(store_module, "_writable", lambda path: False)
    monkeypatch.setattr(store_module.os, "access", lambda path, mode: False)
    assert main(["respondents", "list", "--study", str(study_copy)]) == 0
    assert "respondents" in capsys.readouterr().out
    assert main(["respondents", "withdraw", rid, "--study", str(study_copy)]) == 1
    assert "read-only" in capsys.readouterr().err
    assert _digest(db) == before


def test_a_pipe_closed_early_ends_quietly(demo_study_dir: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "survey_tui", "respondents", "list", "--limit", "400", "--study", str(demo_study_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()  # like `| head -1`
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) in (0, 141)
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["respondents", "withdraw", "NO-SUCH-ID"], "no respondent NO-SUCH-ID"),
        (["init", "{file}", "--title", "t"], "is a file, not a folder"),
    ],
)
def test_plain_mistakes_give_one_located_line(
    argv: list[str], expected: str, study_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    argv = [a.replace("{file}", str(afile)) for a in argv]
    if argv[0] == "respondents":
        argv += ["--study", str(study_copy)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


def test_a_file_checked_clean_and_unchanged_is_not_read_through_again(
    study_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """quick_check reads every page; an unchanged file checked clean before skips it, a changed one does not."""
    statements: list[str] = []
    run = Store._quick_check

    def traced(conn: sqlite3.Connection) -> list[str]:
        statements.append("PRAGMA quick_check")
        return run(conn)

    monkeypatch.setattr(Store, "_quick_check", staticmethod(traced))
    db = study_copy / "survey.db"

    def checks_on_open() -> int:
        statements.clear()
        Store(db).close()
        return sum("quick_check" in s for s in statements)

    assert checks_on_open() == 1  # a copy is a new file (new inode): checked
    assert checks_on_open() == 0  # unchanged since: not read through again
    held = Store(db)  # another process's connection keeps an empty WAL beside the file: still unchanged
    assert Path(f"{db}-wal").exists()
    assert checks_on_open() == 0
    held.close()
    assert checks_on_open() == 0
    _damage(db, "random pages")
    with pytest.raises(StoreError, match="damaged|not a usable survey database"):
        Store(db)
