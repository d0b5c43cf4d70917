"""Many interviewers on one PostgreSQL server at once (issue 13, reliability), with real processes.

Each worker (team_worker.py) takes the next respondent under a row lease, answers a synthetic questionnaire
and completes, over and over. Afterwards: every acknowledged answer is stored with its value, no quota cell
holds more completes than its target (counted inside the completing transaction), and no respondent was
handed to two interviewers. A second test stops the server with `pg_ctl stop -m immediate` mid-capture.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.synthetic_instrument import make_instrument_yaml
from survey_tui.core.fieldwork import respondents as resp
from survey_tui.core.fieldwork.quotas import quota_counts
from survey_tui.core.study import open_study
from tests.capture.helpers import make_study
from tests.capture_worker import scripted_value

ROOT = Path(__file__).resolve().parents[2]
WORKER = ROOT / "tests" / "server" / "team_worker.py"
QUESTIONS = 8
QUOTAS = """
quotas:
  - name: region
    dimensions:
      - name: region
        levels:
          - {label: north, when: "region = 1"}
          - {label: south, when: "region = 2"}
    targets: {north: 12, south: 9}
"""


def _team_study(root: Path, url: str | None, monkeypatch: pytest.MonkeyPatch, respondents: int) -> Path:
    if url:
        monkeypatch.setenv("SURVEY_TUI_DATABASE_URL", url)
    else:
        monkeypatch.delenv("SURVEY_TUI_DATABASE_URL", raising=False)
    study = make_study(root, consent=False, instrument=make_instrument_yaml(QUESTIONS))
    path = root / "study.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("quotas: []\n", QUOTAS.lstrip()), encoding="utf-8")
    with open_study(root).store() as store:
        for n in range(respondents):
            resp.add(store, {"region": 1 + n % 2}, {"name": f"受訪者 {n}", "phone": f"09{n:08d}"})
    return study.root


def _spawn(study: Path, name: str, seconds: float, url: str | None) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SURVEY_TUI_DATABASE_URL", None)
    if url:
        env["SURVEY_TUI_DATABASE_URL"] = url
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(study), name, str(seconds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _check(study_root: Path, outputs: list[str]) -> dict[str, int]:
    """The three promises, from the workers' own words; returns what happened, for the caller's checks."""
    study = open_study(study_root)
    acked: dict[int, list[str]] = {}
    handed: list[str] = []
    outcomes: Counter[str] = Counter()
    for out in outputs:
        for line in out.splitlines():
            parts = line.split()
            if parts[0] == "started":
                handed.append(parts[2])
                acked.setdefault(int(parts[1]), [])
            elif parts[0] == "ack":
                acked[int(parts[1])].append(parts[2])
            elif parts[0] == "done":
                outcomes[parts[2]] += 1
    with study.store() as store:
        instrument = study.load_instrument()
        for interview_id, names in acked.items():
            stored = store.answers(interview_id)
            for name in names:
                assert name in stored, f"acknowledged answer {name} of interview {interview_id} lost"
                assert stored[name].value == scripted_value(name, instrument.question(name).type)
        assert len(handed) == len(set(handed)), "a respondent was handed out twice"
        per_respondent = store.query(
            "SELECT respondent_id, COUNT(*) FROM interviews GROUP BY respondent_id HAVING COUNT(*) > 1"
        )
        assert per_respondent == [], "a respondent has two interviews"
        for cell in quota_counts(store, study.config.quotas):
            assert cell.target is not None and cell.completes <= cell.target, f"over quota: {cell}"
        complete = store.query("SELECT COUNT(*) FROM interviews WHERE outcome = 'complete'")[0][0]
    assert complete == outcomes["complete"]
    return {"handed": len(handed), "answers": sum(map(len, acked.values())), **outcomes}


def test_twelve_interviewers_at_once_lose_nothing_overfill_nothing_share_no_one(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _team_study(tmp_path / "team", pg_url, monkeypatch, respondents=60)
    procs = [_spawn(root, f"interviewer{n}", 45, pg_url) for n in range(12)]
    results = [p.communicate(timeout=180) for p in procs]
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
    seen = _check(root, [out for out, _ in results])
    # every respondent was interviewed once; the cells filled exactly (21 completes), the rest quota-full
    assert seen["handed"] == 60 and seen["complete"] == 21 and seen["quota_full"] == 39, seen
    assert all(out.strip().endswith("empty") for out, _ in results)


def test_the_same_promises_hold_on_the_embedded_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's single writer serialises the same handout and quota count (no server needed)."""
    root = _team_study(tmp_path / "solo", None, monkeypatch, respondents=30)
    procs = [_spawn(root, f"interviewer{n}", 45, None) for n in range(4)]
    results = [p.communicate(timeout=180) for p in procs]
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
    seen = _check(root, [out for out, _ in results])
    assert seen["handed"] == 30 and seen["complete"] == 21 and seen["quota_full"] == 9, seen


@pytest.mark.postgresql
def test_server_stopped_immediately_mid_capture_loses_no_acknowledged_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.pgserver import remove_cluster, start_cluster

    cluster, reason = start_cluster()  # its own server: this test stops it
    if cluster is None:
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    try:
        url = cluster.create_database()
        root = _team_study(tmp_path / "team", url, monkeypatch, respondents=16)
        procs = [_spawn(root, f"interviewer{n}", 90, url) for n in range(4)]
        outputs = ["" for _ in procs]

        def read(i: int) -> None:
            assert procs[i].stdout is not None
            for line in procs[i].stdout:
                outputs[i] += line

        readers = [threading.Thread(target=read, args=(i,)) for i in range(len(procs))]
        for t in readers:
            t.start()
        deadline = time.monotonic() + 60
        while sum(o.count("\nack ") for o in outputs) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        acked_before = sum(o.count("ack ") for o in outputs)
        cluster.stop("immediate")  # as if the server's machine lost power
        while sum(o.count("gone ") for o in outputs) < len(procs) and time.monotonic() < deadline:
            time.sleep(0.05)
        cluster.start()
        for proc in procs:
            proc.wait(timeout=150)
        for t in readers:
            t.join(timeout=10)
        errors = [p.stderr.read() if p.stderr else "" for p in procs]
        assert all(p.returncode == 0 for p in procs), errors
        gone = [line for o in outputs for line in o.splitlines() if line.startswith("gone ")]
        assert any("the study server is gone" in line for line in gone), gone  # mid-write
        assert all("study server" in line for line in gone), gone  # or unreachable, until it is back
        seen = _check(root, outputs)
        assert seen["answers"] > acked_before  # they carried on after the restart
        with open_study(root).store() as store:  # every respondent was handed out once (a start cut off before
            # its first screen was shown leaves that interview open for a resume, not a second handout)
            assert store.query("SELECT COUNT(DISTINCT respondent_id) FROM interviews")[0][0] == 16
        assert seen["handed"] <= 16
    finally:
        remove_cluster(cluster)
