"""The interviewer form when the study server goes away: it says so, keeps what was typed, and carries on."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from tests.capture.helpers import make_study
from tests.capture.test_form_fixes import current, form, message, until


@pytest.mark.postgresql
async def test_the_form_keeps_the_answer_while_the_server_is_gone(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests.pgserver import remove_cluster, start_cluster

    cluster, reason = start_cluster()  # its own server: this test stops it
    if cluster is None:
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    try:
        monkeypatch.setenv("SURVEY_TUI_DATABASE_URL", cluster.create_database())
        study = make_study(tmp_path / "s", consent=False)
        app, session = form(study)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            field = app.screen.query_one("#iv-input", Input)
            await pilot.press("3", "0")
            cluster.stop("immediate")
            await pilot.press("enter")
            await until(pilot, lambda: "server is gone" in message(app) or "cannot reach" in message(app))
            assert field.value == "30" and current(app) == "age"  # nothing lost on screen, nothing moved on
            await pilot.press("enter")  # still down: still kept
            await until(pilot, lambda: "cannot reach the study server" in message(app))
            assert field.value == "30" and current(app) == "age"
            cluster.start()
            await pilot.press("enter")
            await until(pilot, lambda: current(app) == "drinks")
        with study.store() as store:
            assert store.answers(session.interview_id)["age"].value == 30  # type: ignore[attr-defined]
    finally:
        remove_cluster(cluster)


@pytest.mark.postgresql
def test_plain_mode_keeps_the_answer_while_the_server_is_gone_and_carries_on(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """--plain does what the form does: says the server is gone, offers the typed line again, and once the
    server is back Enter sends it and the interview goes on to its end (the end screen's complete too)."""
    from survey_tui.core.interview.capture import start_session
    from survey_tui.plain.interview import run_plain
    from tests.pgserver import remove_cluster, start_cluster

    cluster, reason = start_cluster()  # its own server: this test stops it
    if cluster is None:
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    try:
        monkeypatch.setenv("SURVEY_TUI_DATABASE_URL", cluster.create_database())
        study = make_study(tmp_path / "s", consent=False)
        session = start_session(study, interviewer="amy", language="en")
        prompts: list[str] = []
        said: list[str] = []

        def stop() -> None:
            cluster.stop("immediate")

        def start() -> None:
            cluster.start()

        # (what happens to the server first, the line typed)
        script = [
            (stop, "30"),  # age typed, then the server goes: not stored, kept
            (None, ""),  # Enter while still down: still kept
            (start, ""),  # back: Enter sends the kept 30
            (None, "1"),  # drinks
            (None, "1 2"),  # aware
            (None, "1"),  # favourite
            (None, "好喝"),  # why
            (None, "3 2"),  # satisfaction grid
            (None, "50"),  # spend
            (None, "2026-10-01"),  # visit
            (None, ""),  # thanks (note)
            (stop, ""),  # the end screen's Enter with the server gone: kept
            (start, ""),  # back: the complete is stored
        ]
        steps = iter(script)

        def ask(prompt: str) -> str | None:
            prompts.append(prompt)
            action, line = next(steps, (None, None))
            if action is not None:
                action()
            return line

        outcome = run_plain(session, ask, said.append)
        assert outcome == "complete", said[-5:]
        assert next(steps, None) is None  # every scripted line was asked for: nothing stopped the loop early
        gone = [line for line in said if line.startswith("! ") and "press Enter to send it again" in line]
        assert len(gone) == 3, said  # age twice (gone mid-write, then unreachable), the end screen once
        assert "the study server is gone" in gone[0] and "cannot reach the study server" in gone[1]
        assert "study server" in gone[2] and prompts[-1].startswith("Enter sends again:")
        assert prompts[1].startswith("Enter sends again: 30") and prompts[2].startswith("Enter sends again: 30")
        assert not prompts[3].startswith("Enter sends again")  # stored: nothing kept any more
        session.close()
        with study.store() as store:
            row = store.interview(session.interview_id)
            answers = store.answers(session.interview_id)
            assert (row.status, row.outcome) == ("completed", "complete")
            assert answers["age"].value == 30 and answers["aware"].value == [1, 2]
            assert answers["visit"].value == "2026-10-01"
            ages = store.query(
                "SELECT COUNT(*) FROM audit_log WHERE interview_id = ? AND question = 'age'", (session.interview_id,)
            )
            assert ages[0][0] == 1  # the answer given again is stored once
    finally:
        remove_cluster(cluster)
