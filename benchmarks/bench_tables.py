"""Benchmark: banner tables and frequencies on a synthetic 1,000,000 x 140 Int8 data file.

Run by hand: ``PYTHONPATH=. python benchmarks/bench_tables.py [--rows N]``. Prints the machine, the
timings, the ratio against ``pandas.crosstab`` (counts only, per stub x banner pair, so the baseline does
less work than we do) and the peak memory over the frame's own size.

Targets (issue T1.5): 80 stubs x 3 banner variables with column %% and letters <= 0.6 s and >= 15x faster
than pandas.crosstab; frequencies of all coded variables <= 0.05 s; peak memory <= 2x the frame.
"""

from __future__ import annotations

import argparse
import os
import platform
import threading
import time

import numpy as np
import polars as pl

from survey_tui.analysis.dataset import Dataset, Variable
from survey_tui.analysis.tables import TableOptions, banner_tables, frequencies

COLUMNS = 140
STUBS = 80
BANNERS = {"gender": 2, "region": 4, "age": 5}


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakSampler:
    """Samples the resident set size every millisecond (polars allocates outside tracemalloc's view)."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes())
            time.sleep(0.001)

    def __enter__(self) -> PeakSampler:
        self.peak = rss_bytes()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), load {load:.1f}; "
        f"Python {platform.python_version()}, polars {pl.__version__}, numpy {np.__version__}"
    )


def synthetic(rows: int) -> Dataset:
    rng = np.random.default_rng(20261124)
    data: dict[str, pl.Series] = {"interview_id": pl.Series(np.arange(1, rows + 1, dtype=np.int64))}
    variables: dict[str, Variable] = {}
    for name, codes in BANNERS.items():
        data[name] = pl.Series(name, rng.integers(1, codes + 1, rows, dtype=np.int8))
        variables[name] = Variable(
            name, name, "single", "nominal", {"en": name}, {c: {"en": f"{name} {c}"} for c in range(1, codes + 1)}
        )
    for index in range(COLUMNS - len(BANNERS)):
        name = f"q{index + 1:03d}"
        points = (5, 7, 4, 11)[index % 4]
        low = 0 if points == 11 else 1
        values = rng.integers(low, low + points, rows, dtype=np.int8)
        series = pl.Series(name, values)
        if index % 3 == 0:  # asked of a subset: nulls for the others
            series = pl.Series(name, values).set(pl.Series(rng.random(rows) < 0.2), None)  # type: ignore[arg-type]
        data[name] = series
        labels = {c: {"en": str(c)} for c in range(low, low + points)}
        kind, measure = ("scale", "ordinal") if points in (5, 11) else ("single", "nominal")
        variables[name] = Variable(name, name, kind, measure, {"en": name}, labels)
    frame = pl.DataFrame(data)
    return Dataset(frame, variables, None, ["en"])  # type: ignore[arg-type]


def best_of(runs: int, fn) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pandas-pairs", type=int, default=12, help="pairs timed with pandas.crosstab")
    args = parser.parse_args()
    print(f"Machine: {machine()}")
    dataset = synthetic(args.rows)
    frame_bytes = dataset.frame.select(pl.exclude("interview_id")).estimated_size()
    print(f"Data file: {dataset.n:,} interviews x {COLUMNS} Int8 columns = {frame_bytes / 1e6:.0f} MB")
    stubs = [n for n in dataset.variables if n.startswith("q")][:STUBS]
    banner = list(BANNERS)
    options = TableOptions(language="en")

    banner_tables(dataset, stubs[:2], banner, options)  # warm-up (imports, thread pools)
    before = rss_bytes()
    with PeakSampler() as sampler:
        seconds, tables = best_of(3, lambda: banner_tables(dataset, stubs, banner, options))
    extra_banner = max(0, sampler.peak - before)
    letters = sum(1 for t in tables for r in t.rows for cell in r.letters if cell)  # type: ignore[attr-defined]
    print(
        f"Banner {len(stubs)} stubs x {len(banner)} banner variables (Total + {sum(BANNERS.values())} columns), "
        f"counts, column %, letters, means: {seconds:.3f} s  (target <= 0.6 s; {letters} cells with letters)"
    )

    import pandas as pd

    pdf = dataset.frame.select([*stubs[: args.pandas_pairs], *banner]).to_pandas()
    pairs = [(s, b) for s in stubs[: args.pandas_pairs] for b in banner][: args.pandas_pairs]
    start = time.perf_counter()
    for stub, column in pairs:
        pd.crosstab(pdf[stub], pdf[column])
    per_pair = (time.perf_counter() - start) / len(pairs)
    pandas_total = per_pair * len(stubs) * len(banner)
    print(
        f"pandas.crosstab: {per_pair * 1000:.1f} ms per pair -> {pandas_total:.2f} s for {len(stubs) * len(banner)} "
        f"pairs (counts only); ratio {pandas_total / seconds:.1f}x faster (target >= 15x)"
    )
    del pdf

    coded = [n for n in dataset.variables]
    frequencies(dataset, coded[:3], options)
    before = rss_bytes()
    with PeakSampler() as sampler:
        freq_seconds, _ = best_of(5, lambda: frequencies(dataset, coded, options))
    extra_freq = max(0, sampler.peak - before)
    print(f"Frequencies of all {len(coded)} coded variables: {freq_seconds:.3f} s  (target <= 0.05 s)")
    peak_ratio = (frame_bytes + max(extra_banner, extra_freq)) / frame_bytes
    print(
        f"Peak memory: frame {frame_bytes / 1e6:.0f} MB + {max(extra_banner, extra_freq) / 1e6:.0f} MB working set "
        f"= {peak_ratio:.2f}x the frame (target <= 2x)"
    )


if __name__ == "__main__":
    main()
