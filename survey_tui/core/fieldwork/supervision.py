"""The supervisor's view of fieldwork: who is interviewing now and where, completes per interviewer per day,
quota progress and the sync conflicts to resolve; plus the change feed that tells a screen when to refresh.

Read through plain, portable SQL on the study store (any backend). The screen never runs SQL itself.

Change feed: on SQLite a :class:`PollingFeed` reads a cheap *change token* (highest log ids and counts, all
indexed) every couple of seconds and reports a change when it moved. A server backend that can push changes
(PostgreSQL LISTEN/NOTIFY, core/store/notify.py) registers its own feed with :func:`register_feed` under its
backend name; the screen asks :func:`change_feed`. A feed with `pushes = True` is waited on in a worker thread
(`changed(timeout)` returns when something changed); any other is polled on a timer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from survey_tui.core.fieldwork.quotas import CellCount, Quota
    from survey_tui.core.store.sqlite import Store
    from survey_tui.core.store.sync import Conflict

#: an interview with no activity for this long is shown as idle (the interviewer may have walked away)
IDLE_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class LiveInterview:
    interview_id: int
    interviewer: str | None
    respondent_id: str | None
    mode: str
    question: str | None
    answers: int
    started_at: str
    last_activity: str
    idle: bool


@dataclass(frozen=True)
class DayCompletes:
    interviewer: str | None
    day: str
    completes: int


@dataclass(frozen=True)
class SupervisorView:
    live: list[LiveInterview]
    completes: list[DayCompletes]
    quotas: list[CellCount]
    conflicts: list[Conflict]
    token: tuple[Any, ...]


def live_interviews(store: Store, *, at: datetime | None = None) -> list[LiveInterview]:
    """Interviews in progress (not test runs), most recently active first, with the question they are on."""
    rows = store.query(
        "SELECT i.id, i.interviewer, i.respondent_id, i.mode, i.current_question, i.started_at,"
        " (SELECT COUNT(*) FROM answers a WHERE a.interview_id = i.id),"
        " (SELECT MAX(e.at) FROM interview_events e WHERE e.interview_id = i.id)"
        " FROM interviews i WHERE i.status = 'in_progress' AND i.mode != 'test'"
    )
    moment = at or datetime.now(UTC)
    out = []
    for r in rows:
        last = str(r[7] or r[5])
        out.append(
            LiveInterview(int(r[0]), r[1], r[2], str(r[3]), r[4], int(r[6]), str(r[5]), last, _idle(last, moment))
        )
    return sorted(out, key=lambda li: li.last_activity, reverse=True)


def _idle(stamp: str, moment: datetime) -> bool:
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return True
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return moment - when > IDLE_AFTER


def completes_per_day(store: Store) -> list[DayCompletes]:
    """Completed field interviews per interviewer per day (the day the interview ended), newest day first."""
    rows = store.query(
        "SELECT interviewer, substr(ended_at, 1, 10) AS day, COUNT(*) FROM interviews"
        " WHERE mode = 'field' AND outcome = 'complete' AND ended_at IS NOT NULL"
        " GROUP BY interviewer, substr(ended_at, 1, 10) ORDER BY day DESC, interviewer"
    )
    return [DayCompletes(r[0], str(r[1]), int(r[2])) for r in rows]


def change_token(store: Store) -> tuple[Any, ...]:
    """Moves whenever anything the view shows changes: an answer (audit), an event, an interview, a conflict."""
    row = store.query(
        "SELECT (SELECT MAX(id) FROM audit_log), (SELECT MAX(id) FROM interview_events),"
        " (SELECT COUNT(*) FROM interviews), (SELECT MAX(id) FROM sync_conflicts),"
        " (SELECT COUNT(*) FROM sync_conflicts WHERE resolution IS NULL), (SELECT MAX(id) FROM interviews)"
    )[0]
    return tuple(row)


def supervisor_view(store: Store, quotas: Sequence[Quota] = ()) -> SupervisorView:
    from survey_tui.core.fieldwork.quotas import quota_counts
    from survey_tui.core.store.sync import conflicts

    token = change_token(store)
    return SupervisorView(
        live_interviews(store),
        completes_per_day(store),
        quota_counts(store, quotas) if quotas else [],
        conflicts(store),
        token,
    )


# -- the change feed -----------------------------------------------------------------------------------
class ChangeFeed(Protocol):
    """Says whether the study changed since the last call (blocking at most `timeout` seconds)."""

    def changed(self, timeout: float = 0.0) -> bool: ...

    def close(self) -> None: ...


class PollingFeed:
    """SQLite: compare the change token with the last one seen (the caller polls on a timer)."""

    def __init__(self, open_store: Callable[[], Store]) -> None:
        self._open = open_store
        self._last: tuple[Any, ...] | None = None

    def changed(self, timeout: float = 0.0) -> bool:
        with self._open() as store:
            token = change_token(store)
        moved = token != self._last
        self._last = token
        return moved

    def close(self) -> None:
        return None


_FEEDS: dict[str, Callable[[Callable[[], Any]], ChangeFeed]] = {}


def register_feed(backend: str, factory: Callable[[Callable[[], Any]], ChangeFeed]) -> None:
    """A backend that can push changes (PostgreSQL: LISTEN on a channel its triggers NOTIFY) plugs in here."""
    _FEEDS[backend] = factory


#: the feeds that come with survey-tui, imported when first asked for (they register themselves)
_BUILTIN_FEEDS = {"postgresql": "survey_tui.core.store.notify"}


def change_feed(open_store: Callable[[], Any], backend: str = "sqlite") -> ChangeFeed:
    """The feed for a study on `backend` ('sqlite' polls; 'postgresql' listens, see core/store/notify.py)."""
    if backend not in _FEEDS and backend in _BUILTIN_FEEDS:
        import importlib

        importlib.import_module(_BUILTIN_FEEDS[backend])
    factory = _FEEDS.get(backend)
    return factory(open_store) if factory else PollingFeed(open_store)
