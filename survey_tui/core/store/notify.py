"""The change feed of a study on PostgreSQL: LISTEN on the channel the schema's triggers NOTIFY.

Every statement that changes what the supervisor view shows (interviews, answers, sync conflicts) announces
itself on `survey_changes` inside its own transaction (see the migration in schema.py), so a notification
arrives once the change is committed, never for one rolled back. The listener holds a connection of its
own in autocommit mode: nothing it does can block or be blocked by a writer.

When that connection drops (the server restarted, a network cut, an administrator ended it) the feed says so
(`state`), falls back to polling the change token (supervision.PollingFeed) and tries to listen again every
`relisten_seconds`; on listening again it reports a change, since anything may have happened unheard.

Not thread-safe: one thread (the screen's worker) calls `changed` and finally `close`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from survey_tui.core.store.postgres import CONNECT_TIMEOUT_S, redact
from survey_tui.i18n import _

CHANNEL = "survey_changes"


@dataclass(frozen=True)
class FeedState:
    """How the feed learns of changes now: `listening` (pushed by the server) or polling, and why."""

    listening: bool
    message: str


class ListenFeed:
    """`changed(timeout)` waits up to `timeout` seconds for a notification (or, while not listening, for the
    next poll of the change token) and says whether the study changed."""

    #: a push feed: the caller waits on `changed` in a worker thread instead of polling on a timer
    pushes = True
    #: seconds between looks at the change token while the listening connection is down
    poll_seconds = 2.0
    #: seconds between attempts to listen again after the connection dropped
    relisten_seconds = 5.0

    def __init__(self, open_store: Callable[[], Any], url: str | None = None) -> None:
        from survey_tui.core.fieldwork.supervision import PollingFeed

        self._open = open_store
        self._url = url
        self._conn: Any = None
        self._polling = PollingFeed(open_store)
        self._next_listen = 0.0
        self._next_poll = 0.0
        self._closed = threading.Event()
        self.state = FeedState(False, _("not listening yet"))

    # -- listening -------------------------------------------------------------------------------
    def _server_url(self) -> str:
        if self._url is None:
            with self._open() as store:
                self._url = str(store.url)
        return self._url

    def _listen(self) -> bool:
        """Open the listening connection; False (and polling) if the server cannot be reached."""
        import psycopg

        try:
            url = self._server_url()
            conn = psycopg.connect(
                url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S, application_name="survey-tui listener"
            )
            conn.execute(f"LISTEN {CHANNEL}")
        except Exception as exc:  # noqa: BLE001 - any failure to listen means: poll, and try again later
            self._dropped(exc)
            return False
        self._conn = conn
        self.state = FeedState(True, _("live: {server} tells this view of every change").format(server=redact(url)))
        return True

    def _dropped(self, exc: BaseException) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # it is gone either way
                self._conn.close()
        self._conn = None
        self._next_listen = time.monotonic() + self.relisten_seconds
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        self.state = FeedState(
            False,
            _("notifications lost ({reason}); polling every {poll} s, listening again in {relisten} s").format(
                reason=first, poll=f"{self.poll_seconds:g}", relisten=f"{self.relisten_seconds:g}"
            ),
        )

    # -- the feed --------------------------------------------------------------------------------
    def changed(self, timeout: float = 0.0) -> bool:
        if self._closed.is_set():
            return False
        if self._conn is None and time.monotonic() >= self._next_listen and self._listen():
            return True  # (again) listening: whatever happened while nobody listened is read now
        if self._conn is not None:
            return self._wait_for_notification(timeout)
        return self._poll(timeout)

    def _wait_for_notification(self, timeout: float) -> bool:
        try:
            got = any(True for _ in self._conn.notifies(timeout=max(timeout, 0.0), stop_after=1))
            if got:  # a burst (many answers in a row) is one change to the reader
                for _ in self._conn.notifies(timeout=0.0):
                    pass
            return got
        except Exception as exc:  # noqa: BLE001 - the connection broke: say so, poll, listen again later
            self._dropped(exc)
            return True  # a change may have been missed

    def _poll(self, timeout: float) -> bool:
        wait = max(0.0, min(timeout, self._next_poll - time.monotonic(), self._next_listen - time.monotonic()))
        if self._closed.wait(wait):
            return False
        if time.monotonic() < self._next_poll:
            return False
        self._next_poll = time.monotonic() + self.poll_seconds
        try:
            return self._polling.changed()
        except Exception as exc:  # noqa: BLE001 - the server is gone altogether: say so, keep trying
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            self.state = FeedState(
                False,
                _("{reason}; trying again every {seconds} s").format(reason=first, seconds=f"{self.poll_seconds:g}"),
            )
            return False

    def close(self) -> None:
        """Stop listening (called by the thread that calls `changed`, or once it has stopped)."""
        self._closed.set()
        if self._conn is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                self._conn.close()
            self._conn = None


def listen_feed(open_store: Callable[[], Any]) -> ListenFeed:
    """The factory supervision.change_feed uses for the 'postgresql' backend."""
    return ListenFeed(open_store)


def _register() -> None:
    from survey_tui.core.fieldwork.supervision import register_feed

    register_feed("postgresql", listen_feed)


_register()
