"""The study plan: schema, located messages for bad input, cross-checks against instruments, sample size,
and editing study.yaml without losing comments."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest

from survey_tui.core.plan.edit import PlanStore
from survey_tui.core.plan.model import (
    Hypothesis,
    Objective,
    PlanFields,
    Source,
    TestKind,
    check_plan,
    instrument_variables,
    margin_for_sample_size,
    sample_size_for_margin,
)
from survey_tui.core.problems import LoadError
from survey_tui.core.study import check_study, init_study, open_study
from survey_tui.demo.build import STUDY_YAML
from tests.plan_study import make_plan_study


@pytest.fixture
def plan_study(tmp_path: Path) -> Path:
    return make_plan_study(tmp_path / "study")


def _errors(root: Path) -> list:
    return [p for p in check_study(root) if p.severity == "error"]


# -- schema ------------------------------------------------------------------------------------


def test_a_study_without_a_plan_still_loads(tmp_path: Path) -> None:
    study = init_study(tmp_path / "s", "Old study")
    reopened = open_study(study.root)
    assert reopened.config.sources == [] and reopened.config.hypotheses == []
    assert reopened.config.report_format.status == "draft"
    minimal = tmp_path / "m"
    minimal.mkdir()
    (minimal / "study.yaml").write_text("title: Minimal\nsources:\nbackground:\n", encoding="utf-8")
    assert open_study(minimal).config.background.context == ""


def test_the_demo_plan_loads_and_passes_check(plan_study: Path) -> None:
    config = open_study(plan_study).config
    assert len(config.sources) >= 5 and len(config.objectives) == 3 and len(config.hypotheses) >= 4
    assert config.report_format.approved and len(config.report_format.history) >= 3
    assert {b.id for b in config.analysis_plan.banners} >= {"gender", "region", "age"}
    h1 = next(h for h in config.hypotheses if h.id == "H1")
    assert h1.test is TestKind.DIFFERENCE_OF_PROPORTIONS and h1.codes == [1, 2, 3]
    assert [g.when for g in h1.groups] == ["s2 < 30", "s2 >= 30"]
    h4 = next(h for h in config.hypotheses if h.id == "H4")
    assert h4.expected == "no_difference" and h4.outcome == "b5_nps"
    assert _errors(plan_study) == []
    assert [p for p in check_study(plan_study) if "plan" in p.message] == []


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("accessed: 2026-09-03", "accessed: 2026-13-03", ["not a real date", "2026-13-03"]),
        ("accessed: 2026-09-03", "accessed: 3 Sept 2026", ["sources[1].accessed", "date"]),
        ("kind: news", "kind: newspaper", ["sources[4].kind", "'newspaper'"]),
        ("test: correlation", "test: pearson", ["hypotheses[4].test", "correlation"]),
        ("  - id: S2\n", "  - id: S1\n", ["'S1' is used twice"]),
        (
            "    objective: O3\n    test: difference_of_means",
            "    objective: O9\n    test: difference_of_means",
            ["objective 'O9'", "H3"],
        ),
    ],
)
def test_bad_input_gets_one_located_message(plan_study: Path, old: str, new: str, words: list[str]) -> None:
    text = (plan_study / "study.yaml").read_text(encoding="utf-8")
    assert old in text
    bad = text.replace(old, new, 1)
    (plan_study / "study.yaml").write_text(bad, encoding="utf-8")
    errors = _errors(plan_study)
    assert len(errors) == 1, errors
    problem = errors[0]
    assert problem.file == "study.yaml"
    for word in words:
        assert word in str(problem)
    assert problem.line == text[: text.index(old)].count("\n") + 1  # the line that was changed


# -- cross-checks ------------------------------------------------------------------------------


def _plan(**kw) -> PlanFields:  # type: ignore[no-untyped-def]
    base = {"objectives": [{"id": "O1", "text": "Know the brands"}]}
    base.update(kw)
    return PlanFields.model_validate(base)


def _hyp(**kw) -> dict:  # type: ignore[type-arg]
    h = {
        "id": "H1",
        "statement": "s",
        "objective": "O1",
        "test": "difference_of_proportions",
        "outcome": "aware",
        "codes": [1],
        "groups": [{"label": "young", "when": "age < 30"}, {"label": "old", "when": "age >= 30"}],
    }
    h.update(kw)
    return h


def test_variables_cover_questions_grid_items_and_multi_columns(small) -> None:  # type: ignore[no-untyped-def]
    variables = instrument_variables([small])
    assert variables["sat_taste"].kind == "grid_item"
    assert variables["aware_1"].kind == "multi_column"
    assert variables["aware"].kind == "multi" and 97 in variables["aware"].codes
    assert variables["age"].kind == "numeric" and "thanks" not in variables


def test_a_well_formed_hypothesis_has_no_problem(small) -> None:  # type: ignore[no-untyped-def]
    assert check_plan(_plan(hypotheses=[_hyp()]), [small]) == []
    assert check_plan(_plan(hypotheses=[_hyp(outcome="aware_1", codes=[])]), [small]) == []


@pytest.mark.parametrize(
    ("hypothesis", "words"),
    [
        (_hyp(outcome="awareness"), ["no instrument has a variable 'awareness'", "did you mean 'aware'"]),
        (_hyp(test="difference_of_means", outcome="drinks", codes=[]), ["numeric outcome", "single-choice"]),
        (_hyp(test="correlation", outcome="spend", by="why", groups=[], codes=[]), ["numeric second", "open text"]),
        (_hyp(codes=[]), ["say which codes of aware count"]),
        (_hyp(codes=[5]), ["aware has no code 5"]),
        (_hyp(test="share_vs_threshold", groups=[]), ["needs a threshold"]),
        (
            _hyp(groups=[{"label": "young", "when": "agee < 30"}, {"label": "old", "when": "age >= 30"}]),
            ["names 'agee'"],
        ),
        (
            _hyp(groups=[{"label": "young", "when": "age <"}, {"label": "old", "when": "age >= 30"}]),
            ["expression 'age <'"],
        ),
        (_hyp(groups=[], by="spend"), ["coded groups", "spend is numeric"]),
    ],
)
def test_cross_checks_find_what_does_not_fit(small, hypothesis: dict, words: list[str]) -> None:  # type: ignore[no-untyped-def]
    problems = [p for p in check_plan(_plan(hypotheses=[hypothesis]), [small]) if p.severity == "error"]
    assert len(problems) == 1, problems
    for word in words:
        assert word in problems[0].message + (problems[0].hint or "")


def test_an_objective_nothing_answers_is_a_warning(small) -> None:  # type: ignore[no-untyped-def]
    plan = _plan(objectives=[{"id": "O1", "text": "a"}, {"id": "O2", "text": "b"}], hypotheses=[_hyp()])
    problems = check_plan(plan, [small])
    assert [(p.severity, p.where) for p in problems] == [("warning", "objectives[1]")]
    assert "O2 has no hypothesis" in problems[0].message


def test_planned_tables_are_checked(small) -> None:  # type: ignore[no-untyped-def]
    plan = _plan(
        analysis_plan={
            "banners": [
                {"id": "age", "groups": [{"label": "young", "when": "age < 30"}]},
                {"id": "sp", "variable": "spend"},
            ],
            "tables": [
                {"id": "T1", "objective": "O1", "stub": ["aware"], "banners": ["age", "sex"]},
                {"id": "T2", "objective": "O1", "stub": ["drinks"], "statistic": "mean"},
                {"id": "T3", "objective": "O7", "stub": ["nothere"]},
            ],
        }
    )
    messages = [p.message for p in check_plan(plan, [small])]
    assert any("banner sp: spend is numeric" in m for m in messages)
    assert any("uses banner 'sex'" in m for m in messages)
    assert any("a mean of drinks" in m for m in messages)
    assert any("objective 'O7'" in m for m in messages)
    assert any("'nothere'" in m for m in messages)
    assert len(messages) == 5


def test_without_instruments_only_the_plan_itself_is_checked() -> None:
    plan = _plan(hypotheses=[_hyp(outcome="anything"), _hyp(objective="O5")])
    messages = [p.message for p in check_plan(plan, [])]
    assert any("'H1' is used twice" in m for m in messages)
    assert any("objective 'O5'" in m for m in messages)
    assert not any("no instrument" in m for m in messages)


# -- sample size -------------------------------------------------------------------------------


def test_textbook_sample_sizes() -> None:
    assert sample_size_for_margin(0.05) == 385  # ±5% at 95%, p = 0.5
    assert sample_size_for_margin(0.03) == 1068
    assert sample_size_for_margin(0.05, confidence=0.99) == 664
    assert sample_size_for_margin(0.05, p=0.2) == 246
    assert sample_size_for_margin(0.05, population=1000) == 278  # finite-population correction
    assert sample_size_for_margin(0.05, population=100) == 80


def test_margin_from_sample_size_inverts_the_formula() -> None:
    z = 1.959963984540054
    assert margin_for_sample_size(400) == pytest.approx(z * math.sqrt(0.25 / 400))
    assert margin_for_sample_size(385) <= 0.05 < margin_for_sample_size(384)
    with_fpc = margin_for_sample_size(278, population=1000)
    assert with_fpc == pytest.approx(z * math.sqrt(0.25 / 278) * math.sqrt(722 / 999))
    assert with_fpc <= 0.05 < margin_for_sample_size(277, population=1000)
    assert margin_for_sample_size(1000, population=1000) == 0.0


@pytest.mark.parametrize(
    "call",
    [
        lambda: sample_size_for_margin(0),
        lambda: sample_size_for_margin(0.05, confidence=1.2),
        lambda: sample_size_for_margin(0.05, p=1.0),
        lambda: margin_for_sample_size(0),
        lambda: margin_for_sample_size(50, population=10),
    ],
)
def test_impossible_sample_size_inputs_are_refused(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        call()


# -- editing study.yaml ------------------------------------------------------------------------


def test_adding_a_source_keeps_comments_and_order(plan_study: Path) -> None:
    before = (plan_study / "study.yaml").read_text(encoding="utf-8")
    source = Source(
        id="S7",
        title="台灣連鎖暨加盟協會 年鑑",
        accessed=date(2026, 9, 12),
        kind="industry_report",
        findings=["加盟店占飲料店四成"],
        tags=["市場規模 market size"],
    )
    config = PlanStore(plan_study).upsert("sources", source)
    assert config.sources[-1].id == "S7"
    after = (plan_study / "study.yaml").read_text(encoding="utf-8")
    for line in before.splitlines():
        if line.lstrip().startswith("#"):
            assert line in after
    assert "accessed: 2026-09-12" in after and "'2026" not in after
    assert open_study(plan_study).config.sources[-1].findings[0].text == "加盟店占飲料店四成"
    assert not list(plan_study.glob(".study.yaml.*"))  # no temporary file left behind


def test_editing_replaces_in_place_and_removing_deletes(plan_study: Path) -> None:
    store = PlanStore(plan_study)
    config, _ = store.load()
    h2 = next(h for h in config.hypotheses if h.id == "H2")
    store.upsert("hypotheses", h2.model_copy(update={"alpha": 0.01}), replace_id="H2")
    config, _ = store.load()
    assert [h.id for h in config.hypotheses][:3] == ["H1", "H2", "H3"]
    assert next(h for h in config.hypotheses if h.id == "H2").alpha == 0.01
    store.remove("hypotheses", "H6")
    assert "H6" not in [h.id for h in store.load()[0].hypotheses]


@pytest.mark.filterwarnings("ignore::UserWarning")  # model_construct skips validation on purpose
def test_an_edit_that_would_break_the_file_is_refused_and_nothing_changes(plan_study: Path) -> None:
    store = PlanStore(plan_study)
    before = (plan_study / "study.yaml").read_bytes()
    with pytest.raises(LoadError, match="already used"):
        store.upsert("objectives", Objective(id="O1", text="again"))
    bad = Hypothesis.model_construct(id="H9", statement="x", objective="O1", test="t_test", outcome="s2")
    with pytest.raises(LoadError):
        store.upsert("hypotheses", bad)
    assert (plan_study / "study.yaml").read_bytes() == before


def test_report_status_changes_keep_a_history(plan_study: Path) -> None:
    store = PlanStore(plan_study)
    config = store.change_report_status("changes_requested", "林怡君", date(2026, 9, 20), "加一章")
    rf = config.report_format
    assert rf.status == "changes_requested" and not rf.approved_by and rf.approved_on is None
    assert (rf.history[-1].status, rf.history[-1].note) == ("changes_requested", "加一章")
    config = store.change_report_status("approved", "林怡君", date(2026, 9, 22))
    assert config.report_format.approved_by == "林怡君" and config.report_format.approved_on == date(2026, 9, 22)
    assert len(config.report_format.history) == len(rf.history) + 1


def test_demo_yaml_is_the_plan_source() -> None:
    assert "hypotheses:" in STUDY_YAML and "經濟部統計處" in STUDY_YAML
