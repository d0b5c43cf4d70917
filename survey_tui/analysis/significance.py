"""Column tests of banner tables: proportions (pooled z) and means (Welch or pooled t), the way the
tabulation packages run them, with the overlap correction, effective bases and multiple-comparison
corrections.

**Overlap.** When two columns share respondents (a multi-coded banner, overlapping groups, a column
against Total) the two column estimates are correlated, and the plain test's variance is too large. We
use the correction IBM documents for its column proportions test (IBM SPSS Data Collection / Dimensions
Reporter, "Statistical formula for the column proportions test"): the variance of the difference loses
twice the covariance contributed by the respondents in both columns. With weighted bases ``W``, sums
of squared weights ``q`` (``q = n`` unweighted) and the overlap's ``q_o``::

    p = (e1 p1 + e2 p2) / (e1 + e2),      e = W^2 / q   (Kish effective base)
    var(p1 - p2) = p (1 - p) (q1 / W1^2 + q2 / W2^2 - 2 q_o / (W1 W2))

Unweighted and without overlap this is the textbook pooled two-proportion z test. A shared respondent
has the same answer in both columns (our columns never split a respondent's answer), which is the
case where IBM's grid factor Z is 1. Means use the same covariance with the variance of the overlap's
values, and degrees of freedom ``e1 + e2 - e_o - 2`` when columns overlap (Welch-Satterthwaite
otherwise).

**Weights.** Under a weight every test uses the effective base (Kish) where the count would be, so a
weighted table is never tested as if it had more respondents than it has information.

**Corrections** (over the column pairs of one banner group in one row): none, Bonferroni, Holm or
Benjamini-Hochberg, with statsmodels' decisions (checked against ``multipletests`` in the tests).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from survey_tui.i18n import N_

Correction = Literal["none", "bonferroni", "holm", "bh"]
CORRECTIONS: tuple[str, ...] = ("none", "bonferroni", "holm", "bh")
CORRECTION_NAMES = {
    "none": N_("no correction"),
    "bonferroni": "Bonferroni",
    "holm": "Holm",
    "bh": "Benjamini-Hochberg",
}
_STATSMODELS = {"bonferroni": "bonferroni", "holm": "holm", "bh": "fdr_bh"}


def effective_base(weights: np.ndarray) -> float:
    """Kish's effective sample size, (sum w)^2 / sum w^2 (n when every weight is equal): the unweighted
    size a weighted sample is worth, used by every test under a weight and by the weighting report."""
    w = np.asarray(weights, dtype=np.float64)
    w = w[np.isfinite(w)]  # a null weight is no respondent
    sq = float(np.dot(w, w))
    return float(w.sum()) ** 2 / sq if sq > 0 else 0.0


def proportion_test(
    x1: np.ndarray,
    w1: np.ndarray,
    q1: np.ndarray,
    x2: np.ndarray,
    w2: np.ndarray,
    q2: np.ndarray,
    q_o: np.ndarray | float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """(z, two-sided p) of column 1 vs column 2; arrays broadcast (rows x pairs).

    ``x`` weighted counts in the row, ``w`` weighted bases, ``q`` sums of squared weights of the bases,
    ``q_o`` the sum of squared weights of respondents in both columns (0: no overlap). A p of 1 and z of
    0 come back where the test cannot be run (empty base, identical proportions, no variance).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = x1 / w1, x2 / w2
        e1, e2 = w1 * w1 / q1, w2 * w2 / q2
        pooled = (e1 * p1 + e2 * p2) / (e1 + e2)
        var = pooled * (1 - pooled) * (q1 / (w1 * w1) + q2 / (w2 * w2) - 2 * q_o / (w1 * w2))
        z = (p1 - p2) / np.sqrt(var)
    ok = np.isfinite(z) & (var > 0)
    z = np.where(ok, z, 0.0)
    from scipy import special  # here, so weighting (effective_base) never imports it; a third of scipy.stats

    return z, np.where(ok, 2 * special.ndtr(-np.abs(z)), 1.0)


def mean_test(
    m1: np.ndarray,
    s1: np.ndarray,
    w1: np.ndarray,
    q1: np.ndarray,
    m2: np.ndarray,
    s2: np.ndarray,
    w2: np.ndarray,
    q2: np.ndarray,
    q_o: np.ndarray | float = 0.0,
    s_o: np.ndarray | float = 0.0,
    w_o: np.ndarray | float = 0.0,
    equal_var: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """(t, two-sided p) of mean 1 vs mean 2 (Welch by default, pooled with ``equal_var``).

    ``s`` standard deviations, ``w``/``q`` as in `proportion_test`; ``s_o``/``w_o``/``q_o`` describe the
    respondents in both columns (their SD, weighted count and sum of squared weights).
    """
    q_o = np.asarray(q_o, dtype=np.float64)
    w_o = np.asarray(w_o, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        e1, e2 = w1 * w1 / q1, w2 * w2 / q2
        e_o = np.where(q_o > 0, w_o * w_o / np.where(q_o > 0, q_o, 1), 0.0)
        cov = np.where(q_o > 0, np.asarray(s_o) ** 2 * q_o / (w1 * w2), 0.0)
        if equal_var:
            pooled = ((e1 - 1) * s1**2 + (e2 - 1) * s2**2) / (e1 + e2 - 2)
            var = pooled * (q1 / (w1 * w1) + q2 / (w2 * w2)) - 2 * cov
            df = e1 + e2 - 2 - e_o
        else:
            a, b = s1**2 * q1 / (w1 * w1), s2**2 * q2 / (w2 * w2)
            var = a + b - 2 * cov
            welch = (a + b) ** 2 / (a * a / (e1 - 1) + b * b / (e2 - 1))
            df = np.where(q_o > 0, e1 + e2 - e_o - 2, welch)
        t = (m1 - m2) / np.sqrt(var)
    ok = np.isfinite(t) & (var > 0) & (df > 0)
    t = np.where(ok, t, 0.0)
    from scipy import special

    return t, np.where(ok, 2 * special.stdtr(np.where(ok, df, 1.0), -np.abs(t)), 1.0)


def significant(pvalues: np.ndarray, tested: np.ndarray, alpha: float, correction: str) -> np.ndarray:
    """Which tests are significant (rows x pairs), the correction applied within each row's family.

    ``tested`` marks the pairs that were actually tested (both columns at or over the minimum test
    base); only they form the family a correction counts. Bonferroni, Holm and Benjamini-Hochberg give
    exactly statsmodels' ``multipletests`` decisions (a test checks it), vectorised over the rows: a tab
    plan runs thousands of families, and ``multipletests`` costs a garbage collection per call.
    """
    pvalues = np.atleast_2d(np.asarray(pvalues, dtype=np.float64))
    tested = np.atleast_2d(tested) & np.ones_like(pvalues, dtype=bool)
    if correction == "none":
        return tested & (pvalues < alpha)
    if correction not in _STATSMODELS:
        raise ValueError(f"unknown correction {correction!r}; use one of {', '.join(CORRECTIONS)}")
    m = tested.sum(axis=1, keepdims=True).astype(np.float64)
    if correction == "bonferroni":
        return tested & (pvalues <= alpha / np.maximum(m, 1))
    masked = np.where(tested, pvalues, np.inf)
    order = np.argsort(masked, axis=1, kind="stable")
    ranked = np.take_along_axis(masked, order, axis=1)
    rank = np.arange(pvalues.shape[1], dtype=np.float64)[None, :]
    inside = rank < m
    ranked = np.where(inside, ranked, 0.0)  # only the family's own p-values take part (no inf * 0)
    if correction == "holm":  # step-down: (m - i) p_(i), made monotone upwards
        adjusted = np.maximum.accumulate(np.where(inside, (m - rank) * ranked, np.inf), axis=1)
    else:  # Benjamini-Hochberg step-up: m p_(i) / (i + 1), made monotone downwards from the end
        scaled = np.where(inside, m * ranked / (rank + 1), np.inf)
        adjusted = np.minimum.accumulate(scaled[:, ::-1], axis=1)[:, ::-1]
    reject_sorted = inside & (adjusted <= alpha)
    result = np.zeros_like(reject_sorted)
    np.put_along_axis(result, order, reject_sorted, axis=1)
    return result & tested
