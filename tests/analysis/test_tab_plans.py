"""Tab plans as text: checked with file and line, run from the CLI, and the same numbers in the report."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from survey_tui.analysis.dataset import load_dataset
from survey_tui.analysis.hypotheses import evaluate_all
from survey_tui.analysis.tables import TableOptions, banner_tables
from survey_tui.analysis.tabplan import run_plan
from survey_tui.cli import main
from survey_tui.core.plan.tabplan import read_tab_plan
from survey_tui.core.study import check_study, open_study


@pytest.fixture
def study_copy(demo_study_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "study"
    shutil.copytree(demo_study_dir, target)
    return target


def test_the_demo_tab_plan_runs_every_table(demo_study_dir: Path) -> None:
    study = open_study(demo_study_dir)
    plan = read_tab_plan(demo_study_dir / "tabs" / "main.yaml", "tabs/main.yaml")
    data = load_dataset(study)
    tables = run_plan(plan, data, "en")
    assert {t.id for t in tables} == {t.id for t in plan.tables}
    by_id = {t.id: t for t in tables}
    # the overlapping banner keeps both groups whole
    t1 = by_id["T1"]
    under40 = data.frame.filter(data.frame["s2"] < 40)
    over30 = data.frame.filter(data.frame["s2"] >= 30)
    column = [c for c in t1.columns if c.part == "generations"]
    in_base = data.frame["u1_freq"].is_in([1, 2, 3, 4, 5])
    assert column[0].unweighted == data.frame.filter((data.frame["s2"] < 40) & in_base).height <= under40.height
    assert column[1].unweighted == data.frame.filter((data.frame["s2"] >= 30) & in_base).height <= over30.height
    assert t1.weight == "weight" and any("Weight: weight" in line for line in t1.footnote())
    assert "generations" not in t1.overlapping and any("世代" in o or "Generations" in o for o in t1.overlapping)
    # a net of nets is the union of the nets it names
    t8 = by_id["T8"]
    nets = {r.label: r for r in t8.rows if r.kind == "net"}
    assert nets["Not about right"].counts[0] == nets["Expensive"].counts[0] + nets["Cheap"].counts[0]
    # summary rows kept as asked
    assert {r.kind for r in by_id["T6"].rows} >= {"nps", "mean"} and "sd" not in {r.kind for r in by_id["T6"].rows}
    # the nested banner tests within each gender; total-asked base and Holm are in the footnote
    t10 = by_id["T10"]
    assert t10.columns[1].label.count("/") == 1 and "Holm" in " ".join(t10.footnote())
    assert "don't know / refused included" in t10.footnote()[0]
    # every table states its base, test and weight
    for table in tables:
        note = " ".join(table.footnote())
        assert "Base:" in note and ("Letters:" in note) and ("Weight" in note or "Unweighted" in note)


def test_check_reports_tab_plan_problems_with_file_and_line(study_copy: Path) -> None:
    path = study_copy / "tabs" / "main.yaml"
    text = path.read_text("utf-8")
    text = text.replace("stub: u1_freq", "stub: u1_freqq").replace("variable: s4}", "variable: s44}")
    text = text.replace("when: s2 < 40}", "when: s2 < < 40}")
    path.write_text(text, "utf-8")
    problems = [p for p in check_study(study_copy) if p.file == "tabs/main.yaml"]
    messages = {p.message: p for p in problems}
    stub = next(p for m, p in messages.items() if "u1_freqq" in m)
    assert stub.line == text.splitlines().index("    stub: u1_freqq") + 1 and stub.hint == "did you mean 'u1_freq'?"
    assert any("s44" in m for m in messages)
    assert any("s2 < < 40" in m for m in messages)
    assert main(["check", str(study_copy)]) == 1


def test_schema_errors_are_located_too(study_copy: Path) -> None:
    path = study_copy / "tabs" / "main.yaml"
    text = path.read_text("utf-8").replace("correction: none ", "correction: sidak ")
    path.write_text(text, "utf-8")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "correction: sidak" in t)
    problems = [p for p in check_study(study_copy) if p.file == "tabs/main.yaml"]
    assert problems and problems[0].line == line and "'holm'" in problems[0].message


def test_tables_plan_command_writes_every_format(study_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("md", "csv", "xlsx"):
        assert main(["tables", "--study", str(study_copy), "--plan", "tabs/main.yaml", "--format", fmt]) == 0
        assert (study_copy / "exports" / f"main.{fmt}").stat().st_size > 0
    out = capsys.readouterr().out
    assert "planned" in out
    md = (study_copy / "exports" / "main.md").read_text("utf-8")
    assert md.count("Base:") == md.count("### ")
    assert main(["tables", "--study", str(study_copy), "--plan", "tabs/nope.yaml"]) == 1
    assert main(["tables", "--study", str(study_copy), "--plan", "tabs/main.yaml", "--tables", "T3"]) == 0
    assert (study_copy / "exports" / "main.md").read_text("utf-8").count("### ") == 1


def test_verdicts_and_tables_share_their_bases(demo_study_dir: Path) -> None:
    """H6 (share of top-2 intent) quotes the same weighted count, share and base as the table's Total."""
    study = open_study(demo_study_dir)
    data = load_dataset(study)
    assert data.weight == "weight"  # the demo is weighted to gender x age x region
    result = {r.id: r for r in evaluate_all(data, study.config.hypotheses)}["H6"]
    table = banner_tables(data, ["n2_intent"], ["s3"], TableOptions(language="en", weight=data.weight))[0]
    yes, base, share = result.table[1][0], result.table[1][1], result.table[1][2]
    assert float(yes) == pytest.approx(table.row("top2").counts[0], abs=0.05)
    assert base == f"{table.columns[0].base:.1f} ({table.columns[0].unweighted})"
    assert float(share) == pytest.approx(table.row("top2").values[0], abs=0.05)
    assert result.base == table.columns[0].unweighted
    unweighted = banner_tables(data, ["n2_intent"], ["s3"], TableOptions(language="en"))[0]
    plain = evaluate_all(replace(data, weight=None), [study.config.hypotheses[-1]])[0]
    assert [int(x) for x in plain.table[1][:2]] == [unweighted.row("top2").counts[0], unweighted.columns[0].base]


def test_every_table_number_in_the_report_is_the_engine_s(demo_study_dir: Path, tmp_path: Path) -> None:
    from survey_tui.analysis.tables import table_markdown
    from survey_tui.report.full_report import build_report, to_markdown

    study = open_study(demo_study_dir)
    md = to_markdown(build_report(study, "zh-TW"))
    plan = read_tab_plan(demo_study_dir / "tabs" / "main.yaml", "tabs/main.yaml")
    tables = run_plan(plan, load_dataset(study), "zh-TW")
    planned = {t.id for t in plan.tables if t.objective}
    for table in tables:
        if table.id in planned:
            assert table_markdown(table, "zh-TW") in md, table.title
    # and the profile's frequencies equal the engine's
    assert re.search(r"Base 樣本數: \d+ of \d+", md)
