"""The demo study checked out to a laptop, interviewed offline and synced back, through the command line."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from survey_tui.cli import main
from survey_tui.core.store.sqlite import Store
from survey_tui.core.study import init_study, open_study
from survey_tui.demo.build import capture_interviews
from tests.sync.helpers import answers_by_uuid, capture, server_study


def test_demo_checkout_interview_sync_end_to_end(
    demo_study_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server_dir = tmp_path / "server"
    shutil.copytree(demo_study_dir, server_dir)
    laptop = tmp_path / "laptop"
    assert main(["device", "checkout", "--server", str(server_dir), "--interviewer", "林志明", str(laptop)]) == 0
    out = capsys.readouterr().out
    with Store(server_dir / "survey.db") as server:
        mine = int(server.query("SELECT COUNT(*) FROM respondents WHERE interviewer = '林志明'")[0][0])
        before = int(server.query("SELECT COUNT(*) FROM interviews")[0][0])
    assert f"{mine} respondents" in out

    study = open_study(laptop)  # the laptop is a study of its own: capture offline with the real engine
    with study.store() as device:
        version = device.versions()[-1]
        capture_interviews(device, study.instrument_for_version(version), version.id, 6, seed=11)
    assert main(["device", "status", "--study", str(laptop)]) == 0
    assert "6 waiting" in capsys.readouterr().out

    assert main(["sync", "--study", str(laptop)]) == 0
    assert "6 stored" in capsys.readouterr().out
    assert main(["sync", "--study", str(laptop)]) == 0
    assert "nothing new" in capsys.readouterr().out
    with Store(server_dir / "survey.db") as server, Store(laptop / "survey.db") as device:
        assert int(server.query("SELECT COUNT(*) FROM interviews")[0][0]) == before + 6
        theirs = answers_by_uuid(server)
        for uuid, answers in answers_by_uuid(device).items():
            assert theirs[uuid] == answers
    assert main(["conflicts", "list", "--study", str(server_dir)]) == 0
    assert "no conflicts" in capsys.readouterr().out


def test_sync_against_another_study_is_refused(demo_study_dir: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    server_dir = tmp_path / "server"
    shutil.copytree(demo_study_dir, server_dir)
    laptop = tmp_path / "laptop"
    assert main(["device", "checkout", "--server", str(server_dir), "--interviewer", "王建宏", str(laptop)]) == 0
    other = init_study(tmp_path / "other", "Another study")
    capsys.readouterr()
    assert main(["sync", "--study", str(laptop), "--server", str(other.root)]) == 1
    err = capsys.readouterr().err
    assert "refused, nothing was written" in err and "survey-tui sync" in err
    with Store(other.db_path) as store:
        assert int(store.query("SELECT COUNT(*) FROM interviews")[0][0]) == 0


def test_checkout_from_a_database_url_says_it_is_not_available_here(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(
        ["device", "checkout", "--server", "postgresql://db/study", "--interviewer", "amy", str(tmp_path / "x")]
    )
    assert code == 1
    assert "nothing was written" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_sync_with_the_server_out_of_reach_says_so_and_keeps_everything(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    study = server_study(tmp_path / "server", ["amy"], 1)
    assert main(["device", "checkout", "--server", str(study.root), "--interviewer", "amy", str(tmp_path / "lap")]) == 0
    with Store(tmp_path / "lap" / "survey.db") as device:
        capture(device, random.Random(1), "amy", None)
    study.root.rename(tmp_path / "moved")
    capsys.readouterr()
    assert main(["sync", "--study", str(tmp_path / "lap")]) == 1
    assert "cannot be reached" in capsys.readouterr().err
    assert main(["sync", "--study", str(tmp_path / "lap"), "--server", str(tmp_path / "moved")]) == 0
    assert "1 stored" in capsys.readouterr().out


def test_conflicts_are_listed_and_resolved_from_the_command_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from survey_tui.core.store.sync import open_server, sync_device

    study = server_study(tmp_path / "server", ["amy"], 1)
    assert main(["device", "checkout", "--server", str(study.root), "--interviewer", "amy", str(tmp_path / "lap")]) == 0
    with Store(tmp_path / "lap" / "survey.db") as device:
        uuid = capture(device, random.Random(2), "amy", None, n_answers=2)
        server = open_server(str(study.root))
        sync_device(device, server)
        sid = server.store.query("SELECT id FROM interviews WHERE uuid = ?", (uuid,))[0][0]
        server.store.save_answer(sid, "drinks", 2, None, actor="sue")
        server.store.close()
        local = device.query("SELECT id FROM interviews WHERE uuid = ?", (uuid,))[0][0]
        device.save_answer(local, "drinks", 1, None, actor="amy")
    capsys.readouterr()
    assert main(["sync", "--study", str(tmp_path / "lap")]) == 0
    assert "kept as conflicts for the supervisor" in capsys.readouterr().out
    assert main(["conflicts", "list", "--study", str(study.root)]) == 0
    listed = capsys.readouterr().out
    assert f"#1  interview {sid} ({uuid[:8]})  amy" in listed and "differs: drinks  [open]" in listed
    assert main(["conflicts", "resolve", "1", "--keep", "server", "--study", str(study.root), "--actor", "sue"]) == 0
    assert "keeps the server's version" in capsys.readouterr().out
    assert main(["conflicts", "resolve", "1", "--keep", "device", "--study", str(study.root)]) == 1
    assert "already resolved" in capsys.readouterr().err
    assert main(["sync", "--study", str(tmp_path / "lap")]) == 0
    assert "1 conflicts were resolved" in capsys.readouterr().out
    with Store(tmp_path / "lap" / "survey.db") as device:
        assert answers_by_uuid(device)[uuid]["drinks"] == ("2", None)
