"""Foundation benchmarks: answer commit latency, engine step latency, app start to first screen.

Run by hand:  python benchmarks/bench_foundation.py [--answers 3000]
Prints each figure, its target from the foundation issue, and a ratio against a named baseline:
- commit: `Store.save_answer` (upsert + audit row, synchronous=FULL) vs a bare sqlite3 INSERT + COMMIT
  with the same pragmas on the same disk ("bare sqlite");
- engine step: answer -> next question on the 200-question benchmark instrument, without a store
  (pure engine) and with the store (one durable transaction per step);
- app start: SurveyApp constructed -> home dashboard filled with the study's counts (headless).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.synthetic_instrument import make_instrument_yaml, scripted_answer  # noqa: E402
from survey_tui.core.instrument.loader import load_instrument_text  # noqa: E402
from survey_tui.core.interview.engine import InterviewEngine, StoreRecorder  # noqa: E402
from survey_tui.core.store.sqlite import Store  # noqa: E402


def machine() -> str:
    return (
        f"{platform.machine()} {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def bench_commit(folder: Path, n: int) -> tuple[list[float], list[float]]:
    store = Store(folder / "survey.db")
    version = store.publish_instrument("bench", "x")
    row = store.start_interview(version.id)
    ours = []
    for i in range(n):
        start = time.perf_counter()
        store.save_answer(row.id, f"q{i % 200}", i, None)
        ours.append(time.perf_counter() - start)
    store.close()

    conn = sqlite3.connect(folder / "bare.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE a (k TEXT PRIMARY KEY, v TEXT)")
    bare = []
    for i in range(n):
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT OR REPLACE INTO a VALUES (?, ?)", (f"q{i % 200}", str(i)))
        conn.execute("COMMIT")
        bare.append(time.perf_counter() - start)
    conn.close()
    return ours, bare


def bench_engine(folder: Path, with_store: bool) -> list[float]:
    instrument, problems = load_instrument_text(make_instrument_yaml(200), "bench.yaml")
    assert instrument is not None, problems
    recorder = None
    if with_store:
        store = Store(folder / f"engine-{time.monotonic_ns()}.db")
        version = store.publish_instrument("bench", "x")
        row = store.start_interview(version.id)
        recorder = StoreRecorder(store, row.id)
    engine = InterviewEngine(instrument, recorder, seed="bench")
    steps = []
    while engine.current is not None:
        q = engine.current
        index = int(q.name[1:])
        raw = scripted_answer(q.type, index)
        start = time.perf_counter()
        result = engine.submit(raw)
        steps.append(time.perf_counter() - start)
        assert result.accepted, (q.name, raw, result.rejection)
    return steps


def bench_app_start(folder: Path) -> float:
    from survey_tui.demo.build import build_demo
    from survey_tui.tui.app import SurveyApp

    study = build_demo(folder / "demo", interviews=300, seed=1)

    async def run() -> float:
        app = SurveyApp(study)
        app.animation_level = "none"
        start = time.perf_counter()
        async with app.run_test(size=(120, 40)) as pilot:
            while not hasattr(app.screen, "summary"):
                await pilot.pause(0.005)
            return time.perf_counter() - start

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--answers", type=int, default=3000)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ours, bare = bench_commit(folder, args.answers)
        med, p99 = statistics.median(ours) * 1000, percentile(ours, 99) * 1000
        bmed, bp99 = statistics.median(bare) * 1000, percentile(bare, 99) * 1000
        print(
            f"answer commit (synchronous=FULL, n={args.answers}): median {med:.3f} ms, p99 {p99:.3f} ms "
            f"[target p99 <= 2 ms: {'ok' if p99 <= 2 else 'MISSED'}]"
        )
        print(
            f"  baseline bare sqlite INSERT+COMMIT: median {bmed:.3f} ms, p99 {bp99:.3f} ms; "
            f"ratio ours/bare median {med / bmed:.2f}x, p99 {p99 / bp99:.2f}x"
        )
        pure = bench_engine(folder, with_store=False)
        stored = bench_engine(folder, with_store=True)
        pm, sm = statistics.median(pure) * 1000, statistics.median(stored) * 1000
        print(
            f"engine step, 200-question instrument ({len(pure)} steps): median {pm:.3f} ms, "
            f"p99 {percentile(pure, 99) * 1000:.3f} ms [target median <= 5 ms: {'ok' if pm <= 5 else 'MISSED'}]"
        )
        print(
            f"  with the store (one durable transaction per step): median {sm:.3f} ms, "
            f"p99 {percentile(stored, 99) * 1000:.3f} ms; ratio stored/pure {sm / pm:.1f}x"
        )
        start = bench_app_start(folder)
        print(
            f"app start to first screen with data (300-interview demo): {start:.3f} s "
            f"[target <= 1.0 s: {'ok' if start <= 1.0 else 'MISSED'}]"
        )


if __name__ == "__main__":
    main()
