"""Eligibility screening (P1.3.2): do respondents meet the study's conditions, and if not, why.

Criteria live in `study.yaml` under `eligibility:`, written in the instruments' expression language
over respondent attributes (gender, age, region and any imported column)::

    eligibility:
      - name: age_range
        when: age >= 15 and age <= 65
        reason: {zh-TW: 年齡不在 15–65 歲, en: aged outside 15–65}

A respondent is eligible when every criterion holds; a criterion whose variables are missing does not
hold (we do not recruit people we know nothing about). Screening compiles each criterion once into a
polars expression and evaluates all respondents at once, so a million-row list screens in well under a
second; `screen_one` evaluates the same criteria in Python for one respondent (same semantics).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator

from survey_tui.core.instrument.expressions import DictScope, Expression, WideFrameResolver, parse_expression
from survey_tui.core.instrument.model import Labels, label_text
from survey_tui.core.lazy import lazy

if TYPE_CHECKING:
    import polars as pl
else:
    pl = lazy("polars")


class EligibilityCriterion(BaseModel):
    """One condition a respondent must meet; `reason` is what the list says when it fails."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    name: str = Field(min_length=1)
    when: str = Field(min_length=1)
    reason: Labels | None = None

    @field_validator("when")
    @classmethod
    def _parses(cls, text: str) -> str:
        parse_expression(text)  # ExpressionError is a ValueError: pydantic locates it in study.yaml
        return text

    @property
    def expression(self) -> Expression:
        return parse_expression(self.when)

    def reason_text(self, language: str) -> str:
        text = label_text(self.reason, language)
        if text:
            return text
        return f"不符合 {self.when}" if language.startswith("zh") else f"fails {self.when}"


def _frame_for(frame: pl.DataFrame, names: set[str]) -> pl.DataFrame:
    """Variables a criterion names but the list lacks are added as missing (so the criterion fails)."""
    absent = [pl.lit(None, dtype=pl.Float64).alias(n) for n in sorted(names) if n not in frame.columns]
    return frame.with_columns(absent) if absent else frame


def screen_frame(
    frame: pl.DataFrame, criteria: Sequence[EligibilityCriterion], language: str = "zh-TW"
) -> pl.DataFrame:
    """`frame` plus `eligible` (bool) and `eligibility_reason` (every failed criterion, or null)."""
    frame = frame.drop("eligible", "eligibility_reason", strict=False)  # a re-screen replaces the old verdict
    if not criteria:
        return frame.with_columns(
            pl.lit(True).alias("eligible"), pl.lit(None, dtype=pl.String).alias("eligibility_reason")
        )
    names: set[str] = set()
    for criterion in criteria:
        names |= set(criterion.expression.names)
    work = _frame_for(frame, names)
    resolver = WideFrameResolver(schema=work.schema)
    passes = [c.expression.to_polars_bool(resolver).fill_null(False) for c in criteria]
    failed = [pl.when(~p).then(pl.lit(c.reason_text(language))) for p, c in zip(passes, criteria, strict=True)]
    screened = work.with_columns(
        pl.all_horizontal(passes).alias("eligible"),
        pl.concat_str(failed, separator="; ", ignore_nulls=True).alias("eligibility_reason"),
    )
    screened = screened.with_columns(
        pl.when(pl.col("eligible") | (pl.col("eligibility_reason") == ""))
        .then(None)
        .otherwise(pl.col("eligibility_reason"))
        .alias("eligibility_reason")
    )
    return screened.select([*frame.columns, "eligible", "eligibility_reason"])


def screen_one(
    attributes: Mapping[str, object], criteria: Sequence[EligibilityCriterion], language: str = "zh-TW"
) -> tuple[bool, str | None]:
    """The same verdict for one respondent, evaluated in Python (e.g. after editing one record)."""
    scope = DictScope(dict(attributes))
    failed = [c.reason_text(language) for c in criteria if not c.expression.evaluate_bool(scope)]
    return (not failed, "; ".join(failed) or None)
