"""The SQLite store: durability settings, immutability of published versions, migrations, permissions."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from survey_tui.core.store.sqlite import MIGRATIONS, Store, StoreError


def test_pragmas_for_durability(tmp_path: Path) -> None:
    store = Store(tmp_path / "survey.db")
    assert store.query("PRAGMA journal_mode")[0][0] == "wal"
    assert store.query("PRAGMA synchronous")[0][0] == 2  # FULL
    assert store.query("PRAGMA busy_timeout")[0][0] >= 5000
    assert store.schema_version == len(MIGRATIONS)


def test_database_file_is_private_to_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "survey.db"
    store = Store(path)
    store.publish_instrument("x", "text")
    for file in (path, Path(f"{path}-wal")):
        if file.exists():
            assert stat.S_IMODE(file.stat().st_mode) & 0o077 == 0, file


def test_published_versions_are_immutable_snapshots(tmp_path: Path) -> None:
    store = Store(tmp_path / "survey.db")
    v1 = store.publish_instrument("brand", "version one")
    assert v1.version == 1 and len(v1.sha256) == 64
    assert store.publish_instrument("brand", "version one").id == v1.id  # same text: same version
    v2 = store.publish_instrument("brand", "version two")
    assert v2.version == 2
    with pytest.raises(sqlite3.IntegrityError, match="immutable"), store.transaction() as conn:
        conn.execute("UPDATE instrument_versions SET source = 'tampered' WHERE id = ?", (v1.id,))
    with pytest.raises(sqlite3.IntegrityError, match="immutable"), store.transaction() as conn:
        conn.execute("DELETE FROM instrument_versions WHERE id = ?", (v1.id,))
    assert store.version_by_id(v1.id).source == "version one"


def test_answers_upsert_and_audit_old_and_new_values(tmp_path: Path) -> None:
    store = Store(tmp_path / "survey.db")
    version = store.publish_instrument("x", "t")
    row = store.start_interview(version.id, mode="pilot")
    assert store.save_answer(row.id, "q1", 3, None)
    assert not store.save_answer(row.id, "q1", 3, None)  # unchanged: nothing written
    assert store.save_answer(row.id, "q1", None, "dont_know")
    assert store.answers(row.id)["q1"].special == "dont_know"
    audit = store.audit(row.id)
    assert [(a["action"], a["old_value"], a["new_value"], a["new_special"]) for a in audit] == [
        ("answered", None, "3", None),
        ("changed", "3", None, "dont_know"),
    ]


def test_a_failed_transaction_leaves_nothing_half_written(tmp_path: Path) -> None:
    store = Store(tmp_path / "survey.db")
    version = store.publish_instrument("x", "t")
    row = store.start_interview(version.id)
    with pytest.raises(RuntimeError), store.transaction():
        store.save_answer(row.id, "q1", 1, None)
        store.save_answer(row.id, "q2", 2, None)
        raise RuntimeError("crash in the middle of a step")
    assert store.answers(row.id) == {}
    assert store.audit(row.id) == []


def test_unknown_mode_is_refused(tmp_path: Path) -> None:
    store = Store(tmp_path / "survey.db")
    version = store.publish_instrument("x", "t")
    with pytest.raises(StoreError, match="unknown interview mode"):
        store.start_interview(version.id, mode="production")


def test_forward_migration_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "survey.db"
    store = Store(path)
    version = store.publish_instrument("x", "t")
    row = store.start_interview(version.id)
    store.save_answer(row.id, "q1", 1, None)
    store.close()
    newer = [*MIGRATIONS, "ALTER TABLE interviews ADD COLUMN supervisor TEXT;"]
    store = Store(path, migrations=newer)
    assert store.schema_version == len(newer)
    assert store.answers(row.id)["q1"].value == 1
    assert "supervisor" in [r[1] for r in store.query("PRAGMA table_info(interviews)")]


def test_a_database_from_a_newer_version_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "survey.db"
    Store(path, migrations=[*MIGRATIONS, "CREATE TABLE later (x);"]).close()
    with pytest.raises(StoreError, match="newer survey-tui"):
        Store(path)


def test_a_file_that_is_not_a_database_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "survey.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a usable survey database"):
        Store(path)


def test_insert_or_replace_cannot_overwrite_a_published_version(tmp_path: Path) -> None:
    store = Store(tmp_path / "survey.db")
    v1 = store.publish_instrument("brand", "version one")
    with pytest.raises(sqlite3.IntegrityError, match="immutable"), store.transaction() as conn:
        conn.execute(
            "INSERT OR REPLACE INTO instrument_versions (id, instrument_id, version, source, sha256, published_at)"
            " VALUES (?, 'brand', 1, 'tampered', 'x', 'now')",
            (v1.id,),
        )
    assert store.version_by_id(v1.id).source == "version one"


def test_audit_rows_cannot_be_rewritten(tmp_path: Path) -> None:
    store = Store(tmp_path / "survey.db")
    version = store.publish_instrument("x", "t")
    row = store.start_interview(version.id)
    store.save_answer(row.id, "q1", 1, None)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"), store.transaction() as conn:
        conn.execute("UPDATE audit_log SET new_value = '2'")


def test_a_failed_commit_leaves_the_store_usable(tmp_path: Path) -> None:
    store = Store(tmp_path / "survey.db")
    version = store.publish_instrument("x", "t")
    row = store.start_interview(version.id)
    with pytest.raises(sqlite3.IntegrityError), store.transaction() as conn:
        conn.execute("PRAGMA defer_foreign_keys = ON")
        conn.execute("INSERT INTO answers (interview_id, question, value, answered_at) VALUES (9999, 'q', '1', 'x')")
    assert store.save_answer(row.id, "q1", 1, None)  # no "cannot start a transaction within a transaction"


def test_an_existing_database_readable_by_others_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "survey.db"
    Store(path).close()
    path.chmod(0o644)
    Store(path).close()
    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def test_several_processes_opening_a_new_database_at_once(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from survey_tui.core.store.sqlite import Store\n"
        "s = Store(Path(sys.argv[1])); v = s.publish_instrument('x', 't'); s.start_interview(v.id); print('ok')"
    )
    for trial in range(3):
        path = tmp_path / f"race{trial}.db"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for _ in range(5)
        ]
        outs = [p.communicate(timeout=120) for p in procs]
        assert all(p.returncode == 0 for p in procs), [err for _, err in outs]
        assert Store(path).query("SELECT COUNT(*) FROM interviews")[0][0] == 5


def test_the_expected_schema_comes_from_the_cache_and_still_refuses_a_mangled_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening a store checks its tables against the schema the migrations build; that schema is kept in the
    user's cache, so later processes need not replay every migration, and the check is as strict from it."""
    import survey_tui.core.store.sqlite as sqlite_store
    from survey_tui.core.cache import cache_dir

    monkeypatch.setenv("SURVEY_TUI_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(sqlite_store, "_EXPECTED", {})
    Store(tmp_path / "first.db").close()
    entries = list(cache_dir("schema").iterdir())
    assert len(entries) == 1
    built = dict(sqlite_store._EXPECTED)

    replayed: list[str] = []
    real = sqlite_store.sqlite_statements
    monkeypatch.setattr(sqlite_store, "sqlite_statements", lambda script: replayed.append(script) or real(script))
    monkeypatch.setattr(sqlite_store, "_EXPECTED", {})  # a new process: only the cache remembers
    Store(tmp_path / "first.db").close()  # up to date: nothing to migrate, so any replay is the check's
    assert replayed == [] and built == sqlite_store._EXPECTED

    mangled = tmp_path / "mangled.db"
    Store(mangled).close()
    with sqlite3.connect(mangled) as conn:
        conn.execute("ALTER TABLE respondents DROP COLUMN eligibility_reason")
    monkeypatch.setattr(sqlite_store, "_EXPECTED", {})
    with pytest.raises(StoreError, match=r"missing respondents\.eligibility_reason"):
        Store(mangled)

    entries[0].write_text('{"respondents": 3}', encoding="utf-8")  # an unreadable entry: built again
    monkeypatch.setattr(sqlite_store, "_EXPECTED", {})
    Store(tmp_path / "first.db").close()
    assert replayed and built == sqlite_store._EXPECTED
