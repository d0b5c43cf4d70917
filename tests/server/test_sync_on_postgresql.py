"""A laptop checked out from a team study whose data live on PostgreSQL, interviewed offline, synced back.

The team's study folder names its server in study.yaml (`store:`); the laptop gets the instruments and its
interviewer's respondents, keeps its own embedded survey.db, and its interviews reach the server once each.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from survey_tui.cli import main
from survey_tui.core.store.sqlite import Store
from survey_tui.core.study import open_study
from survey_tui.demo.build import capture_interviews
from tests.sync.helpers import answers_by_uuid


@pytest.fixture
def team_study(pg_cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from survey_tui.demo.build import build_demo

    url = pg_cluster.create_database()
    root = tmp_path / "team"
    monkeypatch.setenv("SURVEY_TUI_DATABASE_URL", url)
    build_demo(root, interviews=30, seed=5)
    monkeypatch.delenv("SURVEY_TUI_DATABASE_URL")
    text = (root / "study.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?ms)^weighting:.*?(?=^\S)", "", text)  # 30 interviews leave a weighting cell empty
    (root / "study.yaml").write_text(f"store: {url}\n{text}", encoding="utf-8")
    yield root
    pg_cluster.drop_database(url)


def test_a_laptop_syncs_into_the_postgresql_study(team_study: Path, tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with open_study(team_study).store() as server:
        url = server.url
        assert server.dialect == "postgresql"
        mine = int(server.query("SELECT COUNT(*) FROM respondents WHERE interviewer = ?", ("林志明",))[0][0])
        before = int(server.query("SELECT COUNT(*) FROM interviews")[0][0])
    laptop = tmp_path / "laptop"
    assert main(["device", "checkout", "--server", str(team_study), "--interviewer", "林志明", str(laptop)]) == 0
    assert f"{mine} respondents" in capsys.readouterr().out
    # the laptop keeps its own embedded store, even in a shell that names the team's server for everything else
    monkeypatch.setenv("SURVEY_TUI_DATABASE_URL", url)
    assert "store: embedded" in (laptop / "study.yaml").read_text(encoding="utf-8")
    device_study = open_study(laptop)
    assert device_study.server_url is None
    with device_study.store() as store:
        assert store.dialect == "sqlite"
    assert (laptop / "survey.db").is_file()

    with device_study.store() as device:
        version = device.versions()[-1]
        capture_interviews(device, device_study.instrument_for_version(version), version.id, 5, seed=3)
    assert main(["sync", "--study", str(laptop)]) == 0
    assert "5 stored" in capsys.readouterr().out
    assert main(["sync", "--study", str(laptop)]) == 0  # a second sync sends nothing twice
    assert "nothing new" in capsys.readouterr().out

    with open_study(team_study).store() as server, Store(laptop / "survey.db") as device:
        assert int(server.query("SELECT COUNT(*) FROM interviews")[0][0]) == before + 5
        theirs = answers_by_uuid(server)
        mine_answers = answers_by_uuid(device)
        assert mine_answers and all(theirs[uuid] == answers for uuid, answers in mine_answers.items())
        uuids = [r[0] for r in server.query("SELECT uuid FROM interviews")]
        assert len(uuids) == len(set(uuids))


def test_a_database_url_as_the_server_says_to_name_the_study_folder(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(
        ["device", "checkout", "--server", "postgresql://db/study", "--interviewer", "amy", str(tmp_path / "x")]
    )
    assert "study folder" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
