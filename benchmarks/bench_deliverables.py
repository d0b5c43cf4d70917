"""Benchmark: the demo's client deliverables — Word report with charts, tab book and chart deck.

Run by hand: ``PYTHONPATH=. python benchmarks/bench_deliverables.py [--interviews 215]``.
Builds the demo study in a temporary folder, then prints the wall time of the Word report without charts
(the baseline, same run), with charts, filled into the demo's client template (templates/client.docx,
docxtpl: the whole report as a sub-document plus the template's own key-frequency charts), the tab book
of the tab plan, the chart deck, and their totals. The chart caches (in memory and the user's cache folder)
are emptied before each step that draws, so no step is timed with another's pictures; then the Word report
with charts once more in a new process's state, its pictures from the cache folder (an unchanged re-run).

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
    from survey_tui.report import charts
    from survey_tui.report.charts import cjk_font
    from survey_tui.report.deck import write_deck
    from survey_tui.report.full_report import build_report, write_docx
    from survey_tui.report.tabbook import write_tab_book

    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, CJK font: {cjk_font()}")
    print(f"load average before: {os.getloadavg()[0]:.1f} (wall times grow with other work on the machine)")
    times: dict[str, tuple[float, float]] = {}

    def timed(name: str, step, fresh_pictures: bool = False, cached_pictures: bool = False):  # type: ignore[no-untyped-def]
        if fresh_pictures or cached_pictures:
            charts._DRAWN.clear()
        if fresh_pictures:  # an empty cache folder: every chart is drawn
            os.environ["SURVEY_TUI_CACHE_DIR"] = tempfile.mkdtemp(dir=cache_root)
        wall, cpu = time.perf_counter(), time.process_time()
        result = step()
        times[name] = (time.perf_counter() - wall, time.process_time() - cpu)
        return result

    with tempfile.TemporaryDirectory() as tmp:
        cache_root = Path(tmp) / "caches"
        cache_root.mkdir()
        root = Path(tmp) / "demo-study"
        build_demo(root, interviews=args.interviews, seed=7)
        study = open_study(root)
        out = Path(tmp)
        from survey_tui.report.template import write_from_template

        report = timed("built", lambda: build_report(study))
        timed("plain", lambda: write_docx(report, out / "plain.docx", charts=False))
        timed("charts", lambda: write_docx(report, out / "charts.docx"), fresh_pictures=True)
        timed("charts again", lambda: write_docx(report, out / "again.docx"), cached_pictures=True)
        timed("deck (pictures from the report)", lambda: write_deck(report, out / "deck0.pptx"))
        timed("template", lambda: write_from_template(study, report, out / "client.docx"), fresh_pictures=True)

        def book() -> int:
            plan = read_tab_plan(root / "tabs" / "main.yaml", "tabs/main.yaml")
            tables = run_plan(plan, load_dataset(study), study.config.language)
            write_tab_book(tables, out / "tabs.xlsx", study.config.title)
            return len(tables)

        count = timed("book", book)
        timed("deck", lambda: write_deck(report, out / "deck.pptx"), fresh_pictures=True)

    def show(label: str, names: list[str], note: str = "") -> None:
        wall = sum(times[n][0] for n in names)
        cpu = sum(times[n][1] for n in names)
        print(f"{label}: {wall:.2f} s wall, {cpu:.2f} s CPU{note}")

    plain = times["plain"][0]
    show("report built from the study", ["built"])
    show("Word report without charts (baseline)", ["plain"])
    show("Word report with charts", ["charts"], f" ({times['charts'][0] / plain:.1f}x the baseline)")
    show(
        "Word report with charts, re-run with unchanged data (pictures from the cache folder)",
        ["charts again"],
        f" ({times['charts again'][0] / plain:.1f}x the baseline)",
    )
    show("Word report in the client template, with charts", ["template"], f" ({times['template'][0] / plain:.1f}x)")
    show(f"tab book ({count} tables)", ["book"])
    show("chart deck, drawing its charts", ["deck"])
    show(
        "chart deck after the Word report (its pictures reused, as report --bundle does)",
        ["deck (pictures from the report)"],
    )
    show("total, report with charts + tab book + deck", ["built", "charts", "book", "deck"], " (target <= 20 s)")
    show("total, client-template report + tab book + deck", ["built", "template", "book", "deck"], " (target <= 20 s)")
    show(
        "total as report --bundle writes them (deck reuses the report's pictures)",
        ["built", "charts", "book", "deck (pictures from the report)"],
        " (target <= 20 s)",
    )
    show("without charts: report + tab book (baseline for the totals)", ["built", "plain", "book"])


if __name__ == "__main__":
    main()
