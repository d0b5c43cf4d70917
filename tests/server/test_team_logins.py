"""Each person works with their own login, as the team walk-through does: an interviewer syncs their own laptop
(interviews, a respondent recruited on it and lifecycle changes arrive; resolving conflicts is the
supervisor's), and an analyst opens the study and exports it though they may not read contact data."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

psycopg = pytest.importorskip("psycopg")

from survey_tui.cli import main  # noqa: E402
from survey_tui.core.fieldwork import respondents as resp  # noqa: E402
from survey_tui.core.store.postgres import PostgresStore  # noqa: E402
from survey_tui.core.store.sync import conflicts, resolve_conflict, sync_device  # noqa: E402
from survey_tui.core.study import open_study  # noqa: E402
from tests.server.test_roles import _as, team  # noqa: E402, F401 - `team` is the fixture
from tests.sync.helpers import answers_by_uuid, capture, checkout_device, server_of  # noqa: E402


def test_an_interviewer_syncs_their_laptop_as_themselves(team, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    study, url, r_amy, r_bob = team
    monkeypatch.setenv("SURVEY_TUI_DATABASE_URL", _as(url, "amy"))  # checkout and sync as amy herself
    device = checkout_device(study, "amy", tmp_path / "laptop")
    assert [r[0] for r in device.query("SELECT respondent_id FROM respondent_contacts")] == [r_amy]
    uuid = capture(device, random.Random(5), "amy", r_amy)
    walk_in = resp.add(device, {"region": 3}, {"name": "張三", "phone": "0911000003"}, interviewer="amy")
    server = server_of(study)
    assert server.store.where.startswith("postgresql://amy@")
    report = sync_device(device, server)
    assert report.pushed == {"stored": 1} and report.respondents.get("stored") == 1
    server.store.close()
    with PostgresStore(url) as owner:
        assert uuid in answers_by_uuid(owner)
        assert resp.get(owner, r_amy).status == "completed"
        assert resp.read_contacts(owner, [walk_in], purpose="test")["name"].to_list() == ["張三"]
        resp.set_status(owner, walk_in, "refused", interviewer="sue")
    resp.set_status(device, walk_in, "contacted", interviewer="amy")
    server = server_of(study)
    assert sync_device(device, server).respondents == {"conflict": 1}
    [conflict] = conflicts(server.store)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        resolve_conflict(server.store, conflict.id, "device", actor="amy")
    server.store.close()
    device.close()


def test_an_analyst_opens_the_study_and_exports_it(team, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    import polars as pl

    study, url, r_amy, r_bob = team
    with PostgresStore(url) as owner:
        version = owner.versions()[-1].id
        for who in ("amy", "bob"):
            row = owner.start_interview(version, "field", who, None, "zh-TW")
            owner.save_answer(row.id, "q1", 1, None)
            owner.finish_interview(row.id, "completed", "complete")
        uuids = sorted(r[0] for r in owner.query("SELECT uuid FROM interviews"))
    monkeypatch.setenv("SURVEY_TUI_DATABASE_URL", _as(url, "ann"))
    with open_study(study.root).store() as store:  # sealing contacts is not an analyst's business: skipped
        assert not store.may_read("respondent_contacts") and store.may_read("answers")
    assert main(["export", "--study", str(study.root), "--format", "parquet"]) == 0
    [data] = list((study.root / "exports").glob("*.parquet"))
    assert sorted(pl.read_parquet(data)["uuid"].to_list()) == uuids  # every interview, once each
