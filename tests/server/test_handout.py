"""Handing out respondents: the interviewer's own first, then the unassigned pool, never one already taken.

On PostgreSQL the candidate row is leased with FOR UPDATE SKIP LOCKED: while one interviewer's start is
still uncommitted, a second gets the next respondent at once instead of waiting or getting the same one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from survey_tui.core.fieldwork import respondents as resp
from survey_tui.core.interview.capture import CaptureError, claim_next_respondent, start_session
from tests.capture.helpers import make_study


def test_own_respondents_first_then_the_pool_and_never_twice(open_store, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    store = open_store()
    if open_store.backend == "postgresql":
        monkeypatch.setenv("SURVEY_TUI_DATABASE_URL", store.url)
    else:
        monkeypatch.delenv("SURVEY_TUI_DATABASE_URL", raising=False)
    study = make_study(tmp_path / "s", consent=False)
    with study.store() as s:
        pool = resp.add(s, {"region": 1})
        bobs = resp.add(s, {"region": 1}, interviewer="bob")
        amys = resp.add(s, {"region": 2}, interviewer="amy")
    first = start_session(study, interviewer="amy", next_respondent=True)
    second = start_session(study, interviewer="amy", next_respondent=True)
    assert (first.interview.respondent_id, second.interview.respondent_id) == (amys, pool)
    with pytest.raises(CaptureError, match="no respondent is waiting to be interviewed for amy"):
        start_session(study, interviewer="amy", next_respondent=True)
    third = start_session(study, interviewer="bob", next_respondent=True)
    assert third.interview.respondent_id == bobs
    for session in (first, second, third):
        session.close()


def test_a_leased_respondent_is_skipped_not_waited_for(pg_url: str, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from survey_tui.core.store.postgres import PostgresStore

    monkeypatch.setenv("SURVEY_TUI_DATABASE_URL", pg_url)
    study = make_study(tmp_path / "s", consent=False)
    with study.store() as s:
        ids = [resp.add(s, {"n": n}) for n in range(2)]
    one, two = PostgresStore(pg_url), PostgresStore(pg_url)
    try:
        with one.transaction():
            assert claim_next_respondent(one, "amy") == ids[0]  # leased until this transaction ends
            with two.transaction():
                two.query("SET LOCAL lock_timeout = '2s'")  # a plain FOR UPDATE would wait here and fail
                assert claim_next_respondent(two, "bob") == ids[1]
    finally:
        one.close()
        two.close()
