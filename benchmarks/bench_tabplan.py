"""Benchmark: a tab plan of 300 tables x 12 banner columns, with letters and a weight, to xlsx.

Run by hand: ``PYTHONPATH=. python benchmarks/bench_tabplan.py [--respondents 2000] [--tables 300]``.
Prints the machine, the wall time from the dataset to a written .xlsx, and the same counts as
``pandas.crosstab`` (weighted, normalised by column; counts and % only, no letters, no bases, no file)
as the baseline in the same run.

Target (tables issue): <= 3 s end to end on 2,000 respondents.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from survey_tui.analysis.dataset import Dataset, Variable
from survey_tui.analysis.tables import write_xlsx
from survey_tui.analysis.tabplan import run_plan
from survey_tui.core.plan.tabplan import TabBanner, TabOptions, TabPlan, TabTable

BANNERS = {"gender": 2, "region": 4, "age": 3, "income": 3}  # 12 columns + Total
STUB_VARIABLES = 60


def synthetic(respondents: int, seed: int = 1) -> Dataset:
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {"interview_id": np.arange(1, respondents + 1)}
    variables: list[Variable] = []
    for name, codes in BANNERS.items():
        columns[name] = rng.integers(1, codes + 1, respondents)
        labels = {c: {"en": f"{name} {c}"} for c in range(1, codes + 1)}
        variables.append(Variable(name, name, "single", "nominal", {"en": name}, labels))
    for i in range(STUB_VARIABLES):
        name = f"q{i:02d}"
        values = rng.integers(1, 6, respondents).astype(float)
        values[rng.random(respondents) < 0.05] = 98  # some don't know
        columns[name] = values
        labels = {c: {"en": f"point {c}"} for c in range(1, 6)} | {98: {"en": "Don't know"}}
        variables.append(Variable(name, name, "scale", "ordinal", {"en": name}, labels, {98: "dont_know"}))
    columns["weight"] = rng.uniform(0.4, 2.2, respondents)
    frame = pl.DataFrame(columns).with_columns(
        [pl.col(c).cast(pl.Int32) for c in columns if c not in ("weight", "interview_id")]
    )
    return Dataset(frame, {v.name: v for v in variables}, None, ["en"], weight="weight")  # type: ignore[arg-type]


def plan_of(tables: int) -> TabPlan:
    banners = [TabBanner(id=name, variable=name) for name in BANNERS]
    planned = [
        TabTable(id=f"T{i + 1}", stub=[f"q{i % STUB_VARIABLES:02d}"], title={"en": f"Table {i + 1}"})
        for i in range(tables)
    ]
    return TabPlan(
        banners=banners,
        banner=list(BANNERS),
        tables=planned,
        defaults=TabOptions(weight="weight", correction="holm"),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--respondents", type=int, default=2000)
    parser.add_argument("--tables", type=int, default=300)
    args = parser.parse_args()
    print(
        f"Machine: {platform.system()} {platform.machine()}, {os.cpu_count()} cores, load "
        f"{os.getloadavg()[0]:.1f}; Python {platform.python_version()}, polars {pl.__version__}"
    )
    data = synthetic(args.respondents)
    plan = plan_of(args.tables)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        tables = run_plan(plan, data, "en")
        computed = time.perf_counter() - start
        write_xlsx(tables, Path(tmp) / "tabs.xlsx", "bench", "en")
        ours = time.perf_counter() - start
    letters = sum(1 for t in tables for r in t.rows for cell in r.letters if cell)
    print(
        f"Tab plan: {len(tables)} tables x {len(tables[0].columns) - 1} banner columns (+ Total), weighted, "
        f"Holm-corrected letters ({letters} cells with letters), {args.respondents} respondents"
    )
    print(
        f"  ours, dataset to written xlsx: {ours:.2f} s (tables {computed:.2f} s, xlsx {ours - computed:.2f} s)"
        "  (target <= 3 s)"
    )
    import pandas as pd

    frame = data.frame.to_pandas()
    start = time.perf_counter()
    for table in plan.tables:
        stub = table.stub[0]
        for banner in BANNERS:
            pd.crosstab(frame[stub], frame[banner], values=frame["weight"], aggfunc="sum", normalize="columns")
    baseline = time.perf_counter() - start
    print(
        f"  pandas.crosstab, weighted column % only ({len(plan.tables) * len(BANNERS)} crosstabs): {baseline:.2f} s"
        f" -> ours is {baseline / ours:.1f}x that speed while doing more"
    )


if __name__ == "__main__":
    main()
