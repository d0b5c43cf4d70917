"""Significance tests of tables and hypotheses against scipy and textbook values."""

from __future__ import annotations

from itertools import combinations
from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest
from scipy import stats

from survey_tui.analysis.dataset import Dataset, Variable
from survey_tui.analysis.hypotheses import _norm_sf, evaluate, pearson
from survey_tui.analysis.tables import TableOptions, banner_tables, frequencies, letters_for


def make_dataset(columns: dict[str, list], variables: list[Variable]) -> Dataset:
    frame = pl.DataFrame({"interview_id": list(range(1, len(next(iter(columns.values()))) + 1)), **columns})
    frame = frame.with_columns([pl.col(c).cast(pl.Int32) for c in columns])
    return Dataset(frame, {v.name: v for v in variables}, None, ["en"])  # type: ignore[arg-type]


def coded(name: str, codes: list[int], measure: str = "nominal", kind: str = "single", missing=None) -> Variable:
    labels = {c: {"en": f"code {c}"} for c in codes}
    for code in missing or {}:
        labels[code] = {"en": "Don't know"}
    return Variable(name, name, kind, measure, {"en": name}, labels, dict(missing or {}))


def two_group_dataset(yes_a: int, n_a: int, yes_b: int, n_b: int) -> Dataset:
    group = [1] * n_a + [2] * n_b
    outcome = [1] * yes_a + [2] * (n_a - yes_a) + [1] * yes_b + [2] * (n_b - yes_b)
    return make_dataset({"g": group, "y": outcome}, [coded("g", [1, 2]), coded("y", [1, 2])])


def test_textbook_two_proportions_letter_at_95_not_99() -> None:
    # 45/100 vs 30/100: pooled p = .375, z = .15 / sqrt(.375 * .625 * .02) = 2.191 (p = .0285)
    data = two_group_dataset(45, 100, 30, 100)
    at95 = banner_tables(data, ["y"], ["g"], TableOptions(level=0.95, language="en"))[0]
    at99 = banner_tables(data, ["y"], ["g"], TableOptions(level=0.99, language="en"))[0]
    a = at95.column_index("g", 1)
    assert at95.row("code", 1).letters[a] == "B"
    assert at95.row("code", 2).letters[at95.column_index("g", 2)] == "A"
    assert at99.row("code", 1).letters[a] == ""
    assert at95.row("code", 1).values[a] == pytest.approx(45.0)


def test_letters_agree_with_scipy_chi_square_for_every_pair() -> None:
    rng = np.random.default_rng(3)
    group = rng.integers(1, 5, 800)
    outcome = np.where(rng.random(800) < 0.2 + 0.08 * group, 1, rng.integers(2, 4, 800))
    data = make_dataset({"g": group.tolist(), "y": outcome.tolist()}, [coded("g", [1, 2, 3, 4]), coded("y", [1, 2, 3])])
    for bonferroni in (False, True):
        table = banner_tables(data, ["y"], ["g"], TableOptions(bonferroni=bonferroni, language="en"))[0]
        alpha = 0.05 / 6 if bonferroni else 0.05
        for code in (1, 2, 3):
            row = table.row("code", code)
            for i, j in combinations([1, 2, 3, 4], 2):
                ci, cj = table.column_index("g", i), table.column_index("g", j)
                xi, ni = int(((group == i) & (outcome == code)).sum()), int((group == i).sum())
                xj, nj = int(((group == j) & (outcome == code)).sum()), int((group == j).sum())
                p = stats.chi2_contingency([[xi, ni - xi], [xj, nj - xj]], correction=False).pvalue
                letter_i, letter_j = table.columns[ci].letter, table.columns[cj].letter
                expected_i = p < alpha and xi / ni > xj / nj
                expected_j = p < alpha and xj / nj > xi / ni
                assert (letter_j in row.letters[ci]) == expected_i, (code, i, j, p)
                assert (letter_i in row.letters[cj]) == expected_j, (code, i, j, p)


def test_mean_letters_agree_with_scipy_welch() -> None:
    rng = np.random.default_rng(5)
    group = rng.integers(1, 4, 600)
    score = np.clip(np.round(rng.normal(2.6 + 0.3 * group, 1.0)), 1, 5).astype(int)
    data = make_dataset(
        {"g": group.tolist(), "s": score.tolist()},
        [coded("g", [1, 2, 3]), coded("s", [1, 2, 3, 4, 5], "ordinal", "scale")],
    )
    table = banner_tables(data, ["s"], ["g"], TableOptions(language="en"))[0]
    mean_row = table.row("mean")
    for i, j in combinations([1, 2, 3], 2):
        a, b = score[group == i], score[group == j]
        result = stats.ttest_ind(a, b, equal_var=False)
        ci, cj = table.column_index("g", i), table.column_index("g", j)
        assert mean_row.values[ci] == pytest.approx(a.mean())
        assert table.row("sd").values[ci] == pytest.approx(a.std(ddof=1))
        higher, lower = (ci, cj) if a.mean() > b.mean() else (cj, ci)
        assert (table.columns[lower].letter in mean_row.letters[higher]) == (result.pvalue < 0.05)


def test_top2_nps_and_small_base() -> None:
    nps = [10, 9, 9, 8, 7, 6, 5, 0, 10, 3] * 4
    group = [1] * 20 + [2] * 20
    data = make_dataset(
        {"g": group, "nps": nps},
        [coded("g", [1, 2]), coded("nps", list(range(11)), "ordinal", "scale", {98: "dont_know"})],
    )
    table = banner_tables(data, ["nps"], ["g"], TableOptions(language="en"))[0]
    total = table.column_index(None)
    promoters, detractors = 16 / 40 * 100, 16 / 40 * 100  # 10, 9, 9, 10 and 6, 5, 0, 3 of every ten
    assert table.row("promoters").values[total] == pytest.approx(promoters)
    assert table.row("nps").values[total] == pytest.approx(promoters - detractors)
    # columns of 20 are flagged (< 100) and, under the minimum test base of 30, take no part in the letters
    assert all(c.small for c in table.columns) and not any(c.testable for c in table.columns[1:])
    assert table.columns[total].testable and not any(r.letters[1] or r.letters[2] for r in table.rows)
    at30 = banner_tables(data, ["nps"], ["g"], TableOptions(language="en", small_base=30))[0]
    assert all(c.small for c in at30.columns[1:]) and not at30.columns[total].small


def test_frequencies_valid_percent_excludes_dont_know() -> None:
    data = make_dataset({"q": [1, 1, 2, 98, None]}, [coded("q", [1, 2], missing={98: "dont_know"})])
    (freq,) = frequencies(data, ["q"], TableOptions(language="en"))
    rows = {r.code: r for r in freq.rows}
    assert (
        rows[1].count == 2
        and rows[1].percent == pytest.approx(40.0)
        and rows[1].valid_percent == pytest.approx(200 / 3)
    )
    assert rows[98].missing and rows[98].valid_percent is None
    assert freq.valid == 3 and freq.total == 5


def test_weighted_counts() -> None:
    data = make_dataset(
        {"g": [1, 1, 2, 2], "y": [1, 2, 1, 1], "weight": [2, 1, 1, 1]}, [coded("g", [1, 2]), coded("y", [1, 2])]
    )
    data.frame = data.frame.with_columns(pl.col("weight").cast(pl.Float64))
    table = banner_tables(data, ["y"], ["g"], TableOptions(weight="weight", language="en"))[0]
    a = table.column_index("g", 1)
    assert table.columns[a].base == pytest.approx(3.0)
    assert table.row("code", 1).values[a] == pytest.approx(200 / 3)


def test_level_must_be_90_95_or_99() -> None:
    with pytest.raises(ValueError, match="90, 95 or 99"):
        TableOptions(level=0.8)


def test_letters_continue_after_z() -> None:
    assert letters_for(28)[-3:] == ["Z", "AA", "AB"]


def hypothesis(**fields) -> SimpleNamespace:
    base = dict(
        id="H",
        statement="s",
        codes=[],
        by=None,
        groups=[],
        subset=None,
        expected="different",
        alpha=0.05,
        threshold=None,
    )
    return SimpleNamespace(**{**base, **fields})


def test_chi_square_textbook_value() -> None:
    # scipy's documented example: [[10, 10, 20], [20, 20, 20]] -> chi2 = 2.7778, df 2, p = 0.2494
    rows = [(1, 1)] * 10 + [(1, 2)] * 10 + [(1, 3)] * 20 + [(2, 1)] * 20 + [(2, 2)] * 20 + [(2, 3)] * 20
    data = make_dataset(
        {"g": [r[0] for r in rows], "y": [r[1] for r in rows]}, [coded("g", [1, 2]), coded("y", [1, 2, 3])]
    )
    result = evaluate(data, hypothesis(test="chi_square", outcome="y", by="g"))
    assert result.statistic == pytest.approx(2.7777778)
    assert result.df == 2 and result.p_value == pytest.approx(0.2494, abs=1e-4)
    assert result.verdict == "not supported"


def test_proportions_hypothesis_matches_textbook_z() -> None:
    data = two_group_dataset(45, 100, 30, 100)
    groups = [SimpleNamespace(label="a", when="g = 1"), SimpleNamespace(label="b", when="g = 2")]
    result = evaluate(
        data, hypothesis(test="difference_of_proportions", outcome="y", codes=[1], groups=groups, expected="higher")
    )
    assert result.statistic == pytest.approx(2.1909, abs=1e-4)
    assert result.p_value == pytest.approx(stats.norm.sf(2.1909), abs=1e-4)
    assert result.verdict == "supported"
    lower = evaluate(
        data, hypothesis(test="difference_of_proportions", outcome="y", codes=[1], groups=groups, expected="lower")
    )
    assert lower.verdict == "not supported"


def test_share_vs_threshold_textbook_binomial() -> None:
    # scipy's documented example: 3 of 15 against p = 0.1, greater -> p = 0.1841
    data = make_dataset({"y": [1] * 3 + [2] * 12}, [coded("y", [1, 2])])
    result = evaluate(
        data, hypothesis(test="share_vs_threshold", outcome="y", codes=[1], threshold=0.1, expected="higher")
    )
    assert result.p_value == pytest.approx(0.18406107)
    assert result.base == 15


def test_welch_and_correlation_match_scipy() -> None:
    rng = np.random.default_rng(9)
    g = rng.integers(1, 3, 200)
    x = rng.integers(1, 6, 200)
    y = np.clip(x + rng.integers(-1, 2, 200), 1, 5)
    data = make_dataset(
        {"g": g.tolist(), "x": x.tolist(), "y": y.tolist()},
        [
            coded("g", [1, 2]),
            coded("x", [1, 2, 3, 4, 5], "ordinal", "scale"),
            coded("y", [1, 2, 3, 4, 5], "ordinal", "scale"),
        ],
    )
    welch = evaluate(data, hypothesis(test="difference_of_means", outcome="y", by="g"))
    expected = stats.ttest_ind(y[g == 1], y[g == 2], equal_var=False)
    assert welch.statistic == pytest.approx(expected.statistic) and welch.p_value == pytest.approx(expected.pvalue)
    corr = evaluate(data, hypothesis(test="correlation", outcome="y", by="x", expected="higher"))
    assert corr.statistic == pytest.approx(stats.pearsonr(x, y).statistic) and corr.verdict == "supported"


def test_correlation_and_normal_tails_are_scipy_stats_to_the_last_bit() -> None:
    """The correlation and the normal tail areas skip importing scipy.stats; they must be its numbers exactly,
    for every alternative, on integer scale answers (ties, as surveys have) and on continuous data."""
    rng = np.random.default_rng(18)
    for n in (3, 4, 17, 250, 4000):
        for x, y in (
            (rng.integers(1, 11, n).astype(float), rng.integers(0, 6, n).astype(float)),
            (rng.normal(size=n), rng.normal(size=n) * 1e6 + 3e7),
        ):
            y = y + 0.3 * x * y.std() / max(x.std(), 1e-9)  # some correlation
            for alternative in ("two-sided", "less", "greater"):
                expected = stats.pearsonr(x, y, alternative=alternative)
                assert pearson(x, y, alternative) == (float(expected.statistic), float(expected.pvalue))
    assert all(np.isnan(pearson(np.ones(5), np.arange(5.0))))  # a constant sample: no correlation
    for z in (-8.5, -1.96, -0.3, 0.0, 0.3, 1.6448536269514722, 2.5758, 12.0):
        assert _norm_sf(z) == float(stats.norm.sf(z)) and _norm_sf(-z) == float(stats.norm.cdf(z))


def test_a_report_of_weighted_hypotheses_does_not_import_scipy_stats(demo_study_dir) -> None:  # type: ignore[no-untyped-def]
    """Every hypothesis of the demo (weighted, and a correlation) is decided without scipy.stats, half a
    second of every report's time to import."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom pathlib import Path\nfrom survey_tui.core.study import open_study\n"
        "from survey_tui.report.full_report import build_report\n"
        f"r = build_report(open_study(Path({str(demo_study_dir)!r})))\n"
        "print(sum(1 for v in r.facts['verdicts'] if v['verdict'] != 'not testable'), 'scipy.stats' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) >= 4 and out[1] == "False"


def test_untestable_hypothesis_says_why() -> None:
    data = two_group_dataset(5, 10, 5, 10)
    result = evaluate(data, hypothesis(test="share_vs_threshold", outcome="y", codes=[1]))
    assert result.verdict == "not testable" and "threshold" in result.explanation
