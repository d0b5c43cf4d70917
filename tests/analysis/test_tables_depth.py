"""The table engine as an analyst signs it: the base rule, overlap-corrected tests, effective bases,
corrections, minimum test bases, summary rows and footnotes, each against a hand-worked example or
statsmodels/scipy."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from survey_tui.analysis.banner import BannerSpec, GroupSpec
from survey_tui.analysis.dataset import Dataset, Variable
from survey_tui.analysis.significance import effective_base, mean_test, proportion_test, significant
from survey_tui.analysis.tables import TableOptions, banner_tables, frequencies


def dataset(columns: dict[str, list], variables: list[Variable], floats: tuple[str, ...] = ()) -> Dataset:
    n = len(next(iter(columns.values())))
    frame = pl.DataFrame({"interview_id": list(range(1, n + 1)), **columns})
    frame = frame.with_columns([pl.col(c).cast(pl.Float64 if c in floats else pl.Int32) for c in columns])
    return Dataset(frame, {v.name: v for v in variables}, None, ["en"])  # type: ignore[arg-type]


def coded(name: str, codes: list[int], *, kind: str = "single", measure: str = "nominal", dk=(), na=()) -> Variable:
    labels = {c: {"en": f"code {c}"} for c in [*codes, *na]}
    for code in dk:
        labels[code] = {"en": "Don't know"}
    return Variable(name, name, kind, measure, {"en": name}, labels, {c: "dont_know" for c in dk}, na_codes=tuple(na))


def multi(name: str, codes: list[int]) -> list[Variable]:
    return [
        Variable(
            f"{name}_{c}",
            name,
            "multi",
            "nominal",
            {"en": f"{name}: c{c}"},
            {1: {"en": "Selected"}},
            choice_code=c,
            question_label={"en": name},
        )
        for c in codes
    ]


# -- the formulas, by hand ---------------------------------------------------------------------------


def test_overlap_corrected_proportions_by_hand() -> None:
    # Column A: 60 of 100; column B: 30 of 80; 40 respondents are in both.
    # p = (100 * .6 + 80 * .375) / 180 = .5
    # without overlap: var = .25 * (1/100 + 1/80) = .005625, z = .225 / .075 = 3.0
    # with overlap:    var = .25 * (1/100 + 1/80 - 2 * 40 / 8000) = .003125, z = .225 / .0559017 = 4.0249
    z0, _ = proportion_test(np.array(60.0), 100.0, 100.0, np.array(30.0), 80.0, 80.0)
    z1, p1 = proportion_test(np.array(60.0), 100.0, 100.0, np.array(30.0), 80.0, 80.0, 40.0)
    assert float(z0) == pytest.approx(3.0)
    assert float(z1) == pytest.approx(0.225 / math.sqrt(0.003125))
    assert float(p1) == pytest.approx(2 * stats.norm.sf(0.225 / math.sqrt(0.003125)))


def test_effective_base_by_hand() -> None:
    # weights 1, 1, 2, 2: (1+1+2+2)^2 / (1+1+4+4) = 36 / 10 = 3.6
    assert effective_base(np.array([1.0, 1.0, 2.0, 2.0])) == pytest.approx(3.6)
    assert effective_base(np.ones(250)) == pytest.approx(250.0)


def test_weighted_test_uses_the_effective_base() -> None:
    # Weighted bases 100 (sum of squares 200: e = 50) and 100 (e = 100); 60 and 40 weighted "yes".
    # p = (50 * .6 + 100 * .4) / 150 = .4667; var = p(1-p) * (200/100^2 + 100/100^2) = .2489 * .03
    z, _ = proportion_test(np.array(60.0), 100.0, 200.0, np.array(40.0), 100.0, 100.0)
    pooled = (50 * 0.6 + 100 * 0.4) / 150
    assert float(z) == pytest.approx(0.2 / math.sqrt(pooled * (1 - pooled) * 0.03))


def test_welch_without_overlap_equals_scipy() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(3, 1, 80), rng.normal(3.4, 1.3, 60)
    t, p = mean_test(a.mean(), a.std(ddof=1), 80.0, 80.0, b.mean(), b.std(ddof=1), 60.0, 60.0)
    ref = stats.ttest_ind(a, b, equal_var=False)
    assert float(t) == pytest.approx(ref.statistic) and float(p) == pytest.approx(ref.pvalue)
    t, p = mean_test(a.mean(), a.std(ddof=1), 80.0, 80.0, b.mean(), b.std(ddof=1), 60.0, 60.0, equal_var=True)
    ref = stats.ttest_ind(a, b, equal_var=True)
    assert float(t) == pytest.approx(ref.statistic) and float(p) == pytest.approx(ref.pvalue)


@pytest.mark.parametrize(("ours", "theirs"), [("bonferroni", "bonferroni"), ("holm", "holm"), ("bh", "fdr_bh")])
def test_corrections_agree_with_statsmodels(ours: str, theirs: str) -> None:
    rng = np.random.default_rng(7)
    pvalues = rng.uniform(0, 0.08, size=(200, 6))
    pvalues[::7, 2] = pvalues[::7, 4]  # ties
    tested = rng.random((200, 6)) > 0.2  # some pairs untested (a column under the minimum test base)
    got = significant(pvalues, tested, 0.05, ours)
    for r in range(200):
        family = np.nonzero(tested[r])[0]
        expected = np.zeros(6, dtype=bool)
        if len(family):
            expected[family] = multipletests(pvalues[r, family], alpha=0.05, method=theirs)[0]
        assert list(got[r]) == list(expected), r


# -- the base rule -----------------------------------------------------------------------------------


def test_dont_know_is_outside_the_base_unless_total_asked() -> None:
    # region 1: answers 1, 1, 2, DK, DK  -> substantive base 3 (66.7 % code 1); total asked 5 (40 %)
    data = dataset(
        {"g": [1] * 5 + [2] * 5, "y": [1, 1, 2, 98, 98, 1, 2, 2, 2, None]},
        [coded("g", [1, 2]), coded("y", [1, 2], dk=[98])],
    )
    table = banner_tables(data, ["y"], ["g"], TableOptions(language="en"))[0]
    a = table.column_index("g", 1)
    assert table.columns[a].base == 3
    assert table.row("code", 1).values[a] == pytest.approx(200 / 3)
    outside = table.row("missing", 98)
    assert outside.counts[a] == 2 and np.isnan(outside.values[a])
    asked = banner_tables(data, ["y"], ["g"], TableOptions(language="en", dk_in_base=True))[0]
    assert asked.columns[a].base == 5 and asked.row("code", 1).values[a] == pytest.approx(40.0)
    assert "don't know" in table.footnote()[0].lower()


def test_not_applicable_code_is_out_of_bases_means_and_total_asked() -> None:
    # a 1-5 satisfaction with 97 "not used" (missing: true): mean of 1, 5, 5 = 3.667, base 3
    data = dataset(
        {"g": [1, 1, 1, 1, 2, 2], "s": [1, 5, 5, 97, 97, 97]},
        [coded("g", [1, 2]), coded("s", [1, 2, 3, 4, 5], kind="scale", measure="ordinal", na=[97])],
    )
    for dk_in_base in (False, True):
        table = banner_tables(data, ["s"], ["g"], TableOptions(language="en", dk_in_base=dk_in_base))[0]
        total = table.column_index(None)
        assert table.columns[total].base == 3
        assert table.row("mean").values[total] == pytest.approx(11 / 3)
        assert table.row("top2").values[total] == pytest.approx(200 / 3)
        assert table.row("missing", 97).counts[total] == 3
    (freq,) = frequencies(data, ["s"], TableOptions(language="en"))
    assert freq.valid == 3 and {r.code: r.valid_percent for r in freq.rows}[97] is None


def test_multi_frequency_keeps_one_base_per_column() -> None:
    # asked 4 of 6 (2 not asked); of those 4, code 1 chosen by 1 -> 25 % of the base, 16.7 % of all
    variables = multi("m", [1, 2])
    data = dataset({"m_1": [1, 0, 0, 0, None, None], "m_2": [0, 1, 1, 1, None, None]}, variables)
    (freq,) = frequencies(data, ["m"], TableOptions(language="en"))
    rows = {r.code: r for r in freq.rows}
    assert freq.valid == 4
    assert rows[1].valid_percent == pytest.approx(25.0) and rows[1].percent == pytest.approx(100 / 6)
    not_asked = freq.rows[-1]
    assert not_asked.missing and not_asked.valid_percent is None and not_asked.count == 2


def test_numeric_with_special_codes_gets_mean_median_and_no_row_per_amount() -> None:
    data = dataset(
        {"g": [1, 1, 1, 2, 2, 2, 2], "spend": [100.0, 200.0, 98.0, 50.0, 60.0, 70.0, 99.0]},
        [
            coded("g", [1, 2]),
            Variable(
                "spend",
                "spend",
                "numeric",
                "scale",
                {"en": "Spend"},
                {98: {"en": "Don't know"}, 99: {"en": "Refused"}},
                {98: "dont_know", 99: "refused"},
            ),
        ],
        floats=("spend",),
    )
    table = banner_tables(data, ["spend"], ["g"], TableOptions(language="en"))[0]
    a, b = table.column_index("g", 1), table.column_index("g", 2)
    assert [r.kind for r in table.rows] == ["mean", "sd", "median", "missing", "missing"]
    assert table.row("mean").values[a] == pytest.approx(150.0) and table.row("median").values[b] == 60.0
    assert table.columns[a].base == 2 and table.row("missing", 98).counts[a] == 1


def test_grid_items_get_top2_and_mean_rows() -> None:
    data = dataset(
        {"g": [1, 2, 1, 2], "grid_taste": [5, 4, 1, 98]},
        [coded("g", [1, 2]), coded("grid_taste", [1, 2, 3, 4, 5], kind="grid", measure="ordinal", dk=[98])],
    )
    table = banner_tables(data, ["grid_taste"], ["g"], TableOptions(language="en"))[0]
    kinds = [r.kind for r in table.rows]
    assert {"top2", "bottom2", "mean", "sd"} <= set(kinds)
    assert table.row("mean").values[0] == pytest.approx(10 / 3)


# -- banners that share respondents ------------------------------------------------------------------


def test_overlapping_groups_are_not_made_exclusive_and_tests_allow_for_it() -> None:
    rng = np.random.default_rng(11)
    age = rng.integers(18, 70, 600)
    y = np.where(rng.random(600) < np.where(age < 35, 0.55, 0.35), 1, 2)
    data = dataset(
        {"age": age.tolist(), "y": y.tolist()},
        [Variable("age", "age", "numeric", "scale", {"en": "Age"}), coded("y", [1, 2])],
    )
    groups = BannerSpec(id="band", groups=(GroupSpec("under 40", "age < 40"), GroupSpec("30 and over", "age >= 30")))
    table = banner_tables(data, ["y"], [groups], TableOptions(language="en"))[0]
    first, second = table.columns[1], table.columns[2]
    assert first.base == int((age < 40).sum()) and second.base == int((age >= 30).sum())
    assert table.overlapping == ["band"]
    # the letter follows the overlap-corrected z, computed here by hand from the raw data
    x1 = ((age < 40) & (y == 1)).sum()
    x2 = ((age >= 30) & (y == 1)).sum()
    n1, n2, n_o = (age < 40).sum(), (age >= 30).sum(), ((age < 40) & (age >= 30)).sum()
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2 - 2 * n_o / (n1 * n2)))
    letters = table.row("code", 1).letters
    assert ("B" in letters[1]) == (2 * stats.norm.sf(abs(z)) < 0.05 and z > 0)


def test_multi_coded_banner_counts_each_choice_and_corrects_for_overlap() -> None:
    # 4 respondents: aware of brand 1 only, both, brand 2 only, none
    variables = [*multi("aware", [1, 2]), coded("y", [1, 2])]
    data = dataset({"aware_1": [1, 1, 0, 0] * 30, "aware_2": [0, 1, 1, 0] * 30, "y": [1, 1, 2, 2] * 30}, variables)
    table = banner_tables(data, ["y"], ["aware"], TableOptions(language="en"))[0]
    b1, b2 = table.column_index("aware", 1), table.column_index("aware", 2)
    assert table.columns[b1].base == 60 and table.columns[b2].base == 60
    assert table.row("code", 1).values[b1] == pytest.approx(100.0) and table.row("code", 1).values[b2] == 50.0
    # by hand: p1 = 1, p2 = .5, pooled .75, n_o = 30: var = .1875 * (1/60 + 1/60 - 2*30/3600) = .003125
    z = 0.5 / math.sqrt(0.1875 * (2 / 60 - 60 / 3600))
    assert 2 * stats.norm.sf(z) < 0.05 and "B" in table.row("code", 1).letters[b1]


def test_compare_total_marks_use_the_overlap() -> None:
    data = dataset(
        {"g": [1] * 100 + [2] * 100, "y": [1] * 70 + [2] * 30 + [1] * 30 + [2] * 70},
        [coded("g", [1, 2]), coded("y", [1, 2])],
    )
    table = banner_tables(data, ["y"], ["g"], TableOptions(language="en", compare_total=True))[0]
    row = table.row("code", 1)
    # column 1: 70 % vs Total 50 %: overlap 100 of 200: var = .25*(1/100 + 1/200 - 2*100/20000) = .00125
    assert row.total_marks[1] == "▲" and row.total_marks[2] == "▼"
    assert any("Total" in line for line in table.footnote())


def test_no_letters_against_columns_under_the_minimum_test_base() -> None:
    data = dataset(
        {"g": [1] * 200 + [2] * 9, "y": [1] * 40 + [2] * 160 + [1] * 9}, [coded("g", [1, 2]), coded("y", [1, 2])]
    )
    table = banner_tables(data, ["y"], ["g"], TableOptions(language="en"))[0]
    assert all(not letters for r in table.rows for letters in r.letters)
    relaxed = banner_tables(data, ["y"], ["g"], TableOptions(language="en", min_test_base=5))[0]
    assert "A" in relaxed.row("code", 1).letters[2]


def test_weighted_table_shows_both_bases_and_says_its_weight() -> None:
    data = dataset(
        {"g": [1, 1, 2, 2] * 50, "y": [1, 2, 1, 1] * 50, "weight": [2.0, 1.0, 1.0, 1.0] * 50},
        [coded("g", [1, 2]), coded("y", [1, 2])],
        floats=("weight",),
    )
    table = banner_tables(data, ["y"], ["g"], TableOptions(weight="weight", language="en"))[0]
    a = table.column_index("g", 1)
    assert table.columns[a].base == pytest.approx(150.0) and table.columns[a].unweighted == 100
    assert table.columns[a].effective == pytest.approx(150**2 / 250)
    assert any("weight" in line.lower() for line in table.footnote())
    from survey_tui.analysis.tables import table_markdown

    text = table_markdown(table, "en")
    assert "Base (weighted)" in text and "Base (unweighted)" in text and "Filter: none." in text


def test_not_applicable_never_enters_pilot_alpha() -> None:
    """One respondent answering 97 "not used" everywhere used to take alpha from .95 to .09."""
    from survey_tui.analysis.pilot import _grid_stats, cronbach_alpha
    from survey_tui.core.instrument.loader import load_instrument

    root = Path(__file__).resolve().parents[2]
    instrument = load_instrument(root / "instruments" / "bubble_tea_brand_health.yaml")
    question = (
        instrument.question("b4_sat")
        if hasattr(instrument, "question")
        else next(q for q in instrument.questions if q.name == "b4_sat")
    )
    names = [item.name for item in question.items or []]
    rng = np.random.default_rng(4)
    rows = []
    for _ in range(30):
        level = int(rng.integers(1, 6))
        rows.append(({n: int(min(5, max(1, level + rng.integers(-1, 2)))) for n in names}, None))
    clean = _grid_stats(question, rows, "en")
    with_na = _grid_stats(question, [*rows, ({n: 97 for n in names}, None)], "en")
    assert clean.alpha is not None and clean.alpha > 0.8
    assert with_na.alpha == pytest.approx(clean.alpha) and with_na.complete == clean.complete
    matrix = [[float(v[n]) for n in names] for v, _ in rows]
    assert clean.alpha == pytest.approx(cronbach_alpha(matrix))
