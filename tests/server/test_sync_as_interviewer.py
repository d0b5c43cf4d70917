"""An interviewer syncs their own laptop with their own login: interviews, a respondent recruited on the laptop
and lifecycle changes arrive; they cannot resolve a conflict (that is the supervisor's)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

psycopg = pytest.importorskip("psycopg")

from survey_tui.core.fieldwork import respondents as resp  # noqa: E402
from survey_tui.core.store.postgres import PostgresStore  # noqa: E402
from survey_tui.core.store.sync import conflicts, resolve_conflict, sync_device  # noqa: E402
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
