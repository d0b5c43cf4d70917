"""Benchmark: "next case" p99 with 100,000 cases and 20 interviewers asking at once (target <= 20 ms).

Run by hand:  PYTHONPATH=. python benchmarks/bench_call_queue.py [--cases N] [--workers W] [--rounds R]

A study store gets N cases the way a telephone study looks mid-fieldwork: most fresh, a quarter retried
(1-5 attempts, some still waiting out their redial delay), a few closed, 2 % with appointments (due and
later), a tenth assigned to one interviewer, priorities 0-2, and every index of the live schema. Then W
threads, each with its own connection (as separate interviewers' processes would be), run R rounds: all W
ask for the next case at the same moment (a barrier releases them together; `CallQueue.next_case`, timed),
then each records its call's outcome (`record_call`, timed separately: a durable commit) before the next
round. The clock is fixed at a Tuesday 10:00 in Taipei, inside calling hours.

The baseline, in the same run and the same pattern, is the bare lease on its own copy of the store: one
`SELECT id ... ORDER BY priority DESC, attempts, next_call_at, id LIMIT 1` plus the conditional `UPDATE` in
BEGIN IMMEDIATE with SQLite's own locking, then a bare release: what any lease costs on SQLite before the
queue's rules (appointments first, calling hours by time zone, quota cells, assignment, redial delays,
maximum attempts). It is run before and after the queue, as the machine's load may move.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from survey_tui.core.fieldwork.call_queue import CallQueue, stamp
from survey_tui.core.fieldwork.respondents import new_ids
from survey_tui.core.store.sqlite import Store

NOW = datetime(2026, 10, 6, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Taipei
OUTCOMES = ("no_answer", "no_answer", "busy", "answering_machine", "refusal", "callback")


def build(path: Path, cases: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    ids = new_ids(cases)
    attempts = np.where(rng.random(cases) < 0.25, rng.integers(1, 6, cases), 0)
    waiting = (attempts > 0) & (rng.random(cases) < 0.3)
    closed = rng.random(cases) < 0.05
    booked = rng.random(cases) < 0.02
    due_now = rng.random(cases) < 0.5
    assigned = rng.random(cases) < 0.1
    priority = rng.choice([0, 0, 0, 1, 2], cases)
    created = stamp(NOW - timedelta(days=3))
    rows = []
    for i, rid in enumerate(ids):
        next_call = stamp(NOW + timedelta(minutes=int(rng.integers(5, 120)))) if waiting[i] else ""
        if attempts[i] and not waiting[i]:
            next_call = stamp(NOW - timedelta(minutes=int(rng.integers(5, 600))))
        appointment = ""
        if booked[i]:
            appointment = stamp(NOW + (timedelta(minutes=-30) if due_now[i] else timedelta(hours=5)))
        rows.append(
            (
                rid,
                created,
                f'{{"gender": {1 + i % 2}, "age": {15 + i % 50}}}',
                "appointment" if booked[i] else ("contacted" if attempts[i] else "new"),
                f"iv{i % 20:02d}" if assigned[i] else None,
                int(attempts[i]),
                "closed" if closed[i] else "open",
                next_call,
                int(priority[i]),
                appointment,
                ("hard" if i % 3 == 0 else "soft") if booked[i] else None,
            )
        )
    with Store(path) as store, store.transaction() as conn:
        conn.executemany(
            "INSERT INTO respondents (id, created_at, attributes, status, interviewer, attempts, call_state,"
            " next_call_at, priority, appointment_due, appointment_kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    with Store(path) as store:
        store.query("ANALYZE")


def run_queue(path: Path, workers: int, rounds: int) -> tuple[list[float], list[float], set[str], int]:
    asks: list[float] = []
    ends: list[float] = []
    handed: list[str] = []
    guard = threading.Lock()
    start = threading.Barrier(workers)

    def worker(index: int) -> None:
        name = f"iv{index:02d}"
        rng = np.random.default_rng(index)
        mine_ask, mine_end, mine = [], [], []
        with Store(path) as store:
            queue = CallQueue(store, clock=lambda: NOW)
            for _ in range(rounds):
                start.wait()  # all ask at once
                t0 = time.perf_counter()
                case = queue.next_case(name)
                mine_ask.append(time.perf_counter() - t0)
                start.wait()  # everyone has a case before the calls are recorded
                if case is None:
                    continue
                mine.append(case.id)
                outcome = str(rng.choice(OUTCOMES))
                callback = "2026-10-07 19:30" if outcome == "callback" else None
                t1 = time.perf_counter()
                queue.record_call(case.id, outcome, interviewer=name, callback=callback)
                mine_end.append(time.perf_counter() - t1)
        with guard:
            asks.extend(mine_ask)
            ends.extend(mine_end)
            handed.extend(mine)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return asks, ends, set(handed), len(handed)


def run_bare(path: Path, workers: int, rounds: int, queued: bool) -> list[float]:
    """The bare lease and release, same threads and pattern; `queued`: behind the same in-process lock and
    fsync-free commit as the queue's leases (else SQLite's own locking and a durable commit)."""
    from survey_tui.core.fieldwork.call_queue import _lease_transaction

    asks: list[float] = []
    guard = threading.Lock()
    start = threading.Barrier(workers)
    now = stamp(NOW)
    until = stamp(NOW + timedelta(minutes=30))

    def worker(index: int) -> None:
        name = f"bare{index:02d}"
        mine = []
        with Store(path) as store:
            for _ in range(rounds):
                start.wait()
                t0 = time.perf_counter()
                with _lease_transaction(store) if queued else store.transaction() as conn:
                    row = conn.execute(
                        "SELECT id FROM respondents WHERE call_state = 'open' AND lease_until <= ?"
                        " ORDER BY priority DESC, attempts, next_call_at, id LIMIT 1",
                        (now,),
                    ).fetchone()
                    if row is not None:
                        conn.execute(
                            "UPDATE respondents SET lease_holder = ?, lease_until = ?"
                            " WHERE id = ? AND lease_until <= ?",
                            (name, until, row[0], now),
                        )
                mine.append(time.perf_counter() - t0)
                start.wait()
                if row is not None:
                    with store.transaction() as conn:
                        conn.execute(
                            "UPDATE respondents SET call_state = 'closed', lease_holder = NULL, lease_until = ''"
                            " WHERE id = ?",
                            (row[0],),
                        )
        with guard:
            asks.extend(mine)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return asks


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values) * 1000, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        queue_db, bare_db = Path(tmp) / "queue.db", Path(tmp) / "bare.db"
        t0 = time.perf_counter()
        build(queue_db, args.cases)
        build(bare_db, args.cases)
        print(f"built 2 x {args.cases:,} cases in {time.perf_counter() - t0:.1f} s")
        plain = run_bare(bare_db, args.workers, args.rounds, queued=False)
        bare = run_bare(bare_db, args.workers, args.rounds, queued=True)
        asks, ends, distinct, handed = run_queue(queue_db, args.workers, args.rounds)
        bare2 = run_bare(bare_db, args.workers, args.rounds, queued=True)  # again: the machine's load may move
    bare_all = bare + bare2
    print(f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores")
    print(f"cases handed out: {handed}, distinct: {len(distinct)} (a case given twice would show here)")
    print(
        f"next case ({len(asks)} asks, {args.workers} at once): median {pct(asks, 50):.2f} ms,"
        f" p95 {pct(asks, 95):.2f} ms, p99 {pct(asks, 99):.2f} ms (target <= 20 ms)"
    )
    print(f"record call: median {pct(ends, 50):.2f} ms, p99 {pct(ends, 99):.2f} ms")
    print(
        f"bare lease, same lock and commit ({len(bare_all)} asks): median {pct(bare_all, 50):.2f} ms,"
        f" p99 {pct(bare_all, 99):.2f} ms; next case / bare at p99: {pct(asks, 99) / pct(bare_all, 99):.2f}x,"
        f" at the median: {statistics.median(asks) / statistics.median(bare_all):.2f}x"
    )
    print(
        f"bare lease with SQLite's own locking and a durable commit ({len(plain)} asks): median"
        f" {pct(plain, 50):.2f} ms, p99 {pct(plain, 99):.2f} ms"
    )
    if handed != len(distinct):
        raise SystemExit("a case was handed to two interviewers")


if __name__ == "__main__":
    main()
