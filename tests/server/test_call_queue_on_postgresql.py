"""The call queue on the team's PostgreSQL server: 20 interviewers asking at once never get the same case.

On PostgreSQL the candidate is taken with `SELECT ... FOR UPDATE SKIP LOCKED`; each interviewer has a
connection of their own, as on separate machines.
"""

from __future__ import annotations

from survey_tui.core.store.postgres import PostgresStore
from tests.calls.queue_race import race_twenty_workers


def test_twenty_interviewers_on_the_server_never_get_the_same_case(pg_url: str) -> None:
    race_twenty_workers(lambda: PostgresStore(pg_url))
