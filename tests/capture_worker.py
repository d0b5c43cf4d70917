"""A capturing process for the crash and concurrency tests: answers and prints an ack after each commit.

Usage: python tests/capture_worker.py STUDY_DIR (new|ID) [MAX_ANSWERS]

Prints `started ID`, then `ack QUESTION` once each answer's transaction has committed (the moment the
form would show the next question), and `done OUTCOME` at the end. The answer to each question is a
pure function of its name (`scripted_value`), so the test can check stored values without the worker.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.synthetic_instrument import scripted_answer  # noqa: E402
from survey_tui.core.interview.capture import resume_session, start_session  # noqa: E402
from survey_tui.core.study import open_study  # noqa: E402


def scripted_value(name: str, kind: str) -> object:
    """q017 -> answer 17; a loop iteration q017_4 -> answer 174 (each iteration its own value)."""
    return scripted_answer(kind, int(name[1:].replace("_", "")))


def main(argv: list[str]) -> int:
    study = open_study(Path(argv[0]))
    which = argv[1]
    limit = int(argv[2]) if len(argv) > 2 else 10**9
    if which == "new":
        session = start_session(study, interviewer=f"worker-{which}")
    else:
        session = resume_session(study, int(which))
    print(f"started {session.interview_id}", flush=True)
    engine = session.engine
    given = 0
    while engine.current is not None and given < limit:
        q = engine.current
        result = engine.submit(scripted_value(q.name, q.type))
        if not result.accepted:
            print(f"refused {q.name} {result.rejection}", flush=True)
            return 3
        given += 1
        print(f"ack {q.name}", flush=True)
    if engine.current is None:
        session.complete()
        print(f"done {session.outcome}", flush=True)
    session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
