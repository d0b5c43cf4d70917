"""Scale benchmark: 1k, 10k and 100k completed interviews, each command's wall time and peak memory.

Every step runs in its own process (as a user runs it) and is measured from the outside: wall time, and
peak RSS from ``os.wait4``. Baselines in the same run:

- dataset build  vs  a bare bulk read of the same answers (ADBC -> Arrow, through the driver's low-level
  objects as the store reads, so neither pays for importing pyarrow) plus one polars pivot, and vs a plain
  ``sqlite3`` scan of the whole answers table (every row to Python, nothing kept);
- its peak memory  vs  the final frame: peak RSS minus that of a process that only imports the modules and
  opens the store (the interpreter and libraries are not the build's); the same for the process's own
  (anonymous) memory alone, which leaves out the library code the build pages in; and minus the peak of
  the same build on the 300-interview demo the studies are made from (what the build costs whatever the
  size: the ADBC driver, polars' and numpy's code touched, none of which grows with the interviews). The
  frame's size is polars' `estimated_size()`, which leaves out the 16-byte view of every string cell
  (1.4 MB for each text column at 90,000 interviews), so the frame really takes more than it says;
- export --format all  vs  the bare writers (pyreadstat ``write_sav``, polars ``write_csv``,
  ``write_parquet``, ``write_excel``) on the same frame, plus the dataset build;
- app start (shell to the home screen's counts, on a pty)  vs  a minimal Textual app;
- report --format md,docx: a first run (an empty user cache: every chart drawn, the database's clean-check
  and matplotlib's font list made) and a run with the charts cached, each the best of 2, against the
  issue's 8 s target and against the markdown report alone (no charts, no Word) in the same run.

    PYTHONPATH=. python benchmarks/bench_scale.py --sizes 1000,10000,100000
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.scale_study import BASE_INTERVIEWS  # noqa: E402
from benchmarks.shell_start import app_start, minimal_app_start  # noqa: E402

DATASET = """
from pathlib import Path
from survey_tui.core.study import open_study
from survey_tui.analysis.dataset import load_dataset
d = load_dataset(open_study(Path({study!r})), weighting={weighting})
print("frame", d.frame.height, d.frame.width, d.frame.estimated_size())
"""

OPEN_ONLY = """
from pathlib import Path
import polars
from survey_tui.core.study import open_study
import survey_tui.analysis.dataset
open_study(Path({study!r})).store().close()
"""

BARE_PIVOT = """
import adbc_driver_manager, adbc_driver_sqlite, polars as pl
conn = adbc_driver_manager.AdbcConnection(adbc_driver_sqlite.connect({db!r}))
stmt = adbc_driver_manager.AdbcStatement(conn)
stmt.set_options(**{{"adbc.sqlite.query.batch_rows": str(1 << 30)}})
stmt.set_sql_query("SELECT a.interview_id, a.question, a.value FROM answers a"
                   " JOIN interviews i ON i.id = a.interview_id WHERE i.mode = 'field' AND i.outcome = 'complete'")
long = pl.DataFrame(stmt.execute_query()[0])
wide = long.pivot(on="question", index="interview_id", values="value", aggregate_function="first")
print("wide", wide.shape)
"""

MAKE_BASE = """
from pathlib import Path
from benchmarks.scale_study import build_base
build_base(Path({base!r}))
"""

MAKE_STUDY = """
import shutil
from pathlib import Path
from benchmarks.scale_study import add_completes
shutil.copytree({base!r}, {study!r})
add_completes(Path({study!r}), {n})
"""

SQLITE_SCAN = """
import collections, sqlite3
conn = sqlite3.connect({db!r})
collections.deque(conn.execute("SELECT interview_id, question, value, special FROM answers"), maxlen=0)
"""

BARE_WRITERS = """
import time, tempfile
from pathlib import Path
import pyreadstat
from survey_tui.core.study import open_study
from survey_tui.io.export import ExportOptions, load_export_data
frame = load_export_data(open_study(Path({study!r})), ExportOptions())[0].frame  # the frame the exporters write
with tempfile.TemporaryDirectory() as tmp:
    t = time.perf_counter()
    pyreadstat.write_sav(frame.to_pandas(), f"{{tmp}}/d.sav")
    frame.write_csv(f"{{tmp}}/d.csv")
    frame.write_parquet(f"{{tmp}}/d.parquet")
    frame.write_excel(f"{{tmp}}/d.xlsx")
    print("writers", time.perf_counter() - t)
"""


NOT_DTA = "sav,csv,parquet,xlsx,sss,codebook"


def run(argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of one process."""
    env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{argv[:4]} exited with {proc.returncode}")
    return wall, usage.ru_maxrss / 1024, out


def anon_peak(argv: list[str]) -> float:
    """Peak anonymous memory (RssAnon) of one process in MB, read from /proc every millisecond.

    Peak RSS counts the pages of library code a process touches (polars' kernels, the ADBC driver, numpy's
    libraries), which are the files' and shared, and grow with what a command does, not with its data;
    RssAnon is the process's own memory: the frame, Python's objects, the allocators' free pages. Sampled,
    so a spike shorter than a millisecond can be missed (the allocators keep freed pages far longer)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    status, peak = Path(f"/proc/{proc.pid}/status"), 0
    while proc.poll() is None:
        try:
            text = status.read_text()
        except OSError:
            break
        for line in text.splitlines():
            if line.startswith("RssAnon:"):
                peak = max(peak, int(line.split()[1]))
        time.sleep(0.001)
    if proc.wait():
        raise RuntimeError(f"{argv[:4]} exited with {proc.returncode}")
    return peak / 1024


def py(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "survey_tui", *args]


#: the issue's target for a first `report --format md,docx` at 100,000 interviews
REPORT_TARGET = 8.0


def report_runs(study: Path, record) -> None:  # type: ignore[no-untyped-def]
    """The Word report as a user first meets it (an empty user cache: charts drawn, the database checked,
    matplotlib's font list built) and once its charts are cached; best of 2 each, with the load average."""
    argv = cli("report", "--study", str(study), "--format", "md,docx")
    firsts, warms, peaks = [], [], []
    for _ in range(2):
        with tempfile.TemporaryDirectory() as cache:
            env = {"XDG_CACHE_HOME": cache, "MPLCONFIGDIR": str(Path(cache) / "matplotlib")}
            wall, peak, _ = run(argv, env=env)
            firsts.append(wall)
            peaks.append(peak)
            warms.append(run(argv, env=env)[0])
    md = min(run(cli("report", "--study", str(study), "--format", "md"))[0] for _ in range(2))
    first, warm = min(firsts), min(warms)
    load = os.getloadavg()[0]
    record("report --format md,docx, first run", f"{first:.2f} s {max(peaks):.0f} MB")
    record("  charts cached", f"{warm:.2f} s (load {load:.1f})")
    record("  first / 8 s target, / md only", f"{first / REPORT_TARGET:.2f}x, {first / md:.1f}x of {md:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {os.getloadavg()}")
    header = f"{'step':<36}" + "".join(f"{f'{n:,}':>22}" for n in sizes)
    results: dict[str, list[str]] = {}

    def record(step: str, text: str) -> None:
        results.setdefault(step, []).append(text)
        print(f"  {step}: {text}", flush=True)

    # Studies are made in child processes: a process forked from a large one starts with its peak RSS (Linux
    # keeps ru_maxrss across fork and exec), so this one stays small and every peak below is the command's own.
    holder = tempfile.TemporaryDirectory()
    base = Path(holder.name) / "demo"
    run(py(MAKE_BASE.format(base=str(base))))
    # the same build on the demo itself (on a copy: the first open checks the file), the second one measured
    small = Path(holder.name) / "small"
    shutil.copytree(base, small)
    run(py(DATASET.format(study=str(small), weighting=False)))
    fixed = {w: run(py(DATASET.format(study=str(small), weighting=w)))[1] for w in (False, True)}
    print(f"build on the {BASE_INTERVIEWS}-interview demo: peak {fixed[False]:.0f} MB, {fixed[True]:.0f} MB weighted")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            study = Path(tmp) / "study"
            start = time.perf_counter()
            run(py(MAKE_STUDY.format(base=str(base), study=str(study), n=n)))
            print(f"{n:,} completes: study made in {time.perf_counter() - start:.1f} s", flush=True)
            # the first open after a change reads every page for quick_check; later opens of the unchanged
            # file skip it (the usual case for analysis): both are shown, the ratios use the second
            cold, _, _ = run(py(DATASET.format(study=str(study), weighting=True)))
            _, opened, _ = run(py(OPEN_ONLY.format(study=str(study))))
            wall, peak, out = run(py(DATASET.format(study=str(study), weighting=True)))
            frame_wall, frame_peak, frame_out = run(py(DATASET.format(study=str(study), weighting=False)))
            frame_mb = int(out.split()[-1]) / 1e6
            bare, _, _ = run(py(BARE_PIVOT.format(db=str(study / "survey.db"))))
            scan, _, _ = run(py(SQLITE_SCAN.format(db=str(study / "survey.db"))))
            record("dataset build, first open", f"{cold:.2f} s")
            record("dataset build (with RIM weights)", f"{wall:.2f} s {peak:.0f} MB")
            record("  frame only (weighting=False)", f"{frame_wall:.2f} s {frame_peak:.0f} MB")
            record("  frame / imports+open peak", f"{frame_mb:.1f} MB / {opened:.0f} MB")
            record("  bare read+pivot / sqlite3 scan", f"{bare:.2f} s / {scan:.2f} s")
            record("  frame only: vs bare, vs scan", f"{frame_wall / bare:.2f}x, {frame_wall / scan:.2f}x")
            record("  with weights: vs bare, vs scan", f"{wall / bare:.2f}x, {wall / scan:.2f}x")
            record(
                "  (peak - open) / frame",
                f"{(frame_peak - opened) / frame_mb:.1f}x, {(peak - opened) / frame_mb:.1f}x weighted",
            )
            if Path("/proc/self/status").exists():
                opened_anon = anon_peak(py(OPEN_ONLY.format(study=str(study))))
                built_anon = {w: anon_peak(py(DATASET.format(study=str(study), weighting=w))) for w in (False, True)}
                record(
                    "  own memory (RssAnon) over open's",
                    f"{(built_anon[False] - opened_anon) / frame_mb:.1f}x, "
                    f"{(built_anon[True] - opened_anon) / frame_mb:.1f}x weighted",
                )
            record(
                "  (peak - same build on demo) / frame",
                f"{(frame_peak - fixed[False]) / frame_mb:.1f}x, {(peak - fixed[True]) / frame_mb:.1f}x weighted",
            )
            for step, argv in [
                ("tables", cli("tables", "--study", str(study))),
                ("export --format all", cli("export", "--study", str(study), "--format", "all")),
            ]:
                try:
                    wall_s, peak_s, _ = run(argv)
                except RuntimeError as exc:
                    if not step.startswith("export"):
                        raise
                    record(step, "FAILED")  # say so, and time every other format so the curve goes on
                    print(f"    {exc}", flush=True)
                    step = "export all but dta"
                    wall_s, peak_s, _ = run(cli("export", "--study", str(study), "--format", NOT_DTA))
                record(step, f"{wall_s:.2f} s {peak_s:.0f} MB")
                if step.startswith("export"):
                    w_wall, _, w_out = run(py(BARE_WRITERS.format(study=str(study))))
                    writers = float(w_out.split()[-1])
                    floor = writers + wall
                    record("  bare writers + build", f"{floor:.2f} s ({wall_s / floor:.2f}x)")
            report_runs(study, record)
            app = min(app_start(study, REPO) for _ in range(3))
            app_zh = min(app_start(study, REPO, "zh-TW") for _ in range(3))
            minimal = min(minimal_app_start() for _ in range(3))
            record("app start to first screen", f"{app:.2f} s")
            record("  in zh-TW (gettext catalog)", f"{app_zh:.2f} s ({app_zh / app:.2f}x English)")
            record("  minimal Textual app", f"{minimal:.2f} s ({app / minimal:.1f}x)")
    print()
    print(f"load average at the end: {os.getloadavg()}")
    print(header)
    for step, texts in results.items():
        print(f"{step:<36}" + "".join(f"{t:>22}" for t in texts))


if __name__ == "__main__":
    main()
