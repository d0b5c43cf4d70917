"""Device checkout and sync: idempotent by interview uuid, conflicts kept, cut-offs finished by the next sync."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from survey_tui.core.fieldwork import respondents as resp
from survey_tui.core.fieldwork.quotas import quota_counts
from survey_tui.core.store.sqlite import StoreError
from survey_tui.core.store.sync import (
    Disconnected,
    WrongStudy,
    build_pushes,
    conflicts,
    device_link,
    device_status,
    interview_states,
    resolve_conflict,
    study_id,
    sync_device,
)
from survey_tui.core.study import open_study
from tests.sync.helpers import answers_by_uuid, capture, checkout_device, server_of, server_study


def test_checkout_holds_versions_own_respondents_and_only_their_contacts(tmp_path: Path) -> None:
    study = server_study(tmp_path / "server", ["amy", "bob"], 3)
    device = checkout_device(study, "amy", tmp_path / "amy")
    with device, study.store() as server:
        assert [v.sha256 for v in device.versions()] == [v.sha256 for v in server.versions()]
        mine = {r[0] for r in server.query("SELECT id FROM respondents WHERE interviewer = 'amy'")}
        assert {r[0] for r in device.query("SELECT id FROM respondents")} == mine
        contacts = resp.read_contacts(device, purpose="test")
        assert set(contacts["respondent_id"]) == mine
        assert all(name.startswith("amy-") for name in contacts["name"])
        link = device_link(device)
        assert link is not None and link.interviewer == "amy" and link.study_id == study_id(server)
    assert open_study(tmp_path / "amy").load_instrument().id == "small"


def test_checkout_into_a_non_empty_folder_is_refused(tmp_path: Path) -> None:
    study = server_study(tmp_path / "server", ["amy"], 1)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(StoreError, match="not empty"):
        checkout_device(study, "amy", tmp_path / "full")
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]


def test_sync_pushes_everything_once_and_a_resend_is_acknowledged(tmp_path: Path) -> None:
    study = server_study(tmp_path / "server", ["amy"], 4)
    rng = random.Random(1)
    with checkout_device(study, "amy", tmp_path / "amy") as device:
        ids = [r[0] for r in device.query("SELECT id FROM respondents ORDER BY id")]
        uuids = [capture(device, rng, "amy", rid) for rid in ids[:3]]
        server = server_of(study)
        report = sync_device(device, server)
        assert report.pushed == {"stored": 3}
        again = sync_device(device, server)
        assert again.pushed == {}  # nothing changed: nothing sent
        # a re-send of the same states (the answer to the first push was lost) is acknowledged, not stored twice
        states = interview_states(device)
        acks = server.push_interviews(device_link(device).device_id, "amy", build_pushes(device, uuids, states))  # type: ignore[union-attr]
        assert [a.result for a in acks] == ["already"] * 3
        assert answers_by_uuid(server.store) == answers_by_uuid(device)
        for table in ("audit_log", "interview_events"):
            assert (
                server.store.query(f"SELECT COUNT(*) FROM {table}")[0][0]
                == device.query(f"SELECT COUNT(*) FROM {table}")[0][0]
            )
        statuses = {r[0]: r[1] for r in server.store.query("SELECT id, status FROM respondents")}
        assert [statuses[r] for r in ids] == ["completed", "completed", "completed", "new"]
        history = server.store.query("SELECT COUNT(*) FROM respondent_status_history WHERE origin IS NOT NULL")[0][0]
        assert history == 3
        server.store.close()


def test_device_continues_an_interview_and_the_server_follows(tmp_path: Path) -> None:
    study = server_study(tmp_path / "server", ["amy"], 1)
    rng = random.Random(2)
    with checkout_device(study, "amy", tmp_path / "amy") as device:
        uuid = capture(device, rng, "amy", None, n_answers=2)
        server = server_of(study)
        sync_device(device, server)
        local = device.query("SELECT id FROM interviews WHERE uuid = ?", (uuid,))[0][0]
        device.save_answer(local, "spend", 500, None, actor="amy")
        assert sync_device(device, server).pushed == {"updated": 1}
        assert answers_by_uuid(server.store)[uuid]["spend"] == ("500", None)
        server.store.close()


def test_changed_on_both_sides_becomes_a_conflict_and_is_resolved(tmp_path: Path) -> None:
    study = server_study(tmp_path / "server", ["amy"], 1)
    rng = random.Random(3)
    with checkout_device(study, "amy", tmp_path / "amy") as device:
        uuid = capture(device, rng, "amy", None, n_answers=2)
        server = server_of(study)
        sync_device(device, server)
        sid = server.store.query("SELECT id FROM interviews WHERE uuid = ?", (uuid,))[0][0]
        server.store.save_answer(sid, "age", 41, None, actor="supervisor")  # corrected on the server
        local = device.query("SELECT id FROM interviews WHERE uuid = ?", (uuid,))[0][0]
        device.save_answer(local, "age", 14, None, actor="amy")  # and on the device
        report = sync_device(device, server)
        assert report.pushed == {"conflict": 1}
        assert answers_by_uuid(server.store)[uuid]["age"] == ("41", None)  # nothing overwritten
        open_ = conflicts(server.store)
        assert [(c.interview_uuid, c.differing) for c in open_] == [(uuid, ("age",))]
        assert sync_device(device, server).pushed == {}  # the device knows it is with the supervisor
        assert device_status(device)["conflict"] == 1
        resolve_conflict(server.store, open_[0].id, "device", actor="sue")
        assert answers_by_uuid(server.store)[uuid]["age"] == ("14", None)
        assert conflicts(server.store) == []
        with pytest.raises(StoreError, match="already resolved"):
            resolve_conflict(server.store, open_[0].id, "server")
        assert sync_device(device, server).resolved == 1
        assert device_status(device).get("conflict", 0) == 0
        server.store.close()


def test_keep_server_leaves_the_server_interview_as_it_was(tmp_path: Path) -> None:
    study = server_study(tmp_path / "server", ["amy"], 1)
    with checkout_device(study, "amy", tmp_path / "amy") as device:
        uuid = capture(device, random.Random(4), "amy", None, n_answers=2)
        server = server_of(study)
        sync_device(device, server)
        sid = server.store.query("SELECT id FROM interviews WHERE uuid = ?", (uuid,))[0][0]
        server.store.save_answer(sid, "age", 41, None, actor="supervisor")
        local = device.query("SELECT id FROM interviews WHERE uuid = ?", (uuid,))[0][0]
        device.save_answer(local, "age", 14, None, actor="amy")
        sync_device(device, server)
        before = answers_by_uuid(server.store)[uuid]
        resolve_conflict(server.store, conflicts(server.store)[0].id, "server", actor="sue")
        assert answers_by_uuid(server.store)[uuid] == before
        report = sync_device(device, server)  # the laptop takes the server's version: both sides agree again
        assert report.resolved == 1 and report.pushed == {}
        assert answers_by_uuid(device)[uuid] == before
        assert device_status(device) == {"total": 1, "waiting": 0, "synced": 1}
        assert sync_device(device, server).pushed == {}
        server.store.close()


def test_wrong_study_is_refused_and_nothing_written(tmp_path: Path) -> None:
    study = server_study(tmp_path / "server", ["amy"], 1)
    other = server_study(tmp_path / "other", ["amy"], 1)
    with checkout_device(study, "amy", tmp_path / "amy") as device:
        capture(device, random.Random(5), "amy", None)
        server = server_of(other)
        tables = ("interviews", "answers", "respondents", "sync_receipts", "respondent_status_history")

        def counts() -> list[int]:
            return [int(server.store.query(f"SELECT COUNT(*) FROM {t}")[0][0]) for t in tables]

        before = counts()
        with pytest.raises(WrongStudy, match="nothing was written"):
            sync_device(device, server)
        assert counts() == before
        assert device.query("SELECT COUNT(*) FROM device_sync_state")[0][0] == 0
        assert device.query("SELECT COUNT(*) FROM device_push_marks")[0][0] == 0
        assert device_status(device)["waiting"] == 1
        server.store.close()


@pytest.mark.parametrize(
    "point",
    [
        "respondents:send",
        "respondents:before-commit",
        "respondents:after-commit",
        "respondents:ack",
        "interviews:send",
        "interviews:before-commit",
        "interviews:after-commit",
        "interviews:ack",
        "pull:send",
        "pull:receive",
    ],
)
def test_a_sync_cut_off_anywhere_is_finished_by_the_next(tmp_path: Path, point: str) -> None:
    study = server_study(tmp_path / "server", ["amy"], 3)
    rng = random.Random(6)
    with checkout_device(study, "amy", tmp_path / "amy") as device:
        ids = [r[0] for r in device.query("SELECT id FROM respondents ORDER BY id")]
        uuids = [capture(device, rng, "amy", rid) for rid in ids]

        def cut(at: str) -> None:
            if at == point:
                raise Disconnected("the line dropped")

        with pytest.raises(Disconnected):
            sync_device(device, server_of(study, faults=cut), faults=cut, batch=2)
        server = server_of(study)
        sync_device(device, server)
        assert sorted(answers_by_uuid(server.store)) == sorted(uuids)
        assert answers_by_uuid(server.store) == answers_by_uuid(device)
        assert server.store.query("SELECT COUNT(*) FROM interviews")[0][0] == 3
        for table in ("audit_log", "interview_events", "respondent_status_history"):
            origins = server.store.query(f"SELECT COUNT(origin), COUNT(DISTINCT origin) FROM {table}")[0]
            assert origins[0] == origins[1] > 0
        assert device_status(device)["waiting"] == 0
        server.store.close()


def test_pull_brings_new_versions_assignments_and_takes_back_released_contacts(tmp_path: Path) -> None:
    study = server_study(tmp_path / "server", ["amy", "bob"], 2)
    with checkout_device(study, "amy", tmp_path / "amy") as device:
        with study.store() as server:
            bob = [r[0] for r in server.query("SELECT id FROM respondents WHERE interviewer = 'bob'")]
            amy = [r[0] for r in server.query("SELECT id FROM respondents WHERE interviewer = 'amy'")]
            resp.assign(server, bob[:1], "amy")
            resp.assign(server, amy[:1], "bob")
            server.publish_instrument("small", server.versions()[-1].source + "\n# v2\n")
        report = sync_device(device, (srv := server_of(study)))
        srv.store.close()
        assert (report.versions, report.assigned_new, report.released) == (1, 1, 1)
        assert len(device.versions()) == 2
        held = set(resp.read_contacts(device, purpose="test")["respondent_id"])
        assert held == {bob[0], amy[1]}


def test_device_quota_board_is_the_server_count_plus_its_own_completes(tmp_path: Path) -> None:
    quota = (
        "quotas:\n  - name: gender\n    dimensions:\n      - name: gender\n        levels:\n"
        "          - {label: m, when: 'gender = 1'}\n          - {label: f, when: 'gender = 2'}\n"
        "    default_target: 5\n"
    )
    study = server_study(tmp_path / "server", ["amy", "bob"], 4)
    text = study.study_file.read_text(encoding="utf-8").replace("quotas: []\n", "")
    study.study_file.write_text(text + quota, encoding="utf-8")
    study = open_study(study.root)
    rng = random.Random(7)
    bob = checkout_device(study, "bob", tmp_path / "bob")
    amy = checkout_device(study, "amy", tmp_path / "amy")
    for rid in [r[0] for r in bob.query("SELECT id FROM respondents")]:
        capture(bob, rng, "bob", rid)
    sync_device(bob, (srv := server_of(study)))
    sync_device(amy, srv)
    first = [r[0] for r in amy.query("SELECT id FROM respondents ORDER BY id")][0]
    capture(amy, rng, "amy", first)
    quotas = study.config.quotas
    server_counts = {c.cell: c.completes for c in quota_counts(srv.store, quotas)}
    device_counts = {c.cell: c.completes for c in quota_counts(amy, quotas)}
    gender = amy.query("SELECT attributes FROM respondents WHERE id = ?", (first,))[0][0]
    cell = ("m",) if '"gender":1' in gender else ("f",)
    assert server_counts == {("m",): 2, ("f",): 2}
    assert device_counts == {**server_counts, cell: server_counts[cell] + 1}
    srv.store.close()
    amy.close()
    bob.close()


def test_a_respondent_recruited_on_the_device_reaches_the_server_with_contacts(tmp_path: Path) -> None:
    study = server_study(tmp_path / "server", ["amy"], 1)
    with checkout_device(study, "amy", tmp_path / "amy") as device:
        rid = resp.add(device, {"gender": 2}, {"name": "街訪 王小姐", "phone": "0911222333"}, interviewer="amy")
        uuid = capture(device, random.Random(8), "amy", rid)
        server = server_of(study)
        sync_device(device, server)
        assert resp.get(server.store, rid).status == "completed"
        contacts = resp.read_contacts(server.store, [rid], purpose="test")
        assert contacts["phone"].to_list() == ["0911222333"]
        assert server.store.query("SELECT respondent_id FROM interviews WHERE uuid = ?", (uuid,))[0][0] == rid
        server.store.close()


def test_a_respondent_who_withdrew_on_the_server_leaves_the_device_with_their_contacts(tmp_path: Path) -> None:
    study = server_study(tmp_path / "server", ["amy"], 2)
    with checkout_device(study, "amy", tmp_path / "amy") as device:
        gone, kept = [r[0] for r in device.query("SELECT id FROM respondents ORDER BY id")]
        with study.store() as store:
            resp.withdraw(store, gone, delete_answers=False, actor="sue")
        sync_device(device, (server := server_of(study)))
        server.store.close()
        assert resp.get(device, gone).status == "withdrawn"
        assert set(resp.read_contacts(device, purpose="test")["respondent_id"]) == {kept}


def test_an_interview_on_a_version_the_server_lacks_is_refused_and_retried(tmp_path: Path) -> None:
    study = server_study(tmp_path / "server", ["amy"], 1)
    with checkout_device(study, "amy", tmp_path / "amy") as device:
        device.publish_instrument("small", device.versions()[-1].source + "\n# edited on the laptop\n")
        uuid = capture(device, random.Random(9), "amy", None)
        report = sync_device(device, (server := server_of(study)))
        assert report.pushed == {"refused": 1}
        assert "not published on the server" in report.refused[0]
        assert server.store.query("SELECT COUNT(*) FROM interviews WHERE uuid = ?", (uuid,))[0][0] == 0
        assert device_status(device)["waiting"] == 1  # kept on the device, sent again next time
        server.store.close()


def test_one_batch_holding_two_states_of_an_interview_in_either_order(tmp_path: Path) -> None:
    study = server_study(tmp_path / "server", ["amy"], 1)
    with checkout_device(study, "amy", tmp_path / "amy") as device:
        uuid = capture(device, random.Random(10), "amy", None, n_answers=2)
        first = build_pushes(device, [uuid], interview_states(device))[0]
        local = device.query("SELECT id FROM interviews WHERE uuid = ?", (uuid,))[0][0]
        device.save_answer(local, "spend", 7, None)
        second = build_pushes(device, [uuid], interview_states(device))[0]
        server = server_of(study)
        device_id = device_link(device).device_id  # type: ignore[union-attr]
        acks = server.push_interviews(device_id, "amy", [first, second, first])  # the old one arrives again last
        assert [a.result for a in acks] == ["stored", "updated", "already"]
        assert answers_by_uuid(server.store)[uuid]["spend"] == ("7", None)
        server.store.close()


def test_a_conflict_overtaken_by_a_newer_one_is_resolved_with_it(tmp_path: Path) -> None:
    study = server_study(tmp_path / "server", ["amy"], 1)
    with checkout_device(study, "amy", tmp_path / "amy") as device:
        uuid = capture(device, random.Random(11), "amy", None, n_answers=2)
        server = server_of(study)
        sync_device(device, server)
        sid = server.store.query("SELECT id FROM interviews WHERE uuid = ?", (uuid,))[0][0]
        server.store.save_answer(sid, "age", 41, None, actor="supervisor")
        local = device.query("SELECT id FROM interviews WHERE uuid = ?", (uuid,))[0][0]
        device.save_answer(local, "age", 14, None, actor="amy")
        sync_device(device, server)
        device.save_answer(local, "spend", 90, None, actor="amy")  # the interviewer went on
        assert sync_device(device, server).pushed == {"conflict": 1}
        older, newer = conflicts(server.store)
        with pytest.raises(StoreError, match="overtaken"):
            resolve_conflict(server.store, older.id, "device")
        resolve_conflict(server.store, newer.id, "device")
        assert conflicts(server.store) == []
        assert answers_by_uuid(server.store)[uuid] == answers_by_uuid(device)[uuid]
        server.store.close()
