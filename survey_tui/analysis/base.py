"""Where the base of a table is decided: one rule for every table, chart, report line and verdict.

The default is SPSS's: a variable's base is the respondents who were asked it and gave a substantive
answer. Don't know and refused are user-missing (shown as rows *outside* the base), "not applicable"
choices (``missing: true`` in the instrument, e.g. 97 "not used") are always outside, and so is anyone
not asked (system missing). ``dk_in_base`` ("total asked") puts don't know / refused back inside the
base, as many tab plans do for awareness questions; not-applicable codes stay out even then.

Everything that divides by a base (`tables`, `hypotheses`, `pilot`, the report) asks this module, so
the same respondents are counted everywhere and a table and a verdict can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from survey_tui.analysis.dataset import Variable

TEXT = {
    "substantive": {
        "en": "respondents asked who gave a substantive answer (don't know / refused outside the base)",
        "zh-TW": "有作答的受訪者（不知道／拒答不計入樣本數）",
    },
    "total_asked": {
        "en": "all respondents asked, don't know / refused included",
        "zh-TW": "所有被詢問的受訪者（含不知道／拒答）",
    },
}


@dataclass(frozen=True)
class BaseRule:
    """Who counts in a base. ``dk_in_base``: don't know / refused inside the base ("total asked")."""

    dk_in_base: bool = False

    def describe(self, language: str = "en") -> str:
        texts = TEXT["total_asked" if self.dk_in_base else "substantive"]
        return texts.get(language) or texts["en"]

    def outside_codes(self, variable: Variable) -> list[int]:
        """Codes counted as rows but kept out of the base (and out of means)."""
        codes = [] if self.dk_in_base else list(variable.missing_codes)
        return [*codes, *(c for c in variable.na_codes if c not in codes)]

    def base_codes(self, variable: Variable) -> list[int]:
        """Labelled codes inside the base, in the order written."""
        outside = set(self.outside_codes(variable))
        return [c for c in variable.value_labels if c not in outside]


DEFAULT_RULE = BaseRule()
