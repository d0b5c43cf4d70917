"""The call queue with a fake clock: appointments, redial delays, maximum attempts, calling hours, leases,
quota cells, bad input leaving the case unchanged, and 20 concurrent workers never sharing a case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from survey_tui.core.fieldwork import respondents as resp
from survey_tui.core.fieldwork.call_queue import CallError, CallQueue
from survey_tui.core.fieldwork.dispositions import CallSettings
from survey_tui.core.store.sqlite import Store
from tests.calls.queue_race import race_twenty_workers

# Tuesday 6 October 2026, 10:00 in Taipei (UTC+8)
TUESDAY_10 = datetime(2026, 10, 6, 2, 0, tzinfo=UTC)


class Clock:
    def __init__(self, start: datetime = TUESDAY_10) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "survey.db") as s:
        yield s


def _snapshot(store: Store, rid: str) -> tuple:
    row = store.query("SELECT * FROM respondents WHERE id = ?", (rid,))[0]
    calls = store.query("SELECT COUNT(*) FROM contact_attempts WHERE respondent_id = ?", (rid,))[0][0]
    booked = store.query("SELECT COUNT(*) FROM appointments WHERE respondent_id = ?", (rid,))[0][0]
    return (tuple(row), calls, booked)


def test_redial_delays_are_respected(store: Store) -> None:
    rid = resp.add(store, {})
    clock = Clock()
    queue = CallQueue(store, clock=clock)
    assert queue.next_case("amy").id == rid
    queue.record_call(rid, "busy", interviewer="amy")  # busy: 15 minutes
    clock.advance(minutes=14)
    assert queue.next_case("amy") is None
    clock.advance(minutes=1)
    assert queue.next_case("amy").id == rid
    queue.record_call(rid, "no_answer", interviewer="amy")  # no answer: 2 hours
    clock.advance(minutes=119)
    assert queue.next_case("amy") is None
    clock.advance(minutes=1)
    case = queue.next_case("amy")
    assert case.id == rid and case.why == "retry" and case.attempts == 2


def test_configured_redial_delay(store: Store) -> None:
    from survey_tui.core.fieldwork.dispositions import Outcome

    rid = resp.add(store, {})
    clock = Clock()
    settings = CallSettings(outcomes={"busy": Outcome(aapor="3.12", key="b", redial_minutes=45)})
    queue = CallQueue(store, settings, clock=clock)
    queue.next_case("amy")
    queue.record_call(rid, "busy", interviewer="amy")
    clock.advance(minutes=44)
    assert queue.next_case("amy") is None
    clock.advance(minutes=1)
    assert queue.next_case("amy").id == rid


def test_attempts_stop_at_the_maximum(store: Store) -> None:
    rid = resp.add(store, {})
    clock = Clock()
    queue = CallQueue(store, CallSettings(max_attempts=3), clock=clock)
    for attempt in range(1, 4):
        case = queue.next_case("amy")
        assert case is not None and case.id == rid, attempt
        assert queue.record_call(rid, "busy", interviewer="amy") == attempt
        clock.advance(minutes=20)
    assert queue.next_case("amy") is None
    clock.advance(days=2)
    assert queue.next_case("amy") is None
    row = resp.get(store, rid)
    assert row.status == "unreachable" and row.attempts == 3
    assert store.query("SELECT call_state, disposition FROM respondents WHERE id = ?", (rid,))[0][:] == (
        "closed",
        "3.12",
    )


def test_calling_hours_are_kept_in_the_respondents_time_zone(store: Store) -> None:
    taipei = resp.add(store, {})
    london = resp.add(store, {})
    with store.transaction() as conn:
        conn.execute("UPDATE respondents SET timezone = 'Europe/London' WHERE id = ?", (london,))
    # Tuesday 22:00 in Taipei = 15:00 in London (BST): only the London case may be called
    clock = Clock(datetime(2026, 10, 6, 14, 0, tzinfo=UTC))
    queue = CallQueue(store, clock=clock)
    assert queue.next_case("amy").id == london
    assert queue.next_case("bob") is None
    # Saturday 09:30 in Taipei: before the weekend window (10:00-21:00)
    clock.now = datetime(2026, 10, 10, 1, 30, tzinfo=UTC)
    queue.release(london, "amy")
    assert queue.next_case("bob") is None  # London is 02:30 at night
    clock.advance(minutes=30)
    assert queue.next_case("bob").id == taipei


def test_appointments_come_first_hard_at_their_time_soft_in_the_window(store: Store) -> None:
    fresh = resp.add(store, {})
    hard = resp.add(store, {})
    soft = resp.add(store, {})
    clock = Clock()
    queue = CallQueue(store, CallSettings(soft_window_minutes=30), clock=clock)
    queue.book(hard, "2026-10-06 14:00", hard=True)
    queue.book(soft, "2026-10-06 14:00")
    # 13:29: neither is due; the booked cases are not dialled as retries meanwhile
    clock.now = datetime(2026, 10, 6, 5, 29, tzinfo=UTC)
    case = queue.next_case("amy")
    assert case.id == fresh
    queue.record_call(fresh, "refusal", interviewer="amy")
    assert queue.next_case("amy") is None
    # 13:30: the soft one is inside its window; the hard one waits for 14:00
    clock.advance(minutes=1)
    case = queue.next_case("amy")
    assert (case.id, case.why, case.appointment) == (soft, "appointment (soft)", "2026-10-06T14:00")
    assert queue.next_case("bob") is None
    clock.advance(minutes=30)
    case = queue.next_case("bob")
    assert (case.id, case.why) == (hard, "appointment (hard)")
    # keeping the appointment uses it up: the case is an ordinary retry again
    queue.record_call(hard, "no_answer", interviewer="bob")
    assert resp.get(store, hard).status == "contacted"
    assert store.query("SELECT appointment_due FROM respondents WHERE id = ?", (hard,))[0][0] == ""


def test_an_appointment_booked_in_the_respondents_section_is_held_back_until_due(store: Store) -> None:
    rid = resp.add(store, {})
    resp.make_appointment(store, rid, "2026-10-06 14:00")  # the Respondents screen's `a`, local time
    clock = Clock()
    queue = CallQueue(store, clock=clock)
    assert queue.next_case("amy") is None  # 10:00: not a retry, it waits for its time
    clock.now = datetime(2026, 10, 6, 5, 30, tzinfo=UTC)  # 13:30, within the default soft window
    assert queue.next_case("amy").why == "appointment (soft)"


def test_a_hard_appointment_outranks_an_earlier_soft_one(store: Store) -> None:
    soft = resp.add(store, {})
    hard = resp.add(store, {})
    clock = Clock()
    queue = CallQueue(store, clock=clock)
    queue.book(soft, "2026-10-06 11:00")
    queue.book(hard, "2026-10-06 11:30", hard=True)
    clock.now = datetime(2026, 10, 6, 3, 40, tzinfo=UTC)  # 11:40: both due
    assert queue.next_case("amy").id == hard
    assert queue.next_case("bob").id == soft


def test_assigned_cases_go_only_to_their_interviewer(store: Store) -> None:
    amys = resp.add(store, {}, interviewer="amy")
    anyone = resp.add(store, {})
    clock = Clock()
    queue = CallQueue(store, clock=clock)
    assert queue.next_case("bob").id == anyone
    assert queue.next_case("cho") is None  # amy's case is not handed to others
    assert queue.next_case("amy").id == amys
    # booking a callback assigns the case to whoever booked it, so the appointment comes back to them
    queue.record_call(anyone, "callback", interviewer="bob", callback="2026-10-06 15:00")
    clock.now = datetime(2026, 10, 6, 7, 0, tzinfo=UTC)  # 15:00
    assert queue.next_case("cho") is None
    assert queue.next_case("bob").id == anyone


def test_priority_then_fewest_attempts(store: Store) -> None:
    low = resp.add(store, {})
    high = resp.add(store, {})
    with store.transaction() as conn:
        conn.execute("UPDATE respondents SET priority = 5 WHERE id = ?", (high,))
    queue = CallQueue(store, clock=Clock())
    assert queue.next_case("amy").id == high
    assert queue.next_case("bob").id == low


def test_a_lease_holds_until_the_call_ends_or_it_expires(store: Store) -> None:
    rid = resp.add(store, {})
    clock = Clock()
    queue = CallQueue(store, CallSettings(lease_minutes=10), clock=clock)
    assert queue.next_case("amy").id == rid
    assert queue.next_case("amy").why == "lease"  # asking again gives the same case
    assert queue.next_case("bob") is None
    with pytest.raises(CallError, match="being called by amy"):
        queue.record_call(rid, "busy", interviewer="bob")
    clock.advance(minutes=10)
    assert queue.next_case("bob").id == rid  # amy's lease expired
    queue.record_call(rid, "callback", interviewer="bob", callback="2026-10-07 19:30")
    assert store.query("SELECT lease_holder FROM respondents WHERE id = ?", (rid,))[0][0] is None


def test_a_lease_is_renewed_for_an_interview(store: Store) -> None:
    rid = resp.add(store, {})
    clock = Clock()
    queue = CallQueue(store, CallSettings(lease_minutes=10), clock=clock)
    queue.next_case("amy")
    assert not queue.renew(rid, "bob", 240)  # only the holder renews
    assert queue.renew(rid, "amy", 240)
    clock.advance(minutes=200)
    assert queue.next_case("bob") is None  # still amy's while the interview runs
    clock.advance(minutes=41)
    assert queue.next_case("bob").id == rid
    assert not queue.renew(rid, "amy")  # her lease ran out and went to bob


def test_cases_in_full_quota_cells_are_skipped(store: Store) -> None:
    from tests.respondents.test_respondents import GENDER_AGE

    # GENDER_AGE: default target 1. A completed field interview of a young man fills 'M × young'.
    version = store.publish_instrument("q", "id: q")
    done = resp.add(store, {"gender": 1, "age": 20})
    row = store.start_interview(version.id, "field", "amy", done)
    store.finish_interview(row.id, "completed", "complete")
    young_man = resp.add(store, {"gender": 1, "age": 25})
    old_woman = resp.add(store, {"gender": 2, "age": 50})
    queue = CallQueue(store, quotas=[GENDER_AGE], clock=Clock())
    with store.transaction() as conn:
        conn.execute("UPDATE respondents SET call_state = 'closed' WHERE id = ?", (done,))
    assert queue.next_case("amy").id == old_woman
    assert queue.next_case("bob") is None
    assert resp.get(store, young_man).status == "new"


@pytest.mark.parametrize(
    ("outcome", "callback", "message"),
    [
        ("hang_up", None, "unknown call outcome 'hang_up'"),
        ("callback", "2026-10-06 09:00", "is in the past"),
        ("callback", "2026-10-06 23:15", "outside calling hours"),
        ("callback", "2026-10-11 08:00", "outside calling hours"),
        ("callback", "tomorrow evening", "must be a date and time like"),
    ],
)
def test_bad_input_gets_a_clear_message_and_the_case_is_unchanged(
    store: Store, outcome: str, callback: str | None, message: str
) -> None:
    rid = resp.add(store, {})
    queue = CallQueue(store, clock=Clock())
    queue.next_case("amy")
    before = _snapshot(store, rid)
    with pytest.raises(CallError, match=message):
        queue.record_call(rid, outcome, interviewer="amy", callback=callback)
    if callback is not None:  # booking the same time directly is refused the same way
        with pytest.raises(CallError, match=message):
            queue.book(rid, callback, interviewer="amy")
    assert _snapshot(store, rid) == before


def test_twenty_concurrent_workers_never_get_the_same_case(tmp_path: Path) -> None:
    race_twenty_workers(lambda: Store(tmp_path / "survey.db"))


def test_twenty_concurrent_processes_never_get_the_same_case(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "survey.db"
    with Store(path) as store, store.transaction():
        for _ in range(100):
            resp.add(store, {})
    script = (
        "import sys; from datetime import datetime, UTC; from pathlib import Path\n"
        "from survey_tui.core.store.sqlite import Store\n"
        "from survey_tui.core.fieldwork.call_queue import CallQueue\n"
        "with Store(Path(sys.argv[1])) as s:\n"
        "    q = CallQueue(s, clock=lambda: datetime(2026, 10, 6, 2, 0, tzinfo=UTC))\n"
        "    for _ in range(4):\n"
        "        c = q.next_case(sys.argv[2])\n"
        "        if c is None: break\n"
        "        print(c.id, flush=True)\n"
        "        q.record_call(c.id, 'refusal', interviewer=sys.argv[2])\n"
    )
    root = str(Path(__file__).resolve().parents[2])
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(path), f"p{i}"],
            stdout=subprocess.PIPE,
            text=True,
            env={"PYTHONPATH": root, "PATH": ""},
        )
        for i in range(20)
    ]
    handed = []
    for p in procs:
        out, _ = p.communicate(timeout=300)
        assert p.returncode == 0
        handed += out.split()
    assert len(handed) == 80 and len(set(handed)) == 80
