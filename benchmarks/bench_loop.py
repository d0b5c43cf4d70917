"""Loop speed: keystroke -> next question painted inside a 30-question loop over 20 items (600 screens).

Run: PYTHONPATH=. python benchmarks/bench_loop.py [N_QUESTIONS N_ITEMS]
Target (issue 16): median <= 30 ms. Baselines in the same run: the same number of plain (unlooped)
questions of the same mix of types, so the ratio shows what looping costs; and bench_capture's
200-question instrument, which tells how loaded the machine is (the README's figure for it was taken on a
quiet machine). Each iteration is a question of its own in the engine (`q001_7`), so routing reads 600
relevance conditions per screen either way; the loop adds the "Store 7 of 20" heading.
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_capture import keystroke_bench, make_study, pct, script_index  # noqa: E402
from benchmarks.synthetic_instrument import (  # noqa: E402
    make_loop_instrument_yaml,
    scripted_answer,
)
from survey_tui.core.interview.capture import start_session  # noqa: E402


def engine_steps(study) -> list[float]:  # type: ignore[no-untyped-def]
    """engine.submit (validate + route + commit) and the next screen's view and progress, without a renderer."""
    session = start_session(study, interviewer="bench")
    steps: list[float] = []
    while session.engine.current is not None:
        q = session.engine.current
        start = time.perf_counter()
        assert session.engine.submit(scripted_answer(q.type, script_index(q.name))).accepted
        session.engine.view()
        session.engine.progress()
        steps.append((time.perf_counter() - start) * 1000)
    session.close()
    return steps


def main() -> None:
    n_questions = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    n_items = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    screens = n_questions * n_items
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        looped = make_study(Path(tmp) / "loop", 0, make_loop_instrument_yaml(n_questions, n_items))
        plain = make_study(Path(tmp) / "plain", screens + 1)
        reference = make_study(Path(tmp) / "reference", 200)
        results = {}
        for name, study in (("200", reference), ("plain", plain), ("loop", looped)):
            _, in_app = asyncio.run(keystroke_bench(study, 0))
            steps = engine_steps(study)
            results[name] = (statistics.median(in_app), pct(in_app, 95), statistics.median(steps), len(in_app))
        base = results["plain"][0]
        print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        for name, (median, p95, step, count) in results.items():
            print(
                f"{name:>5}: keystroke -> next question painted ({count} screens): median {median:.1f} ms, "
                f"p95 {p95:.1f} ms (target 30 ms, ratio {median / 30:.2f}; vs plain {median / base:.2f}); "
                f"engine step (submit + view + progress) median {step:.2f} ms"
            )


if __name__ == "__main__":
    main()
