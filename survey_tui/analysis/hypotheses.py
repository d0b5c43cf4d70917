"""Hypothesis tests (P1.6.1 groundwork): each plan hypothesis evaluated with its declared test.

The plan (`survey_tui.core.plan.model.Hypothesis`) says what is measured (``outcome``, with ``codes`` for a
share), which groups are compared (``groups`` expressions, or the codes of ``by``; for a correlation
``by`` is the second variable), the base (``subset``), the expected direction and alpha. Every p-value
comes from scipy: `chi2_contingency` (chi-square, and the pooled two-proportion z test, whose z^2 is the
uncorrected 2x2 chi-square), `ttest_ind(equal_var=False)` (Welch), `binomtest` (share vs threshold) and
`pearsonr` (correlation). `scipy.stats` (half a second to import) is imported only by the tests that call
it; a correlation and the normal tail areas use `scipy.special` directly, with exactly scipy.stats'
arithmetic (a test compares them). Directional hypotheses (higher / lower) are tested one-sided in that
direction, and every result says so (`HypothesisResult.sided`); ``different`` and ``no_difference``
are two-sided. Verdicts are worded by the hypothesis's direction: a directional or "different"
hypothesis is "supported" or "not supported"; a "no difference" hypothesis is only ever "not
rejected" (no significant difference: nothing is proven) or "rejected", never "supported".

Bases follow `survey_tui.analysis.base` (the same rule as the tables): substantive answers by default,
don't know / refused inside the base for a share when the rule says "total asked", not-applicable codes
never; so the base a verdict quotes is the base of the table it comes from.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import polars as pl
from scipy import special

from survey_tui.analysis.base import DEFAULT_RULE, BaseRule
from survey_tui.analysis.dataset import Dataset
from survey_tui.i18n import N_, Phrase, worded


class GroupLike(Protocol):
    label: str
    when: str


class HypothesisLike(Protocol):
    """What the evaluation needs of a plan hypothesis (`survey_tui.core.plan.model.Hypothesis` fits)."""

    id: str
    statement: str
    test: str
    outcome: str
    codes: list[int]
    by: str | None
    groups: Sequence[GroupLike]
    subset: str | None
    expected: str
    alpha: float
    threshold: float | None


@dataclass
class HypothesisResult:
    id: str
    statement: str
    test: str
    statistic: float | None
    statistic_name: str
    df: float | None
    p_value: float | None
    effect_size: float | None
    effect_name: str
    base: int
    alpha: float
    expected: str
    verdict: str  # supported | not supported | not rejected | rejected | not testable
    explanation: str
    table: list[list[str]] = field(default_factory=list)  # header row then rows
    error: str | None = None

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < self.alpha

    @property
    def sided(self) -> str:
        """ "one-sided" for a higher / lower hypothesis (the p-value is in that direction), else "two-sided"."""
        return "one-sided" if self.expected in ("higher", "lower") else "two-sided"

    @property
    def p_text(self) -> str:
        return "—" if self.p_value is None else f"{self.p_value:.3g} ({self.sided})"


#: header words of the results' small tables (English in the report, translated on screen by `shown`)
GROUP, YES, BASE = Phrase(N_("group")), Phrase(N_("yes")), Phrase(N_("base"))
BASE_WEIGHTED = Phrase(N_("base weighted (unweighted)"))
MEAN, SD = Phrase(N_("mean")), Phrase(N_("sd"))
SHARE, THRESHOLD = Phrase(N_("share %")), Phrase(N_("threshold %"))
#: verdicts and tests as the results carry them -> their words on screen
VERDICTS = (N_("supported"), N_("not supported"), N_("not rejected"), N_("rejected"), N_("not testable"))
TEST_NAMES: dict[str, str] = {
    "difference_of_proportions": N_("difference of proportions"),
    "chi_square": N_("chi square"),
    "difference_of_means": N_("difference of means"),
    "share_vs_threshold": N_("share vs threshold"),
    "correlation": N_("correlation"),
}


def shown_test(test: str) -> str:
    """A test in the interface language (its name with spaces when unknown)."""
    return worded(TEST_NAMES, test)


def _weights(dataset: Dataset, frame: pl.DataFrame) -> np.ndarray | None:
    """The study's weight per interview (None when the data are unweighted), as the tables use it."""
    if not dataset.weight or dataset.weight not in frame.columns:
        return None
    return frame.get_column(dataset.weight).cast(pl.Float64).fill_null(0.0).to_numpy()


def _valid(dataset: Dataset, name: str) -> pl.Expr:
    return dataset.valid(name).cast(pl.Float64)


def _groups(dataset: Dataset, frame: pl.DataFrame, h: HypothesisLike) -> list[tuple[str, np.ndarray]]:
    """(label, boolean mask) per compared group, from `groups` expressions or the codes of `by`."""
    if h.groups:
        resolver = dataset.resolver()
        from survey_tui.core.instrument.expressions import parse_expression

        masks = frame.select(
            [
                parse_expression(g.when).to_polars_bool(resolver).fill_null(False).alias(f"g{i}")
                for i, g in enumerate(h.groups)
            ]
        )
        return [(g.label, masks[f"g{i}"].to_numpy()) for i, g in enumerate(h.groups)]
    if h.by:
        variable = dataset.variable(h.by)
        values = frame.select(_valid(dataset, h.by)).to_series().to_numpy()
        codes = [c for c in variable.substantive_codes() if np.any(values == c)]
        return [(variable.value_label(c, dataset.language), values == c) for c in codes]
    raise ValueError(Phrase(N_("{id}: say which groups to compare (groups: or by:)"), id=h.id))


def _outcome_flag(
    dataset: Dataset, frame: pl.DataFrame, h: HypothesisLike, rule: BaseRule = DEFAULT_RULE
) -> tuple[np.ndarray, np.ndarray]:
    """(is 'yes', is in the base) per interview for share tests, the base as `rule` decides."""
    name = h.outcome
    if name not in dataset.variables and name in dataset.multi_questions():
        if len(h.codes) != 1:
            raise ValueError(
                Phrase(N_("{id}: {name} is a multi question; give one code or name its column"), id=h.id, name=name)
            )
        name = f"{name}_{h.codes[0]}"
    variable = dataset.variable(name)
    values = frame.select(_valid(dataset, name)).to_series().to_numpy()
    valid = ~np.isnan(values)
    if rule.dk_in_base and variable.missing_codes:
        raw = frame.get_column(name).cast(pl.Float64).to_numpy()
        valid = valid | np.isin(raw, list(variable.missing_codes))
    if variable.type in ("multi",) and variable.choice_code is not None:
        yes = values == 1
    else:
        if not h.codes:
            raise ValueError(Phrase(N_("{id}: say which codes of {name} count (codes: [...])"), id=h.id, name=name))
        yes = np.isin(values, h.codes)
    return yes & valid, valid


def _alternative(expected: str) -> str:
    return {"higher": "greater", "lower": "less"}.get(expected, "two-sided")


def _verdict(h: HypothesisLike, p: float, direction_ok: bool) -> tuple[str, Phrase]:
    """The verdict and its explanation: English in the report, in the interface language on screen."""
    sided = Phrase(N_("one-sided")) if h.expected in ("higher", "lower") else Phrase(N_("two-sided"))
    values = {"p": p, "alpha": h.alpha, "sided": sided}
    if h.expected == "no_difference":
        if p >= h.alpha:
            return "not rejected", Phrase(
                N_(
                    "no significant difference (p = {p:.3g} >= {alpha}, {sided}); the data do not contradict it, "
                    "which does not prove it"
                ),
                **values,
            )
        return "rejected", Phrase(N_("significant difference found (p = {p:.3g} < {alpha}, {sided})"), **values)
    if p < h.alpha and direction_ok:
        return "supported", Phrase(N_("significant at alpha {alpha} (p = {p:.3g}, {sided})"), **values)
    if p < h.alpha:
        return "not supported", Phrase(N_("significant, but in the other direction (p = {p:.3g}, {sided})"), **values)
    return "not supported", Phrase(N_("not significant at alpha {alpha} (p = {p:.3g}, {sided})"), **values)


def evaluate(dataset: Dataset, h: HypothesisLike, rule: BaseRule = DEFAULT_RULE) -> HypothesisResult:
    """Run the hypothesis's test on the dataset; problems come back as a 'not testable' result."""
    test = str(getattr(h.test, "value", h.test))
    try:
        frame = dataset.frame.filter(dataset.filter_expr(h.subset)) if h.subset else dataset.frame
        runner = {
            "difference_of_proportions": _proportions,
            "chi_square": _chi_square,
            "difference_of_means": _means,
            "share_vs_threshold": _share,
            "correlation": _correlation,
        }[test]
        return runner(dataset, frame, h, test, rule)
    except (KeyError, ValueError) as exc:
        message = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)  # a Phrase stays one
        return HypothesisResult(
            h.id,
            h.statement,
            test,
            None,
            "",
            None,
            None,
            None,
            "",
            0,
            h.alpha,
            h.expected,
            "not testable",
            message,
            error=message,
        )


def evaluate_all(
    dataset: Dataset, hypotheses: Sequence[HypothesisLike], rule: BaseRule = DEFAULT_RULE
) -> list[HypothesisResult]:
    return [evaluate(dataset, h, rule) for h in hypotheses]


def _two_groups(groups: list[tuple[str, np.ndarray]], h: HypothesisLike) -> list[tuple[str, np.ndarray]]:
    if len(groups) != 2:
        raise ValueError(
            Phrase(N_("{id}: this test compares exactly two groups, found {count}"), id=h.id, count=len(groups))
        )
    return groups


def _proportions(
    dataset: Dataset, frame: pl.DataFrame, h: HypothesisLike, test: str, rule: BaseRule = DEFAULT_RULE
) -> HypothesisResult:
    yes, valid = _outcome_flag(dataset, frame, h, rule)
    (la, ma), (lb, mb) = _two_groups(_groups(dataset, frame, h), h)
    na, nb = int((ma & valid).sum()), int((mb & valid).sum())
    xa, xb = int((ma & yes).sum()), int((mb & yes).sum())
    if min(na, nb) == 0:
        raise ValueError(Phrase(N_("{id}: a group has no valid answers"), id=h.id))
    w = _weights(dataset, frame)
    if w is None:
        pa, pb = xa / na, xb / nb
        table = np.array([[xa, na - xa], [xb, nb - xb]])
        from scipy import stats

        chi2, p_two, _, _ = (
            stats.chi2_contingency(table, correction=False) if 0 < xa + xb < na + nb else (0.0, 1.0, 1, None)
        )
        z = math.copysign(math.sqrt(chi2), pa - pb)
        shown = [(la, str(xa), str(na), pa), (lb, str(xb), str(nb), pb)]
    else:  # weighted shares, tested on effective bases exactly as the table letters are
        from survey_tui.analysis.significance import proportion_test

        sums = [
            (float(w[m & yes].sum()), float(w[m & valid].sum()), float((w[m & valid] ** 2).sum())) for m in (ma, mb)
        ]
        (wxa, wna, qa), (wxb, wnb, qb) = sums
        pa, pb = wxa / wna, wxb / wnb
        z_arr, p_arr = proportion_test(np.array(wxa), wna, qa, np.array(wxb), wnb, qb)
        z, p_two = float(z_arr), float(p_arr)
        shown = [(la, f"{wxa:.1f}", f"{wna:.1f} ({na})", pa), (lb, f"{wxb:.1f}", f"{wnb:.1f} ({nb})", pb)]
    alternative = _alternative(h.expected)
    p = float(p_two) if alternative == "two-sided" else float(_norm_sf(z if alternative == "greater" else -z))
    h_effect = 2 * math.asin(math.sqrt(pa)) - 2 * math.asin(math.sqrt(pb))  # Cohen's h
    verdict, why = _verdict(h, p, (pa > pb) if h.expected == "higher" else (pa < pb) if h.expected == "lower" else True)
    rows = [[GROUP, YES, BASE if w is None else BASE_WEIGHTED, "%"]] + [
        [label, x, n, f"{100 * share:.1f}"] for label, x, n, share in shown
    ]
    return HypothesisResult(
        h.id,
        h.statement,
        test,
        z,
        "z" if w is None else Phrase(N_("z (effective base)")),
        None,
        p,
        h_effect,
        "Cohen's h",
        na + nb,
        h.alpha,
        h.expected,
        verdict,
        why,
        rows,
    )


def _chi_square(
    dataset: Dataset, frame: pl.DataFrame, h: HypothesisLike, test: str, rule: BaseRule = DEFAULT_RULE
) -> HypothesisResult:
    outcome = dataset.variable(h.outcome)
    values = frame.select(_valid(dataset, h.outcome)).to_series().to_numpy()
    codes = [c for c in outcome.substantive_codes() if np.any(values == c)]
    groups = _groups(dataset, frame, h)
    table = np.array([[int(((values == c) & mask).sum()) for c in codes] for _, mask in groups])
    keep_rows, keep_cols = table.sum(axis=1) > 0, table.sum(axis=0) > 0
    table = table[keep_rows][:, keep_cols]
    if table.shape[0] < 2 or table.shape[1] < 2:
        raise ValueError(Phrase(N_("{id}: needs at least two groups and two answer codes with data"), id=h.id))
    from scipy import stats

    result = stats.chi2_contingency(table, correction=False)
    n = int(table.sum())
    cramers_v = math.sqrt(result.statistic / (n * (min(table.shape) - 1)))
    verdict, why = _verdict(h, float(result.pvalue), True)
    labels = [outcome.value_label(c, dataset.language) for c, k in zip(codes, keep_cols, strict=True) if k]
    group_labels = [g for (g, _), k in zip(groups, keep_rows, strict=True) if k]
    rows = [[GROUP, *labels, BASE]] + [
        [g, *map(str, r), str(int(r.sum()))] for g, r in zip(group_labels, table, strict=True)
    ]
    if _weights(dataset, frame) is not None:
        why += Phrase(N_("; on unweighted counts (a weighted chi-square needs a design correction)"))
    expected_min = float(result.expected_freq.min())
    if expected_min < 5:
        why += Phrase(N_("; smallest expected count {count:.1f} < 5, read with care"), count=expected_min)
    return HypothesisResult(
        h.id,
        h.statement,
        test,
        float(result.statistic),
        "chi2",
        float(result.dof),
        float(result.pvalue),
        cramers_v,
        "Cramér's V",
        n,
        h.alpha,
        h.expected,
        verdict,
        why,
        rows,
    )


def _means(
    dataset: Dataset, frame: pl.DataFrame, h: HypothesisLike, test: str, rule: BaseRule = DEFAULT_RULE
) -> HypothesisResult:
    values = frame.select(_valid(dataset, h.outcome)).to_series().to_numpy()
    (la, ma), (lb, mb) = _two_groups(_groups(dataset, frame, h), h)
    a, b = values[ma & ~np.isnan(values)], values[mb & ~np.isnan(values)]
    if len(a) < 2 or len(b) < 2:
        raise ValueError(Phrase(N_("{id}: each group needs at least two valid answers"), id=h.id))
    alternative = _alternative(h.expected)
    w = _weights(dataset, frame)
    if w is not None:
        return _weighted_means(h, test, (la, values, ma, w), (lb, values, mb, w), alternative)
    from scipy import stats

    result = stats.ttest_ind(a, b, equal_var=False, alternative=alternative)
    pooled_sd = math.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / (len(a) + len(b) - 2))
    d = (a.mean() - b.mean()) / pooled_sd if pooled_sd > 0 else 0.0
    direction = (
        (a.mean() > b.mean()) if h.expected == "higher" else (a.mean() < b.mean()) if h.expected == "lower" else True
    )
    p = float(result.pvalue)
    if h.expected == "no_difference":
        p = float(stats.ttest_ind(a, b, equal_var=False).pvalue)
    verdict, why = _verdict(h, p, direction)
    rows = [[GROUP, "n", MEAN, SD]] + [
        [lab, str(len(x)), f"{x.mean():.2f}", f"{x.std(ddof=1):.2f}"] for lab, x in ((la, a), (lb, b))
    ]
    return HypothesisResult(
        h.id,
        h.statement,
        test,
        float(result.statistic),
        "t (Welch)",
        float(result.df),
        p,
        float(d),
        "Cohen's d",
        len(a) + len(b),
        h.alpha,
        h.expected,
        verdict,
        why,
        rows,
    )


def _weighted_means(
    h: HypothesisLike,
    test: str,
    first: tuple[str, np.ndarray, np.ndarray, np.ndarray],
    second: tuple[str, np.ndarray, np.ndarray, np.ndarray],
    alternative: str,
) -> HypothesisResult:
    """Welch's t on weighted means and SDs with effective bases (the table's mean letters, one pair)."""
    from survey_tui.analysis.significance import mean_test

    stats_ = []
    for label, values, mask, w in (first, second):
        keep = mask & ~np.isnan(values)
        x, wt = values[keep], w[keep]
        total = float(wt.sum())
        mean = float((wt * x).sum() / total)
        var = float(((wt * x * x).sum() - total * mean * mean) / (total - 1)) if total > 1 else 0.0
        stats_.append((label, mean, math.sqrt(max(var, 0.0)), total, float((wt * wt).sum()), int(keep.sum())))
    (la, ma_, sa, wa, qa, na), (lb, mb_, sb, wb, qb, nb) = stats_
    t_arr, p_arr = mean_test(np.array(ma_), np.array(sa), wa, qa, np.array(mb_), np.array(sb), wb, qb)
    t, p_two = float(t_arr), float(p_arr)
    if alternative == "two-sided" or h.expected == "no_difference":
        p = p_two
    else:
        p = p_two / 2 if (t > 0) == (alternative == "greater") else 1 - p_two / 2
    direction = (ma_ > mb_) if h.expected == "higher" else (ma_ < mb_) if h.expected == "lower" else True
    verdict, why = _verdict(h, p, direction)
    pooled = math.sqrt((sa * sa + sb * sb) / 2)
    rows = [[GROUP, BASE_WEIGHTED, MEAN, SD]] + [
        [label, f"{total:.1f} ({n})", f"{mean:.2f}", f"{sd:.2f}"] for label, mean, sd, total, _, n in stats_
    ]
    return HypothesisResult(
        h.id,
        h.statement,
        test,
        t,
        Phrase(N_("t (Welch, effective bases)")),
        None,
        p,
        (ma_ - mb_) / pooled if pooled > 0 else 0.0,
        "Cohen's d",
        na + nb,
        h.alpha,
        h.expected,
        verdict,
        why + Phrase(N_("; weighted")),
        rows,
    )


def _share(
    dataset: Dataset, frame: pl.DataFrame, h: HypothesisLike, test: str, rule: BaseRule = DEFAULT_RULE
) -> HypothesisResult:
    if h.threshold is None:
        raise ValueError(Phrase(N_("{id}: share_vs_threshold needs a threshold (0-1)"), id=h.id))
    yes, valid = _outcome_flag(dataset, frame, h, rule)
    k, n = int(yes.sum()), int(valid.sum())
    if n == 0:
        raise ValueError(Phrase(N_("{id}: no valid answers"), id=h.id))
    alternative = _alternative(h.expected)
    w = _weights(dataset, frame)
    if w is not None:  # weighted share against the threshold, normal approximation on the effective base
        from survey_tui.analysis.significance import effective_base

        wk, wn = float(w[yes].sum()), float(w[valid].sum())
        share = wk / wn
        e = effective_base(w[valid])
        z = (share - h.threshold) / math.sqrt(h.threshold * (1 - h.threshold) / e)
        p = {"greater": _norm_sf(z), "less": _norm_sf(-z)}.get(alternative, 2 * _norm_sf(abs(z)))
        direction = (
            share > h.threshold if h.expected == "higher" else share < h.threshold if h.expected == "lower" else True
        )
        verdict, why = _verdict(h, float(p), direction)
        rows = [
            [Phrase(N_("yes (weighted)")), BASE_WEIGHTED, SHARE, THRESHOLD],
            [f"{wk:.1f}", f"{wn:.1f} ({n})", f"{100 * share:.1f}", f"{100 * h.threshold:.1f}"],
        ]
        effect = 2 * math.asin(math.sqrt(share)) - 2 * math.asin(math.sqrt(h.threshold))
        return HypothesisResult(
            h.id,
            h.statement,
            test,
            z,
            Phrase(N_("z (effective base)")),
            None,
            float(p),
            effect,
            "Cohen's h",
            n,
            h.alpha,
            h.expected,
            verdict,
            why + Phrase(N_("; weighted, effective base {base:.1f}"), base=e),
            rows,
        )
    from scipy import stats

    result = stats.binomtest(k, n, p=h.threshold, alternative=alternative)
    share = k / n
    direction = (
        share > h.threshold if h.expected == "higher" else share < h.threshold if h.expected == "lower" else True
    )
    verdict, why = _verdict(h, float(result.pvalue), direction)
    rows = [
        [YES, BASE, SHARE, THRESHOLD],
        [str(k), str(n), f"{100 * share:.1f}", f"{100 * h.threshold:.1f}"],
    ]
    effect = 2 * math.asin(math.sqrt(share)) - 2 * math.asin(math.sqrt(h.threshold))
    return HypothesisResult(
        h.id,
        h.statement,
        test,
        float(k),
        Phrase(N_("k (binomial)")),
        None,
        float(result.pvalue),
        effect,
        "Cohen's h",
        n,
        h.alpha,
        h.expected,
        verdict,
        why,
        rows,
    )


def _correlation(
    dataset: Dataset, frame: pl.DataFrame, h: HypothesisLike, test: str, rule: BaseRule = DEFAULT_RULE
) -> HypothesisResult:
    if not h.by:
        raise ValueError(Phrase(N_("{id}: a correlation needs a second variable (by:)"), id=h.id))
    both = (
        frame.select(_valid(dataset, h.outcome).alias("y"), _valid(dataset, h.by).alias("x")).drop_nulls().drop_nans()
    )
    if both.height < 3:
        raise ValueError(Phrase(N_("{id}: fewer than three interviews answered both variables"), id=h.id))
    x, y = both["x"].to_numpy(), both["y"].to_numpy()
    r, p = pearson(x, y, _alternative(h.expected))
    direction = r > 0 if h.expected == "higher" else r < 0 if h.expected == "lower" else True
    verdict, why = _verdict(h, p, direction)
    rows = [
        [Phrase(N_("variable")), "n", MEAN, SD],
        [h.outcome, str(len(y)), f"{y.mean():.2f}", f"{y.std(ddof=1):.2f}"],
        [h.by, str(len(x)), f"{x.mean():.2f}", f"{x.std(ddof=1):.2f}"],
    ]
    return HypothesisResult(
        h.id,
        h.statement,
        test,
        r,
        "Pearson r",
        float(len(x) - 2),
        p,
        r,
        "r",
        len(x),
        h.alpha,
        h.expected,
        verdict,
        why,
        rows,
    )


def _norm_sf(z: float) -> float:
    """The standard normal upper tail, as `scipy.stats.norm.sf` computes it (its ``ndtr(-z)``)."""
    return float(special.ndtr(-z))


def pearson(x: np.ndarray, y: np.ndarray, alternative: str = "two-sided") -> tuple[float, float]:
    """(r, p) exactly as `scipy.stats.pearsonr` gives them for two 1-d samples: the same centring and
    scaling (against overflow), and p from the same beta distribution of r on (-1, 1) with a = b = n/2 - 1,
    without importing scipy.stats. A constant sample has no correlation: (nan, nan), as scipy says."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if np.all(x == x[0]) or np.all(y == y[0]):
        return math.nan, math.nan
    xm, ym = x - x.mean(axis=-1, keepdims=True), y - y.mean(axis=-1, keepdims=True)
    xmax, ymax = np.abs(xm).max(axis=-1, keepdims=True), np.abs(ym).max(axis=-1, keepdims=True)
    norm_x = xmax * np.linalg.norm(xm / xmax, axis=-1, keepdims=True)
    norm_y = ymax * np.linalg.norm(ym / ymax, axis=-1, keepdims=True)
    r = np.clip(np.vecdot(xm / norm_x, ym / norm_y, axis=-1), -1.0, 1.0)
    ab = np.asarray(x.shape[-1] / 2 - 1, dtype=np.float64)
    if alternative == "less":
        p = special.betainc(ab, ab, (r + 1) / 2)
    elif alternative == "greater":
        p = special.betaincc(ab, ab, (r + 1) / 2)
    else:
        p = 2 * special.betaincc(ab, ab, (np.abs(r) + 1) / 2)
    return float(r[()]), float(p[()])
