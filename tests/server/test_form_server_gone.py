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
