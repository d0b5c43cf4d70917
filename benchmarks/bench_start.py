"""App start on the demo study: from the shell to the first screen with data, against a minimal Textual app
in the same run (the floor any Textual app pays on this machine), in both interface languages.

    python benchmarks/bench_start.py [--study DIR] [--runs 5]

Without --study the demo is built in a temporary folder first (not timed). Each measure spawns the program
on a 120x40 pseudo-terminal and stops when the home card's data is on the screen (benchmarks/shell_start.py).
Prints the median and the best of the runs, their ratio to the minimal app, and the load average, since
the machine may be shared; beside the wall time, the program's own CPU time up to the moment the data
shows (read from /proc), which other programs on a loaded machine do not add to.

The home screen's figures of an unchanged study come from the user's cache (core.summary), as at any start
but the first after an edit; "just edited" appends a comment to the instrument of a copy before each run,
so it measures that first start (the study's settings and instrument read and validated).

Every measure runs once untimed first, with Python's bytecode cache on (in a temporary folder when the
environment turns it off, as PYTHONDONTWRITEBYTECODE does): an installed program starts from compiled
bytecode, and compiling the project's modules from source at every run added about half a second that no
user waits for.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.shell_start import app_start_measure, minimal_app_measure  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--study", type=Path, help="a study folder (default: build the demo)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        study = args.study
        if study is None:
            from survey_tui.demo.build import build_demo

            study = Path(tmp) / "demo-study"
            build_demo(study)
        edited = Path(tmp) / "edited" / study.name
        shutil.copytree(study, edited, ignore=shutil.ignore_patterns("exports"))
        instrument = sorted((edited / "instruments").glob("*.yaml"))[0]

        def after_an_edit() -> tuple[float, float | None]:
            """The instrument edited just before: its figures are not in the cache, the study is read."""
            with instrument.open("a", encoding="utf-8") as handle:
                handle.write(f"# edited at {time.time()}\n")
            return app_start_measure(edited, REPO, "en")

        measures = {
            "minimal Textual app": minimal_app_measure,
            "survey-tui (en)": lambda: app_start_measure(study, REPO, "en"),
            "survey-tui (zh-TW)": lambda: app_start_measure(study, REPO, "zh-TW"),
            "(en) just edited": after_an_edit,
        }
        if sys.dont_write_bytecode or os.environ.get("PYTHONDONTWRITEBYTECODE"):
            os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
            os.environ["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        for measure in measures.values():  # untimed: compiles the bytecode and warms the file cache
            measure()
        times: dict[str, list[float]] = {name: [] for name in measures}
        cpus: dict[str, list[float]] = {name: [] for name in measures}
        load_before = os.getloadavg()[0]
        for _ in range(args.runs):  # interleaved, so a burst of load hits every measure alike
            for name, measure in measures.items():
                wall, cpu = measure()
                times[name].append(wall)
                if cpu is not None:
                    cpus[name].append(cpu)
    floor = statistics.median(times["minimal Textual app"])
    best_floor = min(times["minimal Textual app"])
    print(f"load average (1 min) before {load_before:.2f}, after {os.getloadavg()[0]:.2f}; {args.runs} runs each")
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"{name:<22} wall median {median:.3f} s  best {min(values):.3f} s  "
            f"x{median / floor:.2f} of the minimal app (best x{min(values) / best_floor:.2f})"
        )
    if all(cpus.values()):
        cpu_floor = statistics.median(cpus["minimal Textual app"])
        for name, values in cpus.items():
            median = statistics.median(values)
            print(f"{name:<22} CPU  median {median:.3f} s  best {min(values):.3f} s  x{median / cpu_floor:.2f}")


if __name__ == "__main__":
    main()
