"""Sync chaos: 20 devices, 2,000 interviews, random disconnects mid-sync, re-sends and out-of-order pushes.

Devices sync from 4 threads at once (each with its own server connection), a disconnect may strike at any
request boundary, inside the server's transaction or after it committed (the answer lost), batches are
shuffled, interviews are continued on the device between syncs, and stale copies of earlier pushes are
replayed at the end. The server must end with exactly every interview and every answer, once.

It runs twice: with the team study's data in its embedded survey.db, and on a real PostgreSQL server (the
team study's store is the server; the laptops keep their own embedded stores).
"""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from survey_tui.core.store.base import StoreUnavailable
from survey_tui.core.store.sqlite import Store
from survey_tui.core.store.sync import (
    Disconnected,
    InterviewPush,
    SyncServer,
    build_pushes,
    changed_interviews,
    conflicts,
    device_link,
    sync_device,
)
from tests.sync.helpers import QUESTIONS, answers_by_uuid, checkout_device, server_of, server_study

DEVICES = 20
PER_DEVICE = 100  # 2,000 interviews in all
FAULT_RATE = 0.08


def _capture_partial(device: Store, rng: random.Random, who: str, rid: str | None, answers: int) -> int:
    version = device.versions()[-1]
    with device.transaction():
        row = device.start_interview(version.id, "field", who, rid, "zh-TW")
        for q in QUESTIONS[:answers]:
            device.save_answer(row.id, q, rng.randint(1, 99), None, actor=who)
            device.log_event(row.id, "answer", q, None)
        device.set_position(row.id, QUESTIONS[answers] if answers < len(QUESTIONS) else None, list(QUESTIONS[:answers]))
    return row.id


def _finish(device: Store, rng: random.Random, who: str, interview_id: int) -> None:
    with device.transaction():
        have = device.answers(interview_id)
        for q in QUESTIONS:
            if q not in have:
                device.save_answer(interview_id, q, rng.randint(1, 99), None, actor=who)
                device.log_event(interview_id, "answer", q, None)
        if rng.random() < 0.3:  # went back and changed an answer
            device.save_answer(interview_id, QUESTIONS[0], rng.randint(100, 199), None, actor=who, action="changed")
        device.set_position(interview_id, None, list(QUESTIONS))
        device.finish_interview(interview_id, "completed", "complete")


def _sync_until_done(study, device: Store, rng: random.Random, stats: dict[str, int], lock: threading.Lock) -> None:  # type: ignore[no-untyped-def]
    while True:
        holder: list[SyncServer] = []

        def fault(point: str, holder: list[SyncServer] = holder) -> None:
            if rng.random() >= FAULT_RATE:
                return
            server_side = point.endswith("commit")  # inside the server's transaction, or just after its COMMIT
            if server_side and holder and holder[0].store.dialect == "postgresql" and rng.random() < 0.5:
                try:  # the server really drops this connection, as when the network goes
                    holder[0].store.query("SELECT pg_terminate_backend(pg_backend_pid())")
                except StoreUnavailable:
                    with lock:
                        stats["killed"] += 1
                    raise
            with lock:
                stats["disconnects"] += 1
            raise Disconnected(f"cut at {point}")

        server = server_of(study, faults=fault)
        holder.append(server)
        try:
            sync_device(device, server, faults=fault, batch=rng.randint(3, 25), order=lambda u: rng.sample(u, len(u)))
            return
        except (Disconnected, StoreUnavailable):  # a cut connection, injected or real
            continue
        finally:
            server.store.close()


@pytest.mark.parametrize("server_store", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def test_sync_chaos(server_store: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    if server_store == "postgresql":  # every open of the team study (4 threads at once) reaches the server
        monkeypatch.setenv("SURVEY_TUI_DATABASE_URL", request.getfixturevalue("pg_url"))
    else:
        monkeypatch.delenv("SURVEY_TUI_DATABASE_URL", raising=False)
    names = [f"iv{n:02d}" for n in range(DEVICES)]
    study = server_study(tmp_path / "server", names, 40)
    devices = {who: checkout_device(study, who, tmp_path / who) for who in names}
    stats = {"disconnects": 0, "stale": 0, "killed": 0}
    lock = threading.Lock()
    stale: dict[str, list[InterviewPush]] = {}

    def fieldwork(index: int, who: str) -> None:
        rng = random.Random(index)
        device = devices[who]
        rids = [r[0] for r in device.query("SELECT id FROM respondents ORDER BY id")]
        open_ids: list[int] = []
        made = 0
        for round_size in (40, 35, 25):
            for _ in range(round_size):
                rid = rids[made] if made < len(rids) else None  # walk-ins once the list is used up
                interview_id = _capture_partial(device, rng, who, rid, rng.randint(1, 4))
                made += 1
                if rng.random() < 0.7:
                    _finish(device, rng, who, interview_id)
                else:
                    open_ids.append(interview_id)  # still going: pushed in progress, finished later
            if round_size == 40:  # remember what this device sent first, to replay it late
                states, pending = changed_interviews(device)
                stale[who] = build_pushes(device, pending[:10], states)
            _sync_until_done(study, device, rng, stats, lock)
            for interview_id in rng.sample(open_ids, len(open_ids)):
                _finish(device, rng, who, interview_id)
            open_ids.clear()
        _sync_until_done(study, device, rng, stats, lock)
        server = server_of(study)  # an old request arriving last: acknowledged, never applied over the newer state
        try:
            link = device_link(device)
            assert link is not None
            acks = server.push_interviews(link.device_id, who, stale[who])
            assert {a.result for a in acks} == {"already"}
            with lock:
                stats["stale"] += len(acks)
        finally:
            server.store.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(fieldwork, i, who) for i, who in enumerate(names)]:
            future.result()

    with study.store() as server:
        assert server.dialect == server_store
        expected: dict[str, dict[str, tuple[object, str | None]]] = {}
        audit = events = 0
        for device in devices.values():
            expected |= answers_by_uuid(device)
            audit += int(device.query("SELECT COUNT(*) FROM audit_log")[0][0])
            events += int(device.query("SELECT COUNT(*) FROM interview_events")[0][0])
            assert changed_interviews(device)[1] == []  # every device: everything confirmed
        assert len(expected) == DEVICES * PER_DEVICE
        assert tuple(server.query("SELECT COUNT(*), COUNT(DISTINCT uuid) FROM interviews")[0]) == (2000, 2000)
        assert answers_by_uuid(server) == expected  # every answer, with its final value
        assert server.query("SELECT COUNT(*) FROM interviews WHERE status != 'completed'")[0][0] == 0
        assert int(server.query("SELECT COUNT(*) FROM audit_log")[0][0]) == audit  # no log row twice
        assert int(server.query("SELECT COUNT(*) FROM interview_events")[0][0]) == events
        assert conflicts(server) == []
        assert server.integrity_check() == "ok"
    assert stats["disconnects"] > 20 and stats["stale"] == DEVICES * 10
    if server_store == "postgresql":
        assert stats["killed"] > 5  # connections the server really dropped mid-transaction or after COMMIT
    for device in devices.values():
        device.close()
