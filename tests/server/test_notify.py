"""LISTEN/NOTIFY on the server: a change committed by another connection reaches the supervisor's feed at once;
a rolled-back one never does; a dropped listening connection is said, polled around, and listened to again."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

psycopg = pytest.importorskip("psycopg")

from survey_tui.core.fieldwork.supervision import change_feed  # noqa: E402
from survey_tui.core.store.notify import ListenFeed  # noqa: E402
from survey_tui.core.store.postgres import PostgresStore  # noqa: E402
from survey_tui.core.store.schema import MIGRATIONS, postgresql_statements, sqlite_statements  # noqa: E402

BOUND = 10.0  # seconds: the longest any wait below may take before the test fails


def _until(feed: ListenFeed, condition: Callable[[], bool], what: str) -> None:
    """Call the feed (it blocks on the socket, not on a sleep) until `condition` holds, within BOUND."""
    deadline = time.monotonic() + BOUND
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        feed.changed(timeout=0.2)


def _changed_within(feed: ListenFeed, seconds: float = BOUND) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if feed.changed(timeout=deadline - time.monotonic()):
            return True
    return False


def test_the_announcements_run_on_postgresql_only_and_are_explicit() -> None:
    """The migration's triggers are PostgreSQL-only (SQLite polls): skipped on SQLite, whole on PostgreSQL."""
    script = (
        MIGRATIONS[-1]
        if "survey_announce_change" in MIGRATIONS[-1]
        else next(m for m in MIGRATIONS if "survey_announce_change" in m)
    )
    assert sqlite_statements(script) == []
    statements = postgresql_statements(script)
    assert statements[0].startswith("CREATE FUNCTION survey_announce_change()")
    assert [s.split()[2] for s in statements[1:]] == [
        "interviews_announce",
        "answers_announce",
        "sync_conflicts_announce",
    ]
    assert all("FOR EACH STATEMENT" in s for s in statements[1:])


def test_a_complete_from_another_connection_reaches_the_feed(pg_url: str) -> None:
    with PostgresStore(pg_url) as writer:
        version = writer.publish_instrument("s", "id: s\n")
    feed = change_feed(lambda: PostgresStore(pg_url), "postgresql")
    assert isinstance(feed, ListenFeed) and feed.pushes
    try:
        assert feed.changed(timeout=0) and feed.state.listening  # listening now: read everything once
        assert not feed.changed(timeout=0.05)
        with PostgresStore(pg_url) as writer:  # another interviewer's connection
            row = writer.start_interview(version.id, "field", "amy")
            assert _changed_within(feed)
            writer.save_answer(row.id, "age", 30, None)
            assert _changed_within(feed)
            assert not feed.changed(timeout=0.05)  # one change, said once
            with pytest.raises(RuntimeError), writer.transaction():  # rolled back: never announced
                writer.save_answer(row.id, "age", 31, None)
                raise RuntimeError("undo")
            assert not feed.changed(timeout=0.3)
            done = threading.Event()

            def complete() -> None:
                with PostgresStore(pg_url) as other:
                    other.finish_interview(row.id, "completed", "complete")
                done.set()

            threading.Thread(target=complete).start()
            assert _changed_within(feed) and done.wait(BOUND)
    finally:
        feed.close()
    assert not feed.changed(timeout=0)


def test_a_dropped_listener_says_so_polls_and_listens_again(pg_url: str, pg_cluster) -> None:  # type: ignore[no-untyped-def]
    with PostgresStore(pg_url) as writer:
        version = writer.publish_instrument("s", "id: s\n")
    feed = ListenFeed(lambda: PostgresStore(pg_url))
    feed.poll_seconds, feed.relisten_seconds = 0.1, 3.0
    try:
        assert feed.changed(timeout=0) and feed.state.listening
        with psycopg.connect(pg_cluster.admin_url, autocommit=True) as admin:  # the DBA ends the listener
            ended = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'survey-tui listener'"
            ).fetchall()
        assert ended == [(True,)]
        _until(feed, lambda: not feed.state.listening, "the drop to be noticed")
        assert "notifications lost" in feed.state.message and "polling every 0.1 s" in feed.state.message
        _until(feed, lambda: not feed.changed(timeout=0.3), "the first poll to settle")
        with PostgresStore(pg_url) as writer:  # a change while nobody listens is found by polling
            writer.start_interview(version.id, "field", "bob")
        assert _changed_within(feed, 2.0) and not feed.state.listening
        _until(feed, lambda: feed.state.listening, "listening again")
        with PostgresStore(pg_url) as writer:
            writer.start_interview(version.id, "field", "cat")
        assert _changed_within(feed)
    finally:
        feed.close()
