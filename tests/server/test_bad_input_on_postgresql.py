"""Bad input on a PostgreSQL study (issue 13): an unreachable server, wrong credentials, a database of a newer
schema and a laptop synced against another study each get a clear message, and nothing is written anywhere.

"Nothing written" is checked by counting, before and after, every table a refused step could have touched,
on the server and on the laptop.
"""

from __future__ import annotations

import random
import socket
import textwrap
from pathlib import Path

import pytest

psycopg = pytest.importorskip("psycopg")

from survey_tui.cli import main  # noqa: E402
from survey_tui.core.fieldwork import respondents as resp  # noqa: E402
from survey_tui.core.store.base import StoreError  # noqa: E402
from survey_tui.core.store.postgres import PostgresStore  # noqa: E402
from survey_tui.core.store.schema import MIGRATIONS  # noqa: E402
from survey_tui.core.store.sqlite import Store  # noqa: E402
from survey_tui.core.store.sync import device_status  # noqa: E402
from survey_tui.core.study import Study, init_study, open_study  # noqa: E402
from tests.conftest import SMALL  # noqa: E402
from tests.sync.helpers import capture  # noqa: E402

SERVER_TABLES = ("interviews", "answers", "audit_log", "respondents", "sync_receipts", "respondent_status_history")
DEVICE_TABLES = ("device_sync_state", "device_push_marks", "interviews", "answers")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


def _team(root: Path, url: str) -> Study:
    """A team study whose data live on `url`, with two respondents assigned to amy."""
    init_study(root, "Team", "ACME", ["zh-TW", "en"], store=url)
    (root / "instruments" / "small.yaml").write_text(textwrap.dedent(SMALL), encoding="utf-8")
    study = open_study(root)
    study.publish(study.load_instrument().id)
    with study.store() as store:
        ids = [resp.add(store, {"region": 1}, {"name": f"受訪者 {n}", "phone": f"09{n:08d}"}) for n in range(2)]
        resp.assign(store, ids, "amy")
    return study


def _counts(url: str, tables: tuple[str, ...] = SERVER_TABLES) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {t: int(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in tables}


def _device_counts(laptop: Path) -> dict[str, int]:
    with Store(laptop / "survey.db") as device:
        return {t: int(device.query(f"SELECT COUNT(*) FROM {t}")[0][0]) for t in DEVICE_TABLES}


def _schema(url: str) -> list[tuple[object, ...]]:
    """Every table and every applied migration of the database: what a refused open must leave as it was."""
    with psycopg.connect(url) as conn:
        tables = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").fetchall()
        exists = conn.execute("SELECT to_regclass('survey_schema_migrations')").fetchone()[0]
        applied = (
            conn.execute("SELECT version, at FROM survey_schema_migrations ORDER BY 1").fetchall() if exists else []
        )
    return [*tables, *applied]


@pytest.fixture
def laptop(pg_cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):  # type: ignore[no-untyped-def]
    """A team study on the server, and amy's laptop checked out of it holding one interview not yet synced."""
    monkeypatch.delenv("SURVEY_TUI_DATABASE_URL", raising=False)
    url = pg_cluster.create_database()
    team = _team(tmp_path / "team", url)
    target = tmp_path / "laptop"
    assert main(["device", "checkout", "--server", str(team.root), "--interviewer", "amy", str(target)]) == 0
    with Store(target / "survey.db") as device:
        capture(device, random.Random(3), "amy", None)
    capsys.readouterr()
    yield team, url, target
    pg_cluster.drop_database(url)


def test_wrong_credentials_are_refused_and_nothing_is_created(pg_url: str, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    stranger = pg_url.replace("postgres@", "mallory@", 1)  # a user with no password in the libpq file
    wrong = pg_url.replace("postgres@", "postgres:not-the-password@", 1)
    before = _schema(pg_url)
    assert main(["init", str(tmp_path / "s"), "--title", "t", "--store", stranger]) == 1
    err = capsys.readouterr().err
    assert "refused these credentials" in err and "Traceback" not in err
    assert not (tmp_path / "s").exists()
    assert main(["server", "setup", wrong]) == 1
    err = capsys.readouterr().err
    assert "refused these credentials" in err and "not-the-password" not in err
    assert _schema(pg_url) == before == []  # no schema, no version table: the database is as empty as it was


def test_a_newer_schema_is_refused_by_every_opener_and_left_as_it_was(
    pg_url: str, tmp_path: Path, monkeypatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    PostgresStore(pg_url, migrations=[*MIGRATIONS, "CREATE TABLE later (x TEXT);"]).close()  # a newer survey-tui
    before = _schema(pg_url)
    with pytest.raises(StoreError, match=f"newer survey-tui \\(schema {len(MIGRATIONS) + 1}, this one knows"):
        PostgresStore(pg_url)
    assert main(["server", "setup", pg_url]) == 1
    assert "newer survey-tui" in capsys.readouterr().err
    assert main(["init", str(tmp_path / "s"), "--title", "t", "--store", pg_url]) == 1
    err = capsys.readouterr().err
    assert "newer survey-tui" in err and "Traceback" not in err and not (tmp_path / "s").exists()
    assert _schema(pg_url) == before
    assert _counts(pg_url, ("interviews", "instrument_versions")) == {"interviews": 0, "instrument_versions": 0}


def test_a_laptop_synced_against_another_server_study_is_refused_and_nothing_is_written(
    laptop, pg_cluster, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    _, _, target = laptop
    other_url = pg_cluster.create_database()
    try:
        other = _team(tmp_path / "other", other_url)
        server_before, device_before = _counts(other_url), _device_counts(target)
        assert main(["sync", "--study", str(target), "--server", str(other.root)]) == 1
        err = capsys.readouterr().err
        assert "refused, nothing was written on either side" in err and "Traceback" not in err
        assert _counts(other_url) == server_before
        assert _device_counts(target) == device_before
        with Store(target / "survey.db") as device:
            assert device_status(device)["waiting"] == 1  # still to send, to the right server
    finally:
        pg_cluster.drop_database(other_url)


def test_a_sync_with_the_server_out_of_reach_says_so_and_writes_nothing(laptop, capsys) -> None:  # type: ignore[no-untyped-def]
    team, url, target = laptop
    config = team.root / "study.yaml"
    text = config.read_text(encoding="utf-8")
    gone = f"postgresql://postgres@127.0.0.1:{_closed_port()}/nothing"
    config.write_text(text.replace(url, gone), encoding="utf-8")  # the team's server is down
    server_before, device_before = _counts(url), _device_counts(target)
    assert main(["sync", "--study", str(target)]) == 1
    err = capsys.readouterr().err
    assert "cannot reach the study server" in err and "nothing was changed" in err and "Traceback" not in err
    assert _counts(url) == server_before and _device_counts(target) == device_before
    config.write_text(text, encoding="utf-8")  # back: the same sync now finishes the job
    assert main(["sync", "--study", str(target)]) == 0
    assert "1 stored" in capsys.readouterr().out
    assert _counts(url)["interviews"] == server_before["interviews"] + 1
