"""The call queue on the team's PostgreSQL server: 20 interviewers asking at once never get the same case.

On PostgreSQL the candidate is taken with `SELECT ... FOR UPDATE SKIP LOCKED`; each interviewer has a
connection of their own, as on separate machines.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from survey_tui.core.fieldwork import respondents as resp
from survey_tui.core.fieldwork.call_queue import CallQueue
from survey_tui.core.store.postgres import PostgresStore

TUESDAY_10 = datetime(2026, 10, 6, 2, 0, tzinfo=UTC)  # 10:00 in Taipei, inside the calling hours


def test_twenty_interviewers_on_the_server_never_get_the_same_case(pg_url: str) -> None:
    with PostgresStore(pg_url) as store, store.transaction():
        for _ in range(300):
            resp.add(store, {})
    got: dict[str, list[str]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(20)

    def worker(name: str) -> None:
        try:
            with PostgresStore(pg_url) as own:
                assert own.dialect == "postgresql"
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
    assert len(set(handed)) == len(handed)  # no case went to two interviewers
    with PostgresStore(pg_url) as store:
        calls = store.query("SELECT respondent_id, COUNT(*) FROM contact_attempts GROUP BY respondent_id")
        assert len(calls) == 200 and all(int(r[1]) == 1 for r in calls)
