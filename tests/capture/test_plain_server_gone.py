"""Plain mode while the store refuses writes (a study server that went away), without a real server.

The store's transactions fail with StoreUnavailable while `down` is set, exactly as PostgresStore reports a
lost server; tests/server/test_form_server_gone.py does the same against a real server it stops.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from survey_tui.core.interview.capture import resume_session, start_session
from survey_tui.core.store.base import StoreUnavailable
from survey_tui.plain.interview import run_plain
from tests.capture.helpers import make_study


def _flaky(store, down: list[bool], monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    real = store.transaction

    @contextmanager
    def transaction() -> Iterator[object]:
        if down[0] and not store.in_transaction:
            raise StoreUnavailable("study server: the study server is gone (test); this change was not stored")
        with real() as conn:
            yield conn

    monkeypatch.setattr(store, "transaction", transaction)


def test_a_refused_answer_is_kept_and_enter_sends_it_once_the_store_is_back(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    study = make_study(tmp_path / "s", consent=True)
    session = start_session(study, interviewer="amy", language="en")
    down = [False]
    _flaky(session.store, down, monkeypatch)
    prompts: list[str] = []
    said: list[str] = []
    script = iter(
        [
            (True, "1"),  # consent, refused by the store: kept
            (False, ""),  # back: Enter sends the consent
            (True, "30"),  # age: kept
            (True, ""),  # still down
            (False, "31"),  # back, and another answer typed instead: that one is stored
            (True, "!note slow line"),  # a note is kept too
            (False, ""),
            (True, "!stop"),  # suspending with the store gone leaves the interview open where it was stored
        ]
    )

    def ask(prompt: str) -> str | None:
        prompts.append(prompt)
        state, line = next(script, (False, None))
        down[0] = state
        return line

    assert run_plain(session, ask, said.append) == "suspended"
    assert next(script, None) is None
    kept = [line for line in said if "press Enter to send it again" in line]
    assert len(kept) == 4, said  # consent, age twice, the note
    assert [p.split(" > ")[0] for p in prompts if p.startswith("Enter sends again")] == [
        "Enter sends again: 1 Consent — 1 agrees, 2 refuses",
        "Enter sends again: 30",
        "Enter sends again: 30",
        "Enter sends again: !note slow line",
    ]
    assert any("stays open as last stored" in line for line in said)
    store = session.store
    assert {k: v.value for k, v in store.answers(session.interview_id).items()} == {"age": 31}
    notes = [e["detail"] for e in store.events(session.interview_id) if e["kind"] == "note"]
    assert notes == ["slow line"]
    assert store.interview(session.interview_id).status == "in_progress"  # the suspend never reached it
    session.close()
    resumed = resume_session(study, session.interview_id)  # and it resumes at the next question
    assert resumed.engine.current is not None and resumed.engine.current.name == "drinks"
    resumed.close()
