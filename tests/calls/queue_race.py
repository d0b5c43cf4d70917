"""Twenty interviewers asking the queue at once, each on a connection of their own: no case twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from survey_tui.core.fieldwork import respondents as resp
from survey_tui.core.fieldwork.call_queue import CallQueue

# Tuesday 6 October 2026, 10:00 in Taipei (UTC+8): inside the calling hours
TUESDAY_10 = datetime(2026, 10, 6, 2, 0, tzinfo=UTC)


def race_twenty_workers(connect: Callable[[], Any]) -> None:
    """300 fresh cases, 20 workers taking 10 each and recording a refusal: 200 cases, each handed out once."""
    with connect() as store, store.transaction():
        for _ in range(300):
            resp.add(store, {})
    got: dict[str, list[str]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(20)

    def worker(name: str) -> None:
        try:
            with connect() as own:  # each interviewer has their own connection, as on separate machines
                queue = CallQueue(own, clock=lambda: TUESDAY_10)
                start.wait()
                mine: list[str] = []
                for _ in range(10):
                    case = queue.next_case(name)
                    if case is None:
                        break
                    mine.append(case.id)
                    queue.record_call(case.id, "refusal", interviewer=name)
                got[name] = mine
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"iv{i:02d}",)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    handed = [rid for ids in got.values() for rid in ids]
    assert len(handed) == 200
    assert len(set(handed)) == len(handed)  # no case went to two workers
    with connect() as store:
        calls = store.query("SELECT respondent_id, COUNT(*) FROM contact_attempts GROUP BY respondent_id")
        assert len(calls) == 200 and all(int(r[1]) == 1 for r in calls)
