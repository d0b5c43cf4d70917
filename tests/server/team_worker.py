"""One interviewer's process for the many-writers tests: take the next respondent, answer, complete, repeat.

Usage: python tests/server/team_worker.py STUDY_DIR NAME SECONDS

Prints `started ID RESPONDENT` for each interview handed out, `ack ID QUESTION` once each answer's
transaction has committed (the moment the form would move on), `done ID OUTCOME`, `gone` whenever the
server is unreachable (the answer is kept and given again, as the form keeps what was typed), and `empty`
when no respondent is left. The study's server comes from SURVEY_TUI_DATABASE_URL.
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
    study = open_study(Path(argv[0]))
    name, deadline = argv[1], time.monotonic() + float(argv[2])
    store = patiently(study.store, deadline)
    while time.monotonic() < deadline:
        try:
            session = patiently(
                lambda: start_session(study, interviewer=name, store=store, next_respondent=True), deadline
            )
        except CaptureError as exc:
            if "no respondent is waiting" in str(exc):
                print("empty", flush=True)
                break
            raise
        engine = session.engine
        print(f"started {session.interview_id} {session.interview.respondent_id}", flush=True)
        while engine.current is not None and not engine.finished:
            q = engine.current
            result = patiently(lambda q=q, e=engine: e.submit(scripted_value(q.name, q.type)), deadline)
            if not result.accepted:
                print(f"refused {q.name} {result.rejection}", flush=True)
                return 3
            print(f"ack {session.interview_id} {q.name}", flush=True)
        if not engine.finished:
            patiently(session.complete, deadline)
        print(f"done {session.interview_id} {engine.outcome}", flush=True)
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
