"""Sync speed: an offline laptop pushes 1,000 completed interviews to its server study.

Run: PYTHONPATH=. python benchmarks/bench_sync.py [N_INTERVIEWS] [ANSWERS_PER_INTERVIEW] [--postgresql]
With --postgresql the team study lives on a throwaway PostgreSQL server on loopback (started as in the tests,
as an unprivileged user when run as root), so the sync is timed against the team's real server; the bare copy
stays the SQLite floor below, printed beside it.
Each interview ends its respondent's lifecycle as capture does (record_outcome: status, disposition,
history), so the respondents' conflict check is timed too.
Target (issue 13): syncing 1,000 completed interviews <= 5 s. Baseline in the same run: copying the same rows
(interviews, answers, audit, paradata, respondents' lifecycle and status history) into a copy of the server
database with plain sqlite `executemany`, in one transaction, synchronous=FULL: what moving the bytes costs
with no identity checks, hashing or receipts.
Also timed: a second sync with nothing new, and a full re-send of all 1,000 (every one answered 'already').
"""

from __future__ import annotations

import os
import platform
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.synthetic_instrument import make_instrument_yaml  # noqa: E402
from survey_tui.core.fieldwork import respondents as resp  # noqa: E402
from survey_tui.core.store.sqlite import Store  # noqa: E402
from survey_tui.core.store.sync import (  # noqa: E402
    build_pushes,
    checkout,
    device_link,
    interview_states,
    open_server,
    sync_device,
)
from survey_tui.core.study import init_study, open_study  # noqa: E402


def make_server(root: Path, respondents: int) -> None:
    init_study(root, "bench", "", ["en"])
    (root / "instruments" / "synthetic.yaml").write_text(make_instrument_yaml(20), encoding="utf-8")
    study = open_study(root)
    study.publish(study.load_instrument().id)
    with study.store() as store:
        ids = [resp.add(store, {"gender": 1 + n % 2}, {"phone": f"09{n:08d}"}) for n in range(respondents)]
        resp.assign(store, ids, "amy")


def fill_device(device: Store, n: int, answers: int) -> None:
    rng = random.Random(1)
    version = device.versions()[-1].id
    rids = [r[0] for r in device.query("SELECT id FROM respondents ORDER BY id")]
    for index in range(n):
        with device.transaction():
            row = device.start_interview(version, "field", "amy", rids[index % len(rids)], "en")
            for q in range(answers):
                device.save_answer(row.id, f"q{q}", rng.randint(1, 5), None, actor="amy")
                device.log_event(row.id, "answer", f"q{q}", None)
            device.finish_interview(row.id, "completed", "complete")
            resp.record_outcome(device, rids[index % len(rids)], "complete", interviewer="amy", interview_id=row.id)


def bare_copy(device_db: Path, server_db: Path) -> float:
    """The same rows with plain executemany into a copy of the server database: the floor."""
    src = sqlite3.connect(device_db)
    dst = sqlite3.connect(server_db, isolation_level=None)
    dst.execute("PRAGMA synchronous = FULL")
    start = time.perf_counter()
    interviews = src.execute(
        "SELECT id + 1000000, uuid || '-copy', instrument_version_id, respondent_id, mode, interviewer, device,"
        " language, status, outcome, started_at, ended_at, current_question, path FROM interviews"
    ).fetchall()
    answers = src.execute(
        "SELECT interview_id + 1000000, question, value, special, answered_at FROM answers"
    ).fetchall()
    audit = src.execute(
        "SELECT interview_id + 1000000, question, action, old_value, old_special, new_value, new_special, at, actor"
        " FROM audit_log"
    ).fetchall()
    events = src.execute("SELECT interview_id + 1000000, at, kind, question, detail FROM interview_events").fetchall()
    lifecycle = src.execute("SELECT status, disposition, attempts, updated_at, id FROM respondents").fetchall()
    history = src.execute(
        "SELECT respondent_id, at, old_status, new_status, interviewer, note FROM respondent_status_history"
    ).fetchall()
    dst.execute("BEGIN IMMEDIATE")
    dst.executemany(
        f"INSERT INTO interviews (id, uuid, instrument_version_id, respondent_id, mode, interviewer, device,"
        " language, status, outcome, started_at, ended_at, current_question, path)"
        f" VALUES ({','.join('?' * 14)})",
        interviews,
    )
    dst.executemany("INSERT INTO answers VALUES (?, ?, ?, ?, ?)", answers)
    dst.executemany(
        "INSERT INTO audit_log (interview_id, question, action, old_value, old_special, new_value, new_special, at,"
        " actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        audit,
    )
    dst.executemany(
        "INSERT INTO interview_events (interview_id, at, kind, question, detail) VALUES (?, ?, ?, ?, ?)", events
    )
    dst.executemany(
        "UPDATE respondents SET status = ?, disposition = ?, attempts = ?, updated_at = ? WHERE id = ?", lifecycle
    )
    dst.executemany(
        "INSERT INTO respondent_status_history (respondent_id, at, old_status, new_status, interviewer, note)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        history,
    )
    dst.execute("COMMIT")
    elapsed = time.perf_counter() - start
    src.close()
    dst.close()
    return elapsed


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 1000
    answers = int(args[1]) if len(args) > 1 else 20
    cluster = None
    if "--postgresql" in sys.argv:
        from tests.pgserver import remove_cluster, start_cluster

        cluster, why = start_cluster()
        if cluster is None:
            sys.exit(f"no PostgreSQL server for the benchmark: {why}")
        url = cluster.create_database()
    try:
        if cluster is not None:
            os.environ["SURVEY_TUI_DATABASE_URL"] = url
        run(n, answers, "postgresql" if cluster is not None else "sqlite")
    finally:
        if cluster is not None:
            os.environ.pop("SURVEY_TUI_DATABASE_URL", None)
            remove_cluster(cluster)


def run(n: int, answers: int, backend: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_server(root / "server", 200)
        server = open_server(str(root / "server"))
        checkout(server, "amy", root / "laptop")
        server.store.close()
        baseline_server = root / "baseline-server"
        if backend == "sqlite":
            shutil.copyfile(root / "server" / "survey.db", root / "baseline.db")
        else:  # the floor is still an SQLite copy: the same study made on the embedded store
            saved = os.environ.pop("SURVEY_TUI_DATABASE_URL")
            make_server(baseline_server, 200)
            shutil.copyfile(baseline_server / "survey.db", root / "baseline.db")
            os.environ["SURVEY_TUI_DATABASE_URL"] = saved
        t0 = time.perf_counter()
        with Store(root / "laptop" / "survey.db") as device:
            fill_device(device, n, answers)
        print(f"made {n} completed interviews x {answers} answers on the laptop in {time.perf_counter() - t0:.1f} s")

        baseline = bare_copy(root / "laptop" / "survey.db", root / "baseline.db")

        with Store(root / "laptop" / "survey.db") as device:
            server = open_server(str(root / "server"))
            start = time.perf_counter()
            report = sync_device(device, server)
            first = time.perf_counter() - start
            assert report.pushed == {"stored": n}, report.pushed
            start = time.perf_counter()
            again = sync_device(device, server)
            idle = time.perf_counter() - start
            assert again.pushed == {}
            link = device_link(device)
            assert link is not None
            states = interview_states(device)
            uuids = list(states)
            start = time.perf_counter()
            results: set[str] = set()
            for at in range(0, len(uuids), 100):
                acks = server.push_interviews(link.device_id, "amy", build_pushes(device, uuids[at : at + 100], states))
                results |= {a.result for a in acks}
            resend = time.perf_counter() - start
            assert results == {"already"}
            stored = server.store.query("SELECT COUNT(*) FROM interviews")[0][0]
            assert stored == n
            server.store.close()

    print(f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, {platform.machine()}")
    print(f"team study on: {backend}; load average {os.getloadavg()[0]:.1f}")
    print(f"sync {n} completed interviews (push + pull): {first:.2f} s   target <= 5 s")
    print(f"bare executemany copy of the same rows:       {baseline:.2f} s   ratio {first / baseline:.1f}x")
    print(f"second sync, nothing new:                     {idle:.2f} s")
    print(f"re-send of all {n} (each answered 'already'):  {resend:.2f} s")


if __name__ == "__main__":
    main()
