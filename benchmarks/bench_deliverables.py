"""Benchmark: the demo's client deliverables — Word report with charts, tab book and chart deck.

Run by hand: ``PYTHONPATH=. python benchmarks/bench_deliverables.py [--interviews 215]``.
Builds the demo study in a temporary folder, then prints the wall time of the Word report without charts
(the baseline, same run), with charts, the tab book of the tab plan, the chart deck, and their total.

Target (deliverables issue): report with charts + tab book + deck <= 20 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--interviews", type=int, default=215)
    args = parser.parse_args()
    from survey_tui.analysis.dataset import load_dataset
    from survey_tui.analysis.tabplan import run_plan
    from survey_tui.core.plan.tabplan import read_tab_plan
    from survey_tui.core.study import open_study
    from survey_tui.demo.build import build_demo
    from survey_tui.report.charts import cjk_font
    from survey_tui.report.deck import write_deck
    from survey_tui.report.full_report import build_report, write_docx
    from survey_tui.report.tabbook import write_tab_book

    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, CJK font: {cjk_font()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "demo-study"
        build_demo(root, interviews=args.interviews, seed=7)
        study = open_study(root)
        out = Path(tmp)
        start = time.perf_counter()
        report = build_report(study)
        built = time.perf_counter() - start
        start = time.perf_counter()
        write_docx(report, out / "plain.docx", charts=False)
        plain = time.perf_counter() - start
        start = time.perf_counter()
        write_docx(report, out / "charts.docx")
        with_charts = time.perf_counter() - start
        start = time.perf_counter()
        plan = read_tab_plan(root / "tabs" / "main.yaml", "tabs/main.yaml")
        tables = run_plan(plan, load_dataset(study), study.config.language)
        write_tab_book(tables, out / "tabs.xlsx", study.config.title)
        book = time.perf_counter() - start
        start = time.perf_counter()
        write_deck(report, out / "deck.pptx")
        deck = time.perf_counter() - start
    print(f"report built from the study: {built:.2f} s")
    print(f"Word report without charts (baseline): {plain:.2f} s")
    print(f"Word report with charts: {with_charts:.2f} s ({with_charts / plain:.1f}x the baseline)")
    print(f"tab book ({len(tables)} tables): {book:.2f} s")
    print(f"chart deck: {deck:.2f} s")
    total = built + with_charts + book + deck
    print(f"total, report with charts + tab book + deck: {total:.2f} s (target <= 20 s)")


if __name__ == "__main__":
    main()
