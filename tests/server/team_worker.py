"""One interviewer's process for the many-writers tests: take the next respondent, answer, complete, repeat.

Usage: python tests/server/team_worker.py STUDY_DIR NAME SECONDS [--go] [--walk-ins] [--end-pause=S]
    [--no-count-at-complete]

Prints `started ID RESPONDENT` for each interview handed out (`-` for a walk-in), `ack ID QUESTION` once each
answer's transaction has committed (the moment the form would move on), `done ID OUTCOME`, `gone` whenever the
server is unreachable (the answer is kept and given again, as the form keeps what was typed), and `empty`
when no respondent is left. The study's server comes from SURVEY_TUI_DATABASE_URL.

--go: print `ready` once connected and wait for a line on stdin before the SECONDS start (so every worker
captures during the same window). --end-pause=S: wait S seconds on the end screen before completing (`done ID
quota_full at-complete` says the complete was turned away there). --walk-ins: once no respondent is waiting,
keep capturing walk-in interviews until the time is up. --no-count-at-complete: the control experiment, with
the quota count inside the completing transaction switched off (only the check after each answer is left).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from survey_tui.core.interview.capture import CaptureError, start_session  # noqa: E402
from survey_tui.core.store.base import StoreError  # noqa: E402
from survey_tui.core.study import open_study  # noqa: E402
from tests.capture_worker import scripted_value  # noqa: E402


def patiently(step: Callable[[], Any], deadline: float) -> Any:
    """Run `step` until it is stored: while the server is gone, say so and try again (nothing is lost)."""
    while True:
        try:
            return step()
        except StoreError as exc:
            if time.monotonic() > deadline + 60:
                raise
            print(f"gone {str(exc).split(': ', 1)[-1][:60]!r}", flush=True)  # the words after the URL
            time.sleep(0.2)


def main(argv: list[str]) -> int:
    flags = {a.split("=")[0]: a.partition("=")[2] for a in argv if a.startswith("--")}
    argv = [a for a in argv if not a.startswith("--")]
    end_pause = float(flags.get("--end-pause") or 0)
    study = open_study(Path(argv[0]))
    name, seconds = argv[1], float(argv[2])
    deadline = time.monotonic() + seconds
    store = patiently(study.store, deadline)
    if "--go" in flags:
        print("ready", flush=True)
        sys.stdin.readline()
        deadline = time.monotonic() + seconds
    walk_ins = False
    while time.monotonic() < deadline:
        try:
            session = patiently(
                lambda pool=not walk_ins: start_session(study, interviewer=name, store=store, next_respondent=pool),
                deadline,
            )
        except CaptureError as exc:
            if "no respondent is waiting" in str(exc):
                print("empty", flush=True)
                if "--walk-ins" in flags:
                    walk_ins = True
                    continue
                break
            raise
        if "--no-count-at-complete" in flags:
            session.engine.recorder.quota = None  # type: ignore[attr-defined]
        engine = session.engine
        print(f"started {session.interview_id} {session.interview.respondent_id or '-'}", flush=True)
        while engine.current is not None and not engine.finished:
            q = engine.current
            result = patiently(lambda q=q, e=engine: e.submit(scripted_value(q.name, q.type)), deadline)
            if not result.accepted:
                print(f"refused {q.name} {result.rejection}", flush=True)
                return 3
            print(f"ack {session.interview_id} {q.name}", flush=True)
        at_complete = ""
        if not engine.finished:
            time.sleep(end_pause)  # a moment on the end screen before Enter records the complete
            patiently(session.complete, deadline)
            if engine.outcome == "quota_full":  # the cell filled after this interview's last answer
                at_complete = " at-complete"
        print(f"done {session.interview_id} {engine.outcome}{at_complete}", flush=True)
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
