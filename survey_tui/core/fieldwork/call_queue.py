"""The call queue (T1.3 P1.3.3): "next case" for an interviewer, calls recorded, callbacks booked.

Order of the queue, at the clock's "now":

1. the interviewer's own lease, if they still hold one (asking twice gives the same case, not a second);
2. due appointments: a hard one from its time on, a soft one from `soft_window_minutes` before it; hard
   before soft, then the earliest;
3. fresh and retry cases: highest `priority` first, then the fewest attempts, then the longest waiting;
   a retry only once its outcome's redial delay has passed (busy 15 min, no answer 2 h, ...), and only below
   `max_attempts`.

A case assigned to an interviewer (`respondents.interviewer`, e.g. by booking its appointment) goes only to
them; unassigned cases go to anyone. Every candidate must be inside calling hours in its own time zone (the
respondent's `timezone`, else the study's, Asia/Taipei by default) and outside any full quota cell.
The chosen case is *leased*: no one else gets it until the call is recorded or the lease (`lease_minutes`)
expires.

The lease is one conditional UPDATE (`... WHERE id = ? AND lease_until <= now`) inside a write transaction:
on SQLite that transaction is BEGIN IMMEDIATE, so askers take turns; on PostgreSQL the candidate SELECT
carries ``FOR UPDATE SKIP LOCKED`` (`LOCK_CLAUSE`), so askers skip each other's rows instead of waiting.
Threads of one process also queue on a lock per database before the transaction, so they wake in turn
rather than on SQLite's busy-timeout sleeps, and a lease's commit skips the fsync (`_lease_transaction`):
losing one to a power cut only frees the case again, while call outcomes stay fully durable. Times are
stored as UTC ISO text, so comparing them as text
orders them in time on every backend. The clock is injected (`clock=`), so tests can move time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from survey_tui.core.fieldwork import respondents as resp
from survey_tui.core.fieldwork.dispositions import (
    DAYS,
    FINAL_STATUS,
    RESULT_OF,
    CallSettings,
    UnknownOutcome,
)
from survey_tui.core.store.sqlite import StoreError, decode
from survey_tui.i18n import N_, _

#: the board's line names (see `board`) as shown to people, in the interface language: `_(BOARD_WORDS[name])`
BOARD_WORDS = {
    "appointments due": N_("appointments due"),
    "appointments later": N_("appointments later"),
    "ready to call": N_("ready to call"),
    "waiting to redial": N_("waiting to redial"),
    "leased": N_("leased"),
    "closed": N_("closed"),
}

Clock = Callable[[], datetime]
#: statuses the queue dials (refused, unreachable and final ones are worked deliberately, not by the queue)
QUEUED = ("new", "contacted", "appointment", "in_progress")
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def system_clock() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    """UTC ISO text with microseconds: the one format the queue compares."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class CallError(StoreError):
    """A call, appointment or lease that cannot be recorded; nothing was changed."""


@dataclass(frozen=True)
class Case:
    id: str
    why: str  # 'lease', 'appointment (hard)', 'appointment (soft)', 'fresh', 'retry'
    attempts: int
    status: str
    interviewer: str | None
    appointment: str | None  # the appointment as booked (local time)
    appointment_kind: str | None
    lease_until: str
    timezone: str


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NO_LOCK = _NoLock()


def _lock_for(store: Any) -> Any:
    """The in-process lock of this database (none inside a transaction already open: it holds the store)."""
    if getattr(store, "in_transaction", False):
        return _NO_LOCK
    key = str(getattr(store, "path", None) or store.where)
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


@contextmanager
def _lease_transaction(store: Any) -> Iterator[Any]:
    """A write transaction for leases only: threads of this process queue on a lock first, and the commit does
    not wait for the disk (`transaction(durable=False)`, still crash-consistent). A lease lost to a power cut
    only makes the case free again, so it need not wait as answers and call outcomes do (those stay durable)."""
    with _lock_for(store), store.transaction(durable=False) as tx:
        yield tx


def lock_clause(store: Any) -> str:
    """What the candidate SELECT ends with: row locks skipped by others on PostgreSQL, nothing on SQLite."""
    return " FOR UPDATE SKIP LOCKED" if getattr(store, "dialect", "sqlite") == "postgresql" else ""


_COLUMNS = (
    "id, attempts, status, interviewer, next_appointment, appointment_kind, lease_until, timezone, attributes,"
    " next_call_at"
)
_STATUSES = ", ".join(f"'{s}'" for s in QUEUED)
#: due appointments of one kind (hard, then soft), earliest first, straight from the index (no sort)
_APPOINTMENTS = (
    f"SELECT {_COLUMNS} FROM respondents WHERE call_state = 'open' AND appointment_kind = ?"
    " AND appointment_due > '' AND appointment_due <= ? AND lease_until <= ?"
    f" AND status IN ({_STATUSES}) AND (interviewer IS NULL OR interviewer = ?)"
    " ORDER BY appointment_due LIMIT ? OFFSET ?"
)
_RETRIES = (
    f"SELECT {_COLUMNS} FROM respondents WHERE call_state = 'open' AND appointment_due = ''"
    f" AND status IN ({_STATUSES}) AND COALESCE(eligible, 1) = 1 AND attempts < ? AND next_call_at <= ?"
    " AND lease_until <= ? AND (interviewer IS NULL OR interviewer = ?)"
    " ORDER BY priority DESC, attempts, next_call_at, id LIMIT ? OFFSET ?"
)


class _NoAnswers:
    def value(self, name: str) -> object | None:
        return None

    def special(self, name: str) -> str | None:
        return None


class CallQueue:
    """The queue of one study for one store connection (each interviewer's process or thread has its own)."""

    def __init__(
        self,
        store: Any,
        settings: CallSettings | None = None,
        quotas: Sequence[Any] = (),
        clock: Clock = system_clock,
        batch: int = 8,
        quota_refresh_seconds: float = 10.0,
    ) -> None:
        self.store = store
        self.settings = settings or CallSettings()
        self.quotas = list(quotas)
        self.clock = clock
        self.batch = batch
        self.quota_refresh_seconds = quota_refresh_seconds
        self._full: tuple[datetime, set[tuple[str, tuple[str, ...]]]] | None = None

    # -- calling hours and quotas ------------------------------------------------------------------
    def in_hours(self, moment: datetime, zone: str | None = None) -> bool:
        local = moment.astimezone(self.settings.zone(zone))
        at = local.time().replace(tzinfo=None)
        return any(w.holds(local.weekday(), at) for w in self.settings.calling_hours)

    def hours_text(self) -> str:
        return "; ".join(
            f"{','.join(w.days) if len(w.days) < 3 else w.days[0] + '-' + w.days[-1]} {w.start}-{w.end}"
            for w in self.settings.calling_hours
        )

    def _full_cells(self, now: datetime) -> set[tuple[str, tuple[str, ...]]]:
        if not self.quotas:
            return set()
        if self._full is None or (now - self._full[0]).total_seconds() > self.quota_refresh_seconds:
            from survey_tui.core.fieldwork.quotas import quota_counts

            cells = {(c.quota, c.cell) for c in quota_counts(self.store, self.quotas) if c.full}
            self._full = (now, cells)
        return self._full[1]

    def _in_full_cell(self, attributes: dict[str, Any], full: set[tuple[str, tuple[str, ...]]]) -> bool:
        if not full:
            return False
        from survey_tui.core.fieldwork.quotas import LayeredScope

        scope = LayeredScope(_NoAnswers(), attributes)  # type: ignore[arg-type]
        for quota in self.quotas:
            try:
                cell = quota.cell_of(scope)
            except Exception:  # noqa: BLE001 - an attribute of the wrong type: cell unknown, not skipped
                cell = None
            if cell is not None and (quota.name, cell) in full:
                return True
        return False

    # -- next case ---------------------------------------------------------------------------------
    def next_case(self, interviewer: str) -> Case | None:
        """The best case for `interviewer` now, leased to them; None when nothing may be called now."""
        if not interviewer or not interviewer.strip():
            raise CallError(_("say who is calling (the interviewer's name): a lease belongs to one interviewer"))
        moment = self.clock()
        now = stamp(moment)
        until = stamp(moment + timedelta(minutes=self.settings.lease_minutes))
        full = self._full_cells(moment)
        lock = lock_clause(self.store)
        open_now: dict[str | None, bool] = {}  # time zone -> inside calling hours now
        with _lease_transaction(self.store) as conn:
            own = conn.execute(
                f"SELECT {_COLUMNS} FROM respondents WHERE lease_until > ? AND lease_holder = ? ORDER BY lease_at"
                " LIMIT 1",
                (now, interviewer),
            ).fetchone()
            if own is not None:
                return self._case(own, "lease")
            for sql, head, kinds in (
                (_APPOINTMENTS, ("hard", now, now, interviewer), "appointment"),
                (_APPOINTMENTS, ("soft", now, now, interviewer), "appointment"),
                (_RETRIES, (self.settings.max_attempts, now, now, interviewer), "retry"),
            ):
                offset, size = 0, self.batch  # a few rows first (the first one usually fits), more if not
                while True:
                    rows = conn.execute(sql + lock, (*head, size, offset)).fetchall()
                    for row in rows:
                        if row[7] not in open_now:
                            open_now[row[7]] = self.in_hours(moment, row[7])
                        if not open_now[row[7]]:
                            continue
                        if full and self._in_full_cell(decode(row[8]) or {}, full):
                            continue
                        taken = conn.execute(
                            "UPDATE respondents SET lease_holder = ?, lease_until = ?, lease_at = ?"
                            " WHERE id = ? AND lease_until <= ?",
                            (interviewer, until, now, row[0], now),
                        ).rowcount
                        if taken == 1:
                            why = (
                                f"appointment ({row[5] or 'soft'})"
                                if kinds == "appointment"
                                else ("fresh" if int(row[1]) == 0 else "retry")
                            )
                            return self._case(row, why, until)
                    if len(rows) < size:
                        break
                    offset += size
                    size = min(size * 4, 512)
        return None

    def _case(self, row: Any, why: str, until: str | None = None) -> Case:
        return Case(
            row[0],
            why,
            int(row[1]),
            row[2],
            row[3],
            row[4],
            row[5],
            until or row[6],
            row[7] or self.settings.timezone,
        )

    def renew(self, respondent_id: str, interviewer: str, minutes: int | None = None) -> bool:
        """Keep the lease longer (an interview is starting on this call); False if it is not theirs any more."""
        moment = self.clock()
        until = stamp(moment + timedelta(minutes=minutes or self.settings.lease_minutes))
        with _lease_transaction(self.store) as conn:
            return (
                conn.execute(
                    "UPDATE respondents SET lease_until = ? WHERE id = ? AND lease_holder = ? AND lease_until > ?",
                    (until, respondent_id, interviewer, stamp(moment)),
                ).rowcount
                == 1
            )

    def release(self, respondent_id: str, interviewer: str) -> bool:
        """Give a leased case back unchanged (the interviewer left the call screen without calling)."""
        with _lease_transaction(self.store) as conn:
            return (
                conn.execute(
                    "UPDATE respondents SET lease_holder = NULL, lease_until = '', lease_at = NULL"
                    " WHERE id = ? AND lease_holder = ?",
                    (respondent_id, interviewer),
                ).rowcount
                == 1
            )

    # -- appointments ------------------------------------------------------------------------------
    def parse_when(self, text: str, zone: str | None = None) -> datetime:
        """'2026-10-08 19:30' (the respondent's local time) as an aware datetime; CallError when unreadable."""
        cleaned = " ".join(str(text).strip().replace("T", " ").split())
        try:
            naive = datetime.strptime(cleaned, "%Y-%m-%d %H:%M")
        except ValueError:
            raise CallError(
                _("callback time {text!r} must be a date and time like 2026-10-08 19:30").format(text=text)
            ) from None
        return naive.replace(tzinfo=self.settings.zone(zone))

    def check_appointment(self, when: datetime, zone: str | None = None) -> None:
        """An appointment must lie ahead and inside calling hours (the respondent's local time)."""
        moment = self.clock()
        local = when.astimezone(self.settings.zone(zone))
        shown = local.strftime("%Y-%m-%d %H:%M")
        if when <= moment:
            now_local = moment.astimezone(self.settings.zone(zone)).strftime("%Y-%m-%d %H:%M")
            raise CallError(
                _("callback {when} is in the past (it is {now} there now); give a later time").format(
                    when=shown, now=now_local
                )
            )
        if not self.in_hours(when, zone):
            raise CallError(
                _("callback {when} ({day}) is outside calling hours ({hours}, {zone}); give a time inside them").format(
                    when=shown, day=DAYS[local.weekday()], hours=self.hours_text(), zone=zone or self.settings.timezone
                )
            )

    def _row(self, respondent_id: str) -> Any:
        rows = self.store.query(
            "SELECT status, lease_holder, lease_until, lease_at, timezone, next_appointment FROM respondents"
            " WHERE id = ?",
            (respondent_id,),
        )
        if not rows:
            raise CallError(_("no case {id} in this study").format(id=respondent_id))
        return rows[0]

    def _check_lease(self, respondent_id: str, row: Any, interviewer: str | None) -> None:
        if row[1] and row[1] != interviewer and row[2] > stamp(self.clock()):
            raise CallError(
                _("case {id} is being called by {interviewer} (until {until} UTC)").format(
                    id=respondent_id, interviewer=row[1], until=row[2][11:16]
                )
            )

    def book(
        self,
        respondent_id: str,
        when: datetime | str,
        *,
        interviewer: str | None = None,
        hard: bool = False,
        note: str | None = None,
    ) -> datetime:
        """Book a callback (checked first: in the future, within calling hours); returns it (aware)."""
        row = self._row(respondent_id)
        self._check_lease(respondent_id, row, interviewer)
        if row[0] == "withdrawn":
            raise CallError(_("{id} withdrew consent; no callback can be booked").format(id=respondent_id))
        moment = self.parse_when(when, row[4]) if isinstance(when, str) else when
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.settings.zone(row[4]))
        self.check_appointment(moment, row[4])
        with _lock_for(self.store), self.store.transaction():
            self._book(respondent_id, moment, row[4], interviewer, hard, note)
        return moment

    def _book(
        self,
        respondent_id: str,
        moment: datetime,
        zone: str | None,
        interviewer: str | None,
        hard: bool,
        note: str | None,
    ) -> None:
        local = moment.astimezone(self.settings.zone(zone)).strftime("%Y-%m-%dT%H:%M")
        due = moment if hard else moment - timedelta(minutes=self.settings.soft_window_minutes)
        kind = "hard" if hard else "soft"
        resp.make_appointment(
            self.store, respondent_id, local, interviewer=interviewer, note=note, at=stamp(self.clock())
        )
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE appointments SET kind = ?"
                " WHERE id = (SELECT MAX(id) FROM appointments WHERE respondent_id = ?)",
                (kind, respondent_id),
            )
            conn.execute(
                "UPDATE respondents SET appointment_due = ?, appointment_kind = ?, call_state = 'open' WHERE id = ?",
                (stamp(due), kind, respondent_id),
            )

    # -- calls -------------------------------------------------------------------------------------
    def record_call(
        self,
        respondent_id: str,
        outcome: str,
        *,
        interviewer: str,
        note: str | None = None,
        callback: datetime | str | None = None,
        hard: bool = False,
    ) -> int:
        """The call ended with `outcome`: kept in the history, the disposition, redial time and lease follow.

        Everything is checked before anything is written (unknown outcome, someone else's lease, a callback
        in the past or outside calling hours), so a refused call leaves the case exactly as it was. Returns the
        case's attempt count.
        """
        try:
            spec = self.settings.outcome(outcome)
        except UnknownOutcome as exc:
            raise CallError(_("{error}; case {id} was left unchanged").format(error=exc, id=respondent_id)) from None
        row = self._row(respondent_id)
        self._check_lease(respondent_id, row, interviewer)
        if row[0] == "withdrawn":
            raise CallError(_("{id} withdrew consent; no call can be recorded").format(id=respondent_id))
        moment_cb = None
        if callback is not None:
            moment_cb = self.parse_when(callback, row[4]) if isinstance(callback, str) else callback
            if moment_cb.tzinfo is None:
                moment_cb = moment_cb.replace(tzinfo=self.settings.zone(row[4]))
            self.check_appointment(moment_cb, row[4])
        moment = self.clock()
        now = stamp(moment)
        with _lock_for(self.store), self.store.transaction() as conn:
            self._check_lease(respondent_id, self._row(respondent_id), interviewer)  # again, now that we write
            attempts = resp.record_attempt(
                self.store,
                respondent_id,
                RESULT_OF.get(outcome, "reached"),
                interviewer=interviewer,
                note=note,
                at=now,
                outcome=outcome,
                aapor=spec.aapor,
                started_at=row[3] if row[1] == interviewer else None,
            )
            closed = spec.final or (attempts >= self.settings.max_attempts and moment_cb is None)
            redial = "" if closed else stamp(moment + timedelta(minutes=spec.redial_minutes or 0))
            conn.execute(
                "UPDATE respondents SET call_state = ?, next_call_at = ?, lease_holder = NULL, lease_until = '',"
                " lease_at = NULL, appointment_due = '', appointment_kind = NULL, next_appointment = NULL WHERE id = ?",
                ("closed" if closed else "open", redial, respondent_id),
            )
            status = resp.get(self.store, respondent_id).status
            wanted = FINAL_STATUS.get(outcome)
            if wanted is None and closed and status in QUEUED:
                wanted = "unreachable"
            elif wanted is None and status == "appointment" and moment_cb is None:
                wanted = "contacted"  # the appointment was kept (or missed); the case is a retry again
            if wanted and wanted != status and status != "withdrawn":
                why = f"call: {outcome}" + (f" (attempt {attempts} of {self.settings.max_attempts})" if closed else "")
                resp.set_status(self.store, respondent_id, wanted, interviewer=interviewer, note=why, at=now)
            if moment_cb is not None:
                self._book(respondent_id, moment_cb, row[4], interviewer, hard, note)
        return attempts

    # -- the board -------------------------------------------------------------------------------
    def board(self) -> dict[str, int]:
        """How the queue stands now: due appointments, callable now, waiting for redial, leased, closed."""
        now = stamp(self.clock())
        row = self.store.query(
            "SELECT"
            " SUM(CASE WHEN call_state = 'open' AND appointment_due <> '' AND appointment_due <= ? THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN call_state = 'open' AND appointment_due <> '' AND appointment_due > ? THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN call_state = 'open' AND appointment_due = '' AND next_call_at <= ? AND attempts < ?"
            f" AND status IN ({_STATUSES}) THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN call_state = 'open' AND appointment_due = '' AND next_call_at > ? THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN lease_until > ? THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN call_state = 'closed' THEN 1 ELSE 0 END)"
            " FROM respondents",
            (now, now, now, self.settings.max_attempts, now, now),
        )[0]
        names = ("appointments due", "appointments later", "ready to call", "waiting to redial", "leased", "closed")
        return {n: int(v or 0) for n, v in zip(names, tuple(row), strict=True)}


def for_study(study: Any, store: Any, clock: Clock = system_clock) -> CallQueue:
    """The queue of a study with its call settings and quotas."""
    from survey_tui.core.fieldwork.dispositions import settings_of

    return CallQueue(store, settings_of(study.config), study.config.quotas, clock)


def question_counts(study: Any, store: Any) -> dict[int, int]:
    """Questions per published instrument version (for the partial-interview threshold)."""
    counts = {}
    for version in store.versions():
        try:
            counts[version.id] = len(study.instrument_for_version(version).questions)
        except Exception:  # noqa: BLE001 - a version that no longer parses: its break-offs stay break-offs
            continue
    return counts
