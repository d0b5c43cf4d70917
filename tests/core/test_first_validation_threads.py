"""The models' validators are built on first use (pydantic's defer_build), and the app's workers may be the
first to use them, several at once (the home screen's and a section's). Each must get what a validation in
one thread gives: no problem made up by a half-built validator, no exception.

Runs in a fresh interpreter, where no validator has been built yet.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

RACE = """
import json, sys, threading
from pathlib import Path
from survey_tui.core.fieldwork.dispositions import CallSettings
from survey_tui.core.instrument.loader import load_instrument_file
from survey_tui.core.study import load_study_config

root = Path(sys.argv[1])
instrument = sorted((root / "instruments").glob("*.yaml"))[0]
start = threading.Barrier(8)
results, failures = [], []

def work(index):
    start.wait()
    try:
        if index % 3 == 0:
            config, problems = load_study_config(root)
            results.append(["study", config is not None, [p.message for p in problems]])
        elif index % 3 == 1:
            found, problems = load_instrument_file(instrument, instrument.name)
            results.append(["instrument", found is not None and len(found.questions), [p.message for p in problems]])
        else:
            results.append(["calls", len(CallSettings.model_validate({"outcomes": {}}).all_outcomes()), []])
    except Exception as exc:
        failures.append(repr(exc))

threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"results": sorted(results, key=str), "failures": failures}))
"""


def test_workers_that_validate_first_at_once_get_what_one_thread_gets(demo: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def run(threads: int) -> dict[str, list[object]]:
        script = RACE.replace("range(8)", f"range({threads})").replace("Barrier(8)", f"Barrier({threads})")
        done = subprocess.run([sys.executable, "-c", script, str(demo)], capture_output=True, text=True, env=env)
        assert done.returncode == 0, done.stderr
        outcome = json.loads(done.stdout)
        assert outcome["failures"] == []
        kinds: dict[str, list[object]] = {}
        for kind, value, problems in outcome["results"]:
            kinds.setdefault(kind, []).append([value, problems])
        return kinds

    alone = {kind: answers[0] for kind, answers in run(3).items()}  # one thread of each kind
    assert sorted(alone) == ["calls", "instrument", "study"]
    assert all(value for value, _problems in alone.values())
    for _round in range(2):  # each round a fresh interpreter: the first validations race again
        for kind, answers in run(8).items():
            assert all(answer == alone[kind] for answer in answers), (kind, answers, alone[kind])
