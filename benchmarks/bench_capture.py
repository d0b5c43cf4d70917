"""Capture speed: keystroke -> next question rendered (Pilot), and answer commit latency (synchronous=FULL).

Run: PYTHONPATH=. python benchmarks/bench_capture.py [N_QUESTIONS]
Targets (issue T1.4): keystroke->render median <= 30 ms; answer commit p99 <= 2 ms. Baseline for the
ratios is the target itself (ratio < 1 is within target).

Keystroke latency is timed inside the app: from just before Pilot posts the key to the moment the screen
has been painted with the next question (`call_after_refresh` after the form redraws). Pilot's own
press-and-wait-for-idle round trip is printed beside it; it includes the test harness's idle waiting
(about 85 ms here even for a key the form ignores), which no interviewer experiences.
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

from benchmarks.synthetic_instrument import make_instrument_yaml, scripted_answer  # noqa: E402
from survey_tui.core.interview.capture import start_session  # noqa: E402
from survey_tui.core.study import init_study, open_study  # noqa: E402


def make_study(root: Path, n: int, text: str | None = None):  # type: ignore[no-untyped-def]
    """A published study of the synthetic instrument with `n` questions (or the instrument `text`)."""
    init_study(root, "bench", "", ["zh-TW", "en"])
    (root / "instruments" / "synthetic.yaml").write_text(text or make_instrument_yaml(n), encoding="utf-8")
    study = open_study(root)
    study.publish(study.load_instrument().id)
    return study


def script_index(name: str) -> int:
    """The scripted answer's index: q017 -> 17, a loop iteration q017_4 -> 174 (as the capture worker does)."""
    return int(name[1:].replace("_", ""))


def keys_for(kind: str, index: int) -> tuple[list[str], str | None]:
    """(keys before the measured one, the measured text to paste or None); the last key is measured."""
    value = scripted_answer(kind, index)
    if kind == "single":
        return [str(value)], None
    if kind == "multi":
        keys = [k for code in value for k in str(code)]  # a digit ticks its code: one key per code
        return [*keys, "enter"], None
    if kind == "scale":  # 0-10 plus the special codes 98/99: Enter only when the digits are ambiguous (1 vs 10)
        codes = [*range(11), 98, 99]
        ambiguous = any(str(c).startswith(str(value)) and c != value for c in codes)
        return [*str(value), *(["enter"] if ambiguous else [])], None
    if kind == "grid":
        return [str(v) for v in value.values()], None
    return ["enter"], str(value)


async def keystroke_bench(study, n: int) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    from textual.widgets import Input, Static

    from survey_tui.tui.interview_app import InterviewApp
    from survey_tui.tui.screens.interview import InterviewScreen

    session = start_session(study, interviewer="bench")
    app = InterviewApp(study, session=session, once=True)
    app.animation_level = "none"
    timings: list[float] = []
    in_app: list[float] = []  # key posted -> the next question painted on screen, timed inside the app
    painted: list[float] = []
    show = InterviewScreen.show

    def show_and_mark(self, message: str = "") -> None:  # type: ignore[no-untyped-def]
        show(self, message)
        self.call_after_refresh(lambda: painted.append(time.perf_counter()))

    InterviewScreen.show = show_and_mark  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        idle: list[float] = []
        for _ in range(30):  # the Pilot harness's own cost: a key the form ignores on a text question
            start = time.perf_counter()
            await pilot.press("f24")
            await pilot.pause()
            idle.append((time.perf_counter() - start) * 1000)
        timings.append(statistics.median(idle))
        while session.engine.current is not None:
            q = session.engine.current
            index = script_index(q.name)
            keys, text = keys_for(q.type, index)
            if text is not None:
                app.screen.query_one("#iv-input", Input).value = text
            if q.type == "grid":
                await pilot.press(*keys[:-1])
                keys = keys[-1:] + ["enter"]
                await pilot.press(keys[0])
                keys = keys[1:]
            if len(keys) > 1:
                await pilot.press(*keys[:-1])
            before = q.name
            painted.clear()
            start = time.perf_counter()
            await pilot.press(keys[-1])
            await pilot.pause()
            timings.append((time.perf_counter() - start) * 1000)
            for _ in range(200):  # the paint can land after Pilot's idle wait returns
                if painted:
                    break
                await asyncio.sleep(0.005)
            if not painted:
                print("no paint for", q.name, q.type, keys)
                continue
            in_app.append((painted[0] - start) * 1000)
            label = str(app.screen.query_one("#iv-label", Static).render())
            assert session.engine.current is None or session.engine.current.name != before, label
    return timings, in_app


def commit_bench(study, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    session = start_session(study, interviewer="bench")
    timings: list[float] = []
    with session.store.transaction():
        pass
    for index in range(n):
        start = time.perf_counter()
        session.store.save_answer(session.interview_id, f"bench_{index}", index, None, "bench")
        timings.append((time.perf_counter() - start) * 1000)
    engine_steps: list[float] = []
    while session.engine.current is not None:
        q = session.engine.current
        start = time.perf_counter()
        session.engine.submit(scripted_answer(q.type, script_index(q.name)))
        engine_steps.append((time.perf_counter() - start) * 1000)
    session.close()
    print(f"engine.submit (validate+route+commit) median {statistics.median(engine_steps):.2f} ms")
    return timings


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        study = make_study(Path(tmp) / "bench", n)
        keys, in_app = asyncio.run(keystroke_bench(study, n))
        harness, keys = keys[0], keys[1:]
        median = statistics.median(in_app)
        print(
            f"keystroke -> next question painted, timed in the app ({len(in_app)} questions): median {median:.1f} ms,"
            f" p95 {pct(in_app, 95):.1f} ms  (target 30 ms, ratio {median / 30:.2f})"
        )
        print(
            f"  as Pilot sees it (press + wait until idle): median {statistics.median(keys):.1f} ms; "
            f"the harness alone on a key the form ignores: {harness:.1f} ms"
        )
        commits = commit_bench(study, 1000)
        p99 = pct(commits, 99)
        print(
            f"answer commit, synchronous=FULL ({len(commits)} commits): median {statistics.median(commits):.2f} ms,"
            f" p99 {p99:.2f} ms  (target 2 ms, ratio {p99 / 2:.2f})"
        )


if __name__ == "__main__":
    main()
