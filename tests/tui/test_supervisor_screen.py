"""The supervisor's view in Fieldwork follows the study by itself: live interviews, completes, conflicts."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from survey_tui.core.fieldwork.supervision import completes_per_day, live_interviews
from survey_tui.core.store.sync import sync_device
from survey_tui.core.study import open_study
from survey_tui.tui.app import SurveyApp
from survey_tui.tui.screens.supervisor import SupervisorScreen
from tests.sync.helpers import answers_by_uuid, capture, checkout_device, server_of, server_study


async def wait_for(pilot: Pilot, condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Let the app run until `condition` holds (the screen polls on its own), failing after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


def rows(app: SurveyApp, table_id: str) -> list[list[str]]:
    table = app.screen.query_one(table_id, DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def test_core_reads_live_interviews_and_completes_per_day(tmp_path: Path) -> None:
    study = server_study(tmp_path / "s", ["amy", "bob"], 2)
    with study.store() as store:
        version = store.versions()[-1].id
        row = store.start_interview(version, "field", "amy", None, "zh-TW")
        store.save_answer(row.id, "age", 30, None)
        store.set_position(row.id, "drinks", ["age"])
        capture(store, random.Random(1), "bob", None)
        capture(store, random.Random(2), "bob", None)
        live = live_interviews(store)
        assert [(li.interviewer, li.question, li.answers, li.idle) for li in live] == [("amy", "drinks", 1, False)]
        [day] = completes_per_day(store)
        assert (day.interviewer, day.completes) == ("bob", 2)
        assert day.day == store.query("SELECT substr(MAX(ended_at), 1, 10) FROM interviews")[0][0]


async def test_supervisor_view_updates_by_itself_and_resolves_a_conflict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SupervisorScreen, "POLL_SECONDS", 0.1)
    study = server_study(tmp_path / "server", ["amy"], 2)
    device = checkout_device(study, "amy", tmp_path / "amy")
    app = SurveyApp(open_study(study.root), keymap_file=tmp_path / "none.yaml")
    app.animation_level = "none"
    async with app.run_test(size=(140, 60)) as pilot:
        await pilot.press("4")
        await app.workers.wait_for_complete()
        await pilot.press("v")
        await wait_for(
            pilot, lambda: isinstance(app.screen, SupervisorScreen) and app.screen.refreshes >= 1, "first read"
        )
        assert rows(app, "#sv-live") == [] and rows(app, "#sv-conflicts") == []

        with study.store() as store:  # an interviewer starts in another terminal
            version = store.versions()[-1].id
            row = store.start_interview(version, "field", "amy", None, "zh-TW")
            store.save_answer(row.id, "age", 30, None)
            store.set_position(row.id, "drinks", ["age"])
            store.log_event(row.id, "show", "drinks", None)
        await wait_for(pilot, lambda: any(r[3] == "drinks" for r in rows(app, "#sv-live")), "the live interview")
        assert rows(app, "#sv-live")[0][:5] == [str(row.id), "amy", "field", "drinks", "1"]

        uuid = capture(device, random.Random(3), "amy", None, n_answers=2)  # offline laptop, synced
        sync_device(device, (srv := server_of(study)))
        await wait_for(
            pilot, lambda: any(r[1] == "amy" and r[2] == "1" for r in rows(app, "#sv-completes")), "a complete"
        )

        sid = srv.store.query("SELECT id FROM interviews WHERE uuid = ?", (uuid,))[0][0]
        srv.store.save_answer(sid, "age", 41, None, actor="supervisor")
        local = device.query("SELECT id FROM interviews WHERE uuid = ?", (uuid,))[0][0]
        device.save_answer(local, "age", 14, None, actor="amy")
        assert sync_device(device, srv).pushed == {"conflict": 1}
        await wait_for(pilot, lambda: len(rows(app, "#sv-conflicts")) == 1, "the conflict")
        assert rows(app, "#sv-conflicts")[0][2:] == ["amy", rows(app, "#sv-conflicts")[0][3], "age"]
        assert "1 conflicts to resolve" in str(app.screen.query_one("#sv-summary", Static).render())
        await pilot.press("D")
        await wait_for(pilot, lambda: rows(app, "#sv-conflicts") == [], "the conflict resolved")
        assert answers_by_uuid(srv.store)[uuid]["age"] == ("14", None)
        srv.store.close()
    device.close()


async def test_fieldwork_syncs_a_laptop_copy(tmp_path: Path) -> None:
    study = server_study(tmp_path / "server", ["amy"], 1)
    device = checkout_device(study, "amy", tmp_path / "amy")
    uuid = capture(device, random.Random(4), "amy", None)
    device.close()
    app = SurveyApp(open_study(tmp_path / "amy"), keymap_file=tmp_path / "none.yaml")
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await app.workers.wait_for_complete()
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert any("1 stored" in n.message for n in app._notifications)
    with study.store() as server:
        assert server.query("SELECT COUNT(*) FROM interviews WHERE uuid = ?", (uuid,))[0][0] == 1


async def test_a_respondent_conflict_is_shown_and_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from survey_tui.core.fieldwork import respondents as resp

    monkeypatch.setattr(SupervisorScreen, "POLL_SECONDS", 0.1)
    study = server_study(tmp_path / "server", ["amy"], 1)
    device = checkout_device(study, "amy", tmp_path / "amy")
    rid = device.query("SELECT id FROM respondents")[0][0]
    srv = server_of(study)
    resp.set_status(srv.store, rid, "refused", interviewer="sue")
    resp.set_status(device, rid, "contacted", interviewer="amy")
    assert sync_device(device, srv).respondents == {"conflict": 1}
    app = SurveyApp(open_study(study.root), keymap_file=tmp_path / "none.yaml")
    app.animation_level = "none"
    async with app.run_test(size=(140, 60)) as pilot:
        await pilot.press("4")
        await app.workers.wait_for_complete()
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, SupervisorScreen) and rows(app, "#sv-conflicts"), "it")
        [row] = rows(app, "#sv-conflicts")
        assert (row[1], row[2], row[4]) == (f"respondent {rid}", "amy", "status")
        await pilot.press("D")
        await wait_for(pilot, lambda: rows(app, "#sv-conflicts") == [], "the conflict resolved")
    assert resp.get(srv.store, rid).status == "contacted"
    srv.store.close()
    device.close()
