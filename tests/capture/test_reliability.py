"""Crash safety and concurrency of capture, with real processes and SIGKILL (P1.4.4).

Each kill lands at a random moment of a capturing process (between or inside answer commits); after
it, every answer the process acknowledged must be stored with its value, the database must pass
`PRAGMA integrity_check`, and the interview must resume at the first question still open.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.synthetic_instrument import make_instrument_yaml, make_loop_instrument_yaml
from survey_tui.core.interview.capture import resume_session
from survey_tui.core.interview.routing import on_path
from survey_tui.core.store.sqlite import Store
from survey_tui.core.study import Study
from tests.capture.helpers import make_study
from tests.capture_worker import scripted_value

ROOT = Path(__file__).resolve().parents[2]
WORKER = ROOT / "tests" / "capture_worker.py"
KILLS = 50

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def _spawn(study: Path, which: str, limit: int | None = None) -> subprocess.Popen[str]:
    args = [sys.executable, str(WORKER), str(study), which] + ([str(limit)] if limit else [])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _check_resumes_right(study: Study, interview_id: int, acked: list[str]) -> bool:
    """Check the interview after a kill; False when it had completed (its last ack line unread)."""
    with Store(study.db_path) as store:
        assert store.integrity_check() == "ok"
        stored = store.answers(interview_id)
        if store.interview(interview_id).status == "completed":
            assert set(acked) <= set(stored)
            return False
        session = resume_session(study, interview_id, store=store)
        instrument = session.instrument
        for name in acked:
            q = instrument.question(name)
            assert name in stored, f"acknowledged answer {name} lost"
            assert stored[name].value == scripted_value(name, q.type)
        path = [q.name for q in on_path(instrument, session.engine.scope) if q.type != "calculate"]
        first_open = next((n for n in path if n not in stored), None)
        current = session.engine.current.name if session.engine.current else None
        assert current == first_open, (current, first_open)
        store.suspend_interview(interview_id)
        return True


def test_sigkill_at_random_points_loses_no_acknowledged_answer(tmp_path: Path) -> None:
    _kill_at_random(make_study(tmp_path / "s", consent=False, instrument=make_instrument_yaml(40)), KILLS, 20261124)


def test_sigkill_mid_loop_loses_no_acknowledged_answer_of_any_iteration(tmp_path: Path) -> None:
    """A loop over the brands chosen: every iteration is its own question, stored and resumed like one."""
    study = make_study(tmp_path / "s", consent=False, instrument=make_loop_instrument_yaml(10, 8, over=True))
    acked = _kill_at_random(study, KILLS // 2, 20261201)
    iterations = {name for names in acked.values() for name in names if "_" in name}
    assert len({name.split("_")[1] for name in iterations}) == 2  # both chosen brands' iterations were hit
    assert len(iterations) >= 10


def _kill_at_random(study: Study, kills_wanted: int, seed: int) -> dict[int, list[str]]:
    rng = random.Random(seed)
    interview: int | None = None
    acked: dict[int, list[str]] = {}
    kills = 0
    while kills < kills_wanted:
        proc = _spawn(study.root, "new" if interview is None else str(interview))
        assert proc.stdout is not None
        first = proc.stdout.readline().split()
        assert first and first[0] == "started", proc.stderr.read() if proc.stderr else ""
        interview = int(first[1])
        acked.setdefault(interview, [])
        wait_for = rng.randint(0, 4)
        finished = False
        for _ in range(wait_for):
            line = proc.stdout.readline().split()
            if not line:
                break
            if line[0] == "ack":
                acked[interview].append(line[1])
            elif line[0] == "done":
                finished = True
                break
        if not finished:
            time.sleep(rng.random() * 0.004)  # land inside or between commits, at random
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        for line in out.splitlines():  # acks written before the kill landed also count
            parts = line.split()
            if parts and parts[0] == "ack":
                acked[interview].append(parts[1])
        kills += 1
        if not _check_resumes_right(study, interview, acked[interview]):
            interview = None
    assert sum(len(v) for v in acked.values()) >= kills_wanted  # the kills really interrupted captures
    return acked


def test_two_processes_capture_at_once_without_losing_answers(tmp_path: Path) -> None:
    study = make_study(tmp_path / "s", consent=False, instrument=make_instrument_yaml(40))
    procs = [_spawn(study.root, "new") for _ in range(3)]
    results = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert "locked" not in err
        assert out.strip().splitlines()[-1] == "done complete"
    with Store(study.db_path) as store:
        assert store.integrity_check() == "ok"
        for out, _ in results:
            interview = int(out.split()[1])
            acked = [line.split()[1] for line in out.splitlines() if line.startswith("ack ")]
            assert len(acked) == 40
            assert set(store.answers(interview)) >= set(acked)
            assert store.interview(interview).outcome == "complete"
