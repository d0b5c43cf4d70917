"""A study on a PostgreSQL server: how it is named, set up and refused (clear messages, nothing written)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

psycopg = pytest.importorskip("psycopg")

from survey_tui.cli import main  # noqa: E402
from survey_tui.core.store.postgres import PostgresStore  # noqa: E402
from survey_tui.core.store.schema import MIGRATIONS  # noqa: E402
from survey_tui.core.study import open_study  # noqa: E402


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


def test_init_with_a_server_keeps_the_data_there_and_no_survey_db(pg_url: str, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "team-study"
    assert main(["init", str(target), "--title", "團隊研究", "--store", pg_url]) == 0
    study = open_study(target)
    assert study.config.store == pg_url and study.server_url == pg_url
    assert not (target / "survey.db").exists()
    with study.store() as store:
        assert store.dialect == "postgresql" and store.schema_version == len(MIGRATIONS)
        store.publish_instrument("x", "t")
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT COUNT(*) FROM instrument_versions").fetchone()[0] == 1


def test_a_password_in_study_yaml_is_refused_with_a_located_message(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "s"
    assert main(["init", str(target), "--title", "t", "--store", "postgresql://amy:secret@db/brand"]) == 1
    err = capsys.readouterr().err
    assert "password does not belong in study.yaml" in err and "secret" not in err and not target.exists()
    assert main(["init", str(target), "--title", "t"]) == 0
    text = (target / "study.yaml").read_text(encoding="utf-8")
    (target / "study.yaml").write_text(text + "store: postgresql://amy@db/brand?password=hunter2\n", encoding="utf-8")
    assert main(["check", str(target)]) == 1
    out = capsys.readouterr()
    err = out.out + out.err
    assert "study.yaml:" in err and "password does not belong" in err and "hunter2" not in err


def test_the_environment_variable_names_the_server(pg_url: str, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert main(["init", str(tmp_path / "s"), "--title", "t"]) == 0
    monkeypatch.setenv("SURVEY_TUI_DATABASE_URL", pg_url)
    with open_study(tmp_path / "s").store() as store:
        assert store.dialect == "postgresql"
    monkeypatch.delenv("SURVEY_TUI_DATABASE_URL")
    with open_study(tmp_path / "s").store() as store:
        assert store.dialect == "sqlite"


def test_unreachable_server_and_wrong_credentials_say_so(pg_cluster, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    gone = f"postgresql://postgres@127.0.0.1:{_closed_port()}/nothing"
    assert main(["init", str(tmp_path / "a"), "--title", "t", "--store", gone]) == 1
    err = capsys.readouterr().err
    assert "cannot reach the study server" in err and "Traceback" not in err and not (tmp_path / "a").exists()
    wrong = f"postgresql://postgres:not-the-password@127.0.0.1:{pg_cluster.port}/postgres"
    assert main(["server", "setup", wrong]) == 1
    err = capsys.readouterr().err
    assert "refused these credentials" in err and "not-the-password" not in err and "***" in err


def test_server_setup_on_an_empty_database_then_refuses_a_newer_one(pg_url: str, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["server", "setup", pg_url]) == 0
    assert f"schema version {len(MIGRATIONS)}" in capsys.readouterr().out
    with psycopg.connect(pg_url) as conn:
        roles = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE 'survey_%'")}
        assert roles == {"survey_interviewer", "survey_supervisor", "survey_analyst"}
        assert conn.execute("SELECT relrowsecurity FROM pg_class WHERE relname = 'respondent_contacts'").fetchone()[0]
    assert main(["server", "setup", pg_url]) == 0  # idempotent
    PostgresStore(pg_url, migrations=[*MIGRATIONS, "CREATE TABLE later (x TEXT);"]).close()
    capsys.readouterr()
    assert main(["server", "setup", pg_url]) == 1
    err = capsys.readouterr().err
    assert "newer survey-tui" in err and "Traceback" not in err


def test_a_database_of_another_program_is_not_taken_over(pg_url: str, capsys) -> None:  # type: ignore[no-untyped-def]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    assert main(["server", "setup", pg_url]) == 1
    assert "tables of another program (invoices)" in capsys.readouterr().err
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT to_regclass('interviews')").fetchone()[0] is None
