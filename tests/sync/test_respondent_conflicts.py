"""A respondent's lifecycle (status, disposition, appointment, assignment) from a laptop is conflict-checked as
interviews are: changed on one side it simply travels; changed on both since the last sync it becomes a
`sync_conflicts` entry the supervisor resolves (keep server / keep device), never last-writer-wins. Run with
the team's study on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from survey_tui.cli import main
from survey_tui.core.fieldwork import respondents as resp
from survey_tui.core.store.sqlite import StoreError
from survey_tui.core.store.sync import conflicts, resolve_conflict, sync_device
from tests.sync.helpers import checkout_device, server_of, server_study


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def team(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The team's study (its data in survey.db, or on the PostgreSQL server) and amy's laptop copy."""
    if request.param == "postgresql":
        monkeypatch.setenv("SURVEY_TUI_DATABASE_URL", request.getfixturevalue("pg_url"))
    study = server_study(tmp_path / "server", ["amy"], 2)
    device = checkout_device(study, "amy", tmp_path / "amy")
    server = server_of(study)
    assert server.store.dialect == request.param
    yield study, device, server
    server.store.close()
    device.close()


def _lifecycle(store, rid: str) -> tuple:  # type: ignore[no-untyped-def]
    return tuple(
        store.query("SELECT status, next_appointment, interviewer, disposition FROM respondents WHERE id = ?", (rid,))[
            0
        ]
    )


def test_a_change_on_one_side_travels_and_on_both_is_a_conflict(team) -> None:  # type: ignore[no-untyped-def]
    study, device, server = team
    first, second = sorted(r[0] for r in device.query("SELECT id FROM respondents"))

    # only the device changed `first`: the server takes it; only the server changed `second`: the device does
    resp.make_appointment(device, first, "2026-12-03 19:30", interviewer="amy")
    resp.set_status(server.store, second, "refused", interviewer="sue", note="called the office")
    report = sync_device(device, server)
    assert report.respondents.get("taken") == 1 and not report.respondents.get("conflict")
    assert _lifecycle(server.store, first)[:3] == ("appointment", "2026-12-03 19:30", "amy")
    assert _lifecycle(device, second)[0] == "refused"
    assert conflicts(server.store) == []
    assert sync_device(device, server).respondents == {}  # nothing left to say

    # both changed `first` since that sync: the server's stays, the device's waits for the supervisor
    resp.set_status(server.store, first, "unreachable", interviewer="sue", note="number out of service")
    resp.set_status(device, first, "contacted", interviewer="amy", note="met at the door")
    report = sync_device(device, server)
    assert report.respondents == {"conflict": 1}
    assert any("respondents changed on the server too" in line for line in report.lines())
    assert _lifecycle(server.store, first)[0] == "unreachable"  # nothing overwritten
    assert _lifecycle(device, first)[0] == "contacted"  # the device's kept too, until resolved
    [conflict] = conflicts(server.store)
    assert (conflict.kind, conflict.respondent_id, conflict.interviewer) == ("respondent", first, "amy")
    assert conflict.differing == ("status",)
    assert sync_device(device, server).respondents == {}  # sent once; it is with the supervisor now
    assert len(conflicts(server.store)) == 1

    resolve_conflict(server.store, conflict.id, "device", actor="sue")
    assert _lifecycle(server.store, first)[0] == "contacted"
    assert [h["note"] for h in resp.history(server.store, first)][
        -1
    ] == f"sync conflict #{conflict.id}: kept the device's"
    with pytest.raises(StoreError, match="already resolved"):
        resolve_conflict(server.store, conflict.id, "server")
    report = sync_device(device, server)
    assert report.resolved == 1 and report.respondents == {}
    assert _lifecycle(device, first) == _lifecycle(server.store, first)

    # again both, and the supervisor keeps the server's: the laptop takes it at its next sync
    resp.assign(server.store, [first], "amy")  # unchanged assignment: not a change at all
    resp.set_status(server.store, first, "refused", interviewer="sue")
    resp.set_status(device, first, "appointment", interviewer="amy")
    assert sync_device(device, server).respondents == {"conflict": 1}
    [conflict] = conflicts(server.store)
    resolve_conflict(server.store, conflict.id, "server", actor="sue")
    assert _lifecycle(server.store, first)[0] == "refused"
    assert sync_device(device, server).resolved == 1
    assert _lifecycle(device, first)[0] == "refused"
    resp.set_status(device, first, "contacted", interviewer="amy")  # and a later change travels again
    assert sync_device(device, server).respondents == {"taken": 1}
    assert _lifecycle(server.store, first)[0] == "contacted"


def test_a_withdrawal_on_the_server_is_never_undone_from_a_laptop(team) -> None:  # type: ignore[no-untyped-def]
    study, device, server = team
    rid = sorted(r[0] for r in device.query("SELECT id FROM respondents"))[0]
    resp.withdraw(server.store, rid, delete_answers=False, actor="sue")
    resp.set_status(device, rid, "contacted", interviewer="amy")
    report = sync_device(device, server)
    assert report.respondents == {"withdrawn": 1} and conflicts(server.store) == []
    assert _lifecycle(server.store, rid)[0] == "withdrawn"
    assert _lifecycle(device, rid)[0] == "withdrawn"  # the laptop takes it, and has nothing more to say
    assert sync_device(device, server).respondents == {}


def test_respondent_conflicts_are_listed_and_resolved_from_the_command_line(team, capsys) -> None:  # type: ignore[no-untyped-def]
    study, device, server = team
    rid = sorted(r[0] for r in device.query("SELECT id FROM respondents"))[0]
    resp.set_status(server.store, rid, "refused", interviewer="sue")
    resp.make_appointment(device, rid, "2026-12-04 10:00", interviewer="amy")
    assert sync_device(device, server).respondents == {"conflict": 1}
    assert main(["conflicts", "list", "--study", str(study.root)]) == 0
    out = capsys.readouterr().out
    [line] = [x for x in out.splitlines() if x.startswith("#")]
    assert f"respondent {rid}" in line and "status, next_appointment, appointment_kind" in line and "amy" in line
    number = line.split()[0][1:]
    assert main(["conflicts", "resolve", number, "--keep", "device", "--study", str(study.root)]) == 0
    assert f"respondent {rid} keeps the device's" in capsys.readouterr().out
    assert _lifecycle(server.store, rid)[:2] == ("appointment", "2026-12-04 10:00")
