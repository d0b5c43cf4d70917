"""The supervisor's screen on a PostgreSQL study is told of changes by the server (LISTEN/NOTIFY): with every
poll made an hour long, only a notification can bring another connection's complete onto the screen."""

from __future__ import annotations

from pathlib import Path

import pytest

psycopg = pytest.importorskip("psycopg")

from survey_tui.core.store.notify import ListenFeed  # noqa: E402
from survey_tui.core.store.postgres import PostgresStore  # noqa: E402
from survey_tui.core.study import open_study  # noqa: E402
from survey_tui.tui.app import SurveyApp  # noqa: E402
from survey_tui.tui.screens.supervisor import SupervisorScreen  # noqa: E402
from tests.capture.helpers import make_study  # noqa: E402
from tests.tui.test_supervisor_screen import rows, wait_for  # noqa: E402

HOUR = 3600.0


async def test_the_screen_follows_another_connection_by_notification(
    pg_url: str, pg_cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SURVEY_TUI_DATABASE_URL", pg_url)
    monkeypatch.setattr(SupervisorScreen, "POLL_SECONDS", HOUR)  # the SQLite timer, were it used
    monkeypatch.setattr(ListenFeed, "poll_seconds", HOUR)  # the fallback poll: never within the test
    monkeypatch.setattr(ListenFeed, "relisten_seconds", 0.5)
    study = make_study(tmp_path / "s", consent=False)
    app = SurveyApp(open_study(study.root), keymap_file=tmp_path / "none.yaml")
    app.animation_level = "none"
    async with app.run_test(size=(140, 60)) as pilot:
        await pilot.press("4")
        await app.workers.wait_for_complete()
        await pilot.press("v")
        await wait_for(
            pilot, lambda: isinstance(app.screen, SupervisorScreen) and app.screen.refreshes >= 1, "first read"
        )
        screen = app.screen
        feed_line = screen.query_one("#sv-feed")
        await wait_for(pilot, lambda: "live" in str(feed_line.render()), "the feed to say it listens")
        assert rows(app, "#sv-completes") == []

        with PostgresStore(pg_url) as other:  # another interviewer's connection completes an interview
            version = other.versions()[-1].id
            row = other.start_interview(version, "field", "amy", None, "zh-TW")
            other.save_answer(row.id, "age", 30, None)
            other.set_position(row.id, "drinks", ["age"])
        await wait_for(pilot, lambda: any(r[3] == "drinks" for r in rows(app, "#sv-live")), "the live interview")
        with PostgresStore(pg_url) as other:
            other.finish_interview(row.id, "completed", "complete")
        await wait_for(
            pilot, lambda: any(r[1] == "amy" and r[2] == "1" for r in rows(app, "#sv-completes")), "the complete"
        )
        assert rows(app, "#sv-live") == []

        with psycopg.connect(pg_cluster.admin_url, autocommit=True) as admin:  # the listener is cut off
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'survey-tui listener'"
            )
        await wait_for(pilot, lambda: "notifications lost" in str(feed_line.render()), "the drop said on screen")
        await wait_for(pilot, lambda: "live" in str(feed_line.render()), "listening again")
        with PostgresStore(pg_url) as other:
            row = other.start_interview(version, "field", "bob", None, "zh-TW")
            other.finish_interview(row.id, "completed", "complete")
        await wait_for(pilot, lambda: any(r[1] == "bob" for r in rows(app, "#sv-completes")), "bob's complete")
