"""A server study with assigned respondents, device checkouts of it, and interviews captured on a device."""

from __future__ import annotations

import random
from pathlib import Path

from survey_tui.core.fieldwork import respondents as resp
from survey_tui.core.store.sqlite import Store
from survey_tui.core.store.sync import SyncServer, checkout, open_server
from survey_tui.core.study import Study
from tests.capture.helpers import make_study

QUESTIONS = ("age", "drinks", "brands", "spend", "weekly")


def server_study(root: Path, interviewers: list[str], per_interviewer: int) -> Study:
    """A study with `per_interviewer` respondents (with contacts) assigned to each interviewer."""
    study = make_study(root, consent=False)
    with study.store() as store:
        for who in interviewers:
            ids = [
                resp.add(store, {"gender": 1 + n % 2}, {"name": f"{who}-{n}", "phone": f"09{n:08d}"})
                for n in range(per_interviewer)
            ]
            resp.assign(store, ids, who)
    return study


def checkout_device(study: Study, interviewer: str, target: Path) -> Store:
    server = open_server(str(study.root))
    try:
        checkout(server, interviewer, target)
    finally:
        server.store.close()
    return Store(target / "survey.db")


def capture(device: Store, rng: random.Random, interviewer: str, respondent_id: str | None, n_answers: int = 5) -> str:
    """One completed field interview on the device, as the capture form stores it; returns its uuid."""
    version = device.versions()[-1]
    with device.transaction():
        row = device.start_interview(version.id, "field", interviewer, respondent_id, "zh-TW")
        for q in QUESTIONS[:n_answers]:
            device.save_answer(row.id, q, rng.randint(1, 99), None, actor=interviewer)
            device.log_event(row.id, "answer", q, None)
        device.set_position(row.id, None, list(QUESTIONS[:n_answers]))
        device.finish_interview(row.id, "completed", "complete")
        if respondent_id is not None:
            resp.record_outcome(device, respondent_id, "complete", interviewer=interviewer, interview_id=row.id)
    return row.uuid


def server_of(study: Study, faults=None) -> SyncServer:  # type: ignore[no-untyped-def]
    return open_server(str(study.root), faults=faults)


def answers_by_uuid(store: Store) -> dict[str, dict[str, tuple[object, str | None]]]:
    out: dict[str, dict[str, tuple[object, str | None]]] = {}
    for row in store.query(
        "SELECT i.uuid, a.question, a.value, a.special FROM interviews i JOIN answers a ON a.interview_id = i.id"
    ):
        out.setdefault(row[0], {})[row[1]] = (row[2], row[3])
    return out
