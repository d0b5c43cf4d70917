"""A tracker-sized study in seconds: the demo study, its completed field interviews copied in bulk.

Driving 100,000 interviews through the engine would take hours; the store is written here in a few SQL
statements instead (``INSERT ... SELECT`` over a map of new ids to the demo's interviews), so every copy
is an interview the real engine once stored: the same answers, events, quality decisions and open-end
codes, with its own id and uuid. Quality flags and exclusions therefore grow in proportion, as in a
real wave.

    python benchmarks/scale_study.py DIR --completes 100000
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from survey_tui.core.study import Study, open_study  # noqa: E402
from survey_tui.demo.build import build_demo  # noqa: E402

BASE_INTERVIEWS = 300


def make_scale_study(target: Path, completes: int, seed: int = 20261124) -> Study:
    """A demo study with exactly `completes` completed field interviews (plus the demo's others)."""
    build_base(target, seed)
    return add_completes(target, completes, seed)


def build_base(target: Path, seed: int = 20261124) -> None:
    """The demo study the copies are made from (copy its folder to make several sizes from one)."""
    build_demo(target, interviews=BASE_INTERVIEWS, seed=seed)


def add_completes(target: Path, completes: int, seed: int = 20261124) -> Study:
    """Copies of the study's completed field interviews until there are exactly `completes` of them."""
    study = open_study(target)
    conn = sqlite3.connect(study.db_path)
    try:
        base = [
            r[0]
            for r in conn.execute("SELECT id FROM interviews WHERE mode = 'field' AND outcome = 'complete' ORDER BY id")
        ]
        copies = completes - len(base)
        if copies < 0:
            raise ValueError(f"the demo already has {len(base)} completes; ask for more")
        first = conn.execute("SELECT MAX(id) FROM interviews").fetchone()[0] + 1
        rng = random.Random(seed)
        with conn:
            conn.execute("CREATE TEMP TABLE copy_map (new_id INTEGER PRIMARY KEY, base_id INTEGER NOT NULL)")
            conn.executemany(
                "INSERT INTO copy_map VALUES (?, ?)", ((first + i, rng.choice(base)) for i in range(copies))
            )
            conn.execute(
                "INSERT INTO interviews (id, uuid, instrument_version_id, respondent_id, mode, interviewer, device,"
                " language, status, outcome, started_at, ended_at, current_question, path)"
                " SELECT m.new_id, b.uuid || '-' || m.new_id, b.instrument_version_id, NULL, b.mode, b.interviewer,"
                " b.device, b.language, b.status, b.outcome, b.started_at, b.ended_at, b.current_question, b.path"
                " FROM copy_map m JOIN interviews b ON b.id = m.base_id ORDER BY m.new_id"
            )
            conn.execute(
                "INSERT INTO answers (interview_id, question, value, special, answered_at)"
                " SELECT m.new_id, a.question, a.value, a.special, a.answered_at"
                " FROM copy_map m JOIN answers a ON a.interview_id = m.base_id ORDER BY m.new_id, a.question"
            )
            conn.execute(
                "INSERT INTO interview_events (interview_id, at, kind, question, detail)"
                " SELECT m.new_id, e.at, e.kind, e.question, e.detail"
                " FROM copy_map m JOIN interview_events e ON e.interview_id = m.base_id ORDER BY m.new_id, e.id"
            )
            conn.execute(
                "INSERT INTO quality_decisions (interview_id, decision, reason, flags, at, actor)"
                " SELECT m.new_id, q.decision, q.reason, q.flags, q.at, q.actor"
                " FROM copy_map m JOIN quality_decisions q ON q.interview_id = m.base_id ORDER BY m.new_id, q.id"
            )
            conn.execute(
                "INSERT INTO open_end_codes (interview_id, question, codes, coder, coded_at)"
                " SELECT m.new_id, o.question, o.codes, o.coder, o.coded_at"
                " FROM copy_map m JOIN open_end_codes o ON o.interview_id = m.base_id ORDER BY m.new_id"
            )
    finally:
        conn.close()
    return study


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dir", type=Path)
    parser.add_argument("--completes", type=int, default=100_000)
    args = parser.parse_args()
    start = time.perf_counter()
    make_scale_study(args.dir, args.completes)
    print(f"{args.completes} completed interviews in {time.perf_counter() - start:.1f} s -> {args.dir}")


if __name__ == "__main__":
    main()
