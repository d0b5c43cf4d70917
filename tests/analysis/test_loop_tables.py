"""The demo's brand loop in the data, the tables and the exports: names, labels, stacked and per-item tables."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pyreadstat
import pytest

from survey_tui.analysis.dataset import load_dataset
from survey_tui.analysis.loops import stack_loop
from survey_tui.analysis.tables import TableOptions, banner_tables
from survey_tui.core.study import open_study
from survey_tui.io.export import ExportOptions, run_export


@pytest.fixture(scope="module")
def study_dir(demo_study_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("loop-study") / "study"
    shutil.copytree(demo_study_dir, target, ignore=shutil.ignore_patterns("exports"))
    return target


def test_iteration_variables_are_named_by_brand_code_and_labelled_with_the_brand(study_dir: Path) -> None:
    dataset = load_dataset(open_study(study_dir))
    fam = [name for name in dataset.variables if name.startswith("l1_fam_")]
    assert fam == [f"l1_fam_{code}" for code in range(1, 10)]  # 96 "other brand" is excluded from the loop
    assert dataset.variable("l1_fam_2").label["zh-TW"] == "請問您對「50嵐」有多了解？"
    image = dataset.variable("l2_image_2_3")
    assert (image.loop, image.loop_question, image.loop_item, image.choice_code) == ("brand_loop", "l2_image", 2, 3)
    assert image.label["en"] == "Which of these describe 50 Lan?: Young and trendy"
    assert image.relevance == "(selected(a2_aided, 2)) and (l1_fam_2 >= 2)"  # what the codebook says
    # an iteration holds answers exactly for the respondents who had heard of that brand
    frame = dataset.frame
    for code in range(1, 10):
        asked = frame.filter(pl.col(f"l1_fam_{code}").is_not_null()).height
        heard = frame.filter(pl.col(f"a2_aided_{code}") == 1).height
        assert asked == heard and heard > 0, code


def test_a_stacked_table_counts_iterations_and_equals_the_per_item_tables_added_up(study_dir: Path) -> None:
    dataset = load_dataset(open_study(study_dir))
    options = TableOptions(weight=None, language="en")
    stacked = banner_tables(dataset, ["l1_fam"], ["brand_loop"], options)[0]
    per_item = [banner_tables(dataset, [f"l1_fam_{code}"], ["s3"], options)[0] for code in range(1, 10)]
    assert stacked.columns[0].unweighted == sum(t.columns[0].unweighted for t in per_item)
    assert stacked.columns[0].unweighted > dataset.n  # iterations, not respondents
    for code in range(1, 5):
        assert stacked.row("code", code).counts[0] == sum(t.row("code", code).counts[0] for t in per_item)
    # the brand banner's column for brand 2 is brand 2's own iteration
    column = stacked.column_index("brand_loop", 2)
    two = per_item[1]
    assert stacked.columns[column].unweighted == two.columns[0].unweighted
    assert stacked.row("code", 3).counts[column] == two.row("code", 3).counts[0]
    assert "counts Brand iterations" in stacked.base_rule
    long = stack_loop(dataset, "brand_loop").frame
    assert long.height == stacked.columns[0].unweighted
    assert long.select(pl.struct("interview_id", "brand_loop").is_unique().all()).item()


def test_a_stacked_multi_and_the_loop_banner_in_the_tab_plan(study_dir: Path) -> None:
    from survey_tui.analysis.tabplan import run_table
    from survey_tui.core.plan.tabplan import read_tab_plan

    study = open_study(study_dir)
    dataset = load_dataset(study)
    plan = read_tab_plan(study_dir / "tabs" / "main.yaml", "tabs/main.yaml")
    table = next(t for t in plan.tables if t.id == "T11")
    fam, image = run_table(plan, table, dataset, "en")
    assert fam.stub == "l1_fam" and image.stub == "l2_image"
    long = stack_loop(dataset, "brand_loop").frame
    asked = long.filter(pl.col("l2_image_1").is_not_null())
    weights = asked["weight"]
    assert image.columns[0].unweighted == asked.height
    trendy = image.row("code", 3)
    assert trendy.counts[0] == pytest.approx(float((asked["l2_image_3"].cast(pl.Float64) * weights).sum()))


def test_a_table_mixing_a_loop_question_with_another_is_refused_by_check(study_dir: Path) -> None:
    from survey_tui.core.plan.tabplan import check_tab_plan, read_tab_plan

    study = open_study(study_dir)
    plan = read_tab_plan(study_dir / "tabs" / "main.yaml", "tabs/main.yaml")
    assert check_tab_plan(plan, [study.load_instrument()]) == []
    bad = plan.model_copy(deep=True)
    bad.tables[0].stub = ["u1_freq", "l1_fam"]
    bad.tables[1].banner = ["brand"]
    found = [str(p) for p in check_tab_plan(bad, [study.load_instrument()])]
    assert any("T1" in p and "one loop" in p for p in found), found
    assert any("T2" in p and "banner brand is the items of loop 'brand_loop'" in p for p in found), found


def test_every_export_carries_the_loop_variables_with_labels_and_sets(study_dir: Path) -> None:
    study = open_study(study_dir)
    run_export(study, ExportOptions())
    dataset = load_dataset(study)
    exports = study_dir / "exports"
    frame, info = pyreadstat.read_sav(str(exports / "bubble_tea_brand_health.sav"), user_missing=True)
    labels = dict(zip(info.column_names, info.column_labels, strict=True))
    assert labels["l1_fam_2"] == "請問您對「50嵐」有多了解？"
    assert info.variable_value_labels["l1_fam_2"][4.0] == "非常了解"
    assert info.mr_sets["l2_image_2"]["variable_list"] == [f"l2_image_2_{c}" for c in (1, 2, 3, 4, 97)]
    wanted = dataset.frame["l1_fam_2"].cast(pl.Float64).to_list()
    got = [None if v != v else v for v in frame["l1_fam_2"].tolist()]  # NaN is pyreadstat's missing
    assert got == wanted
    dta, dta_info = pyreadstat.read_dta(str(exports / "bubble_tea_brand_health.dta"))
    dta_labels = dict(zip(dta_info.column_names, dta_info.column_labels, strict=True))
    assert "50" in dta_labels["l1_fam_2"] and dta["l2_image_2_3"].sum() == dataset.frame["l2_image_2_3"].sum()
    parquet = pl.read_parquet(exports / "bubble_tea_brand_health.parquet")
    assert parquet["l2_image_9_97"].to_list() == dataset.frame["l2_image_9_97"].to_list()
    sss = (exports / "bubble_tea_brand_health.sss").read_text("utf-8")
    assert 'name="l1_fam_2"' in sss or "l1_fam_2" in sss
    sps = (exports / "bubble_tea_brand_health.sps").read_text("utf-8")
    assert "/MDGROUP NAME=$l2_image_2" in sps
    codebook = (exports / "bubble_tea_brand_health_codebook.md").read_text("utf-8")
    assert "l1_fam_2" in codebook and "50嵐" in codebook
