"""A hand-built export data set: every variable kind, Chinese labels, specials and a long name."""

from __future__ import annotations

from datetime import date

import polars as pl

from survey_tui.io.meta import ExportData, ExportVariable

LONG = "q_" + "very_long_variable_name_" * 4  # > 64 characters: must be shortened for SPSS and Stata


def sample_data() -> ExportData:
    yes = {"zh-TW": {0: "未選", 1: "有選"}, "en": {0: "Not selected", 1: "Selected"}}
    frame = pl.DataFrame(
        {
            "interview_id": pl.Series([1, 2, 3, 4], dtype=pl.Int64),
            "brand": pl.Series([1, 2, 98, None], dtype=pl.Int32),
            "aware_1": pl.Series([1, 0, 1, None], dtype=pl.Int8),
            "aware_2": pl.Series([1, 1, 0, None], dtype=pl.Int8),
            "aware_98": pl.Series([0, 0, 0, 1], dtype=pl.Int8),
            "spend": pl.Series([55.5, -8.0, 120.25, None], dtype=pl.Float64),
            "why": pl.Series(["珍珠很Q", None, "價格|便宜", "line\nbreak"], dtype=pl.String),
            "visit": pl.Series([date(2026, 10, 1), None, date(2026, 10, 3), date(2026, 10, 4)], dtype=pl.Date),
            LONG: pl.Series([3, 4, 5, 1], dtype=pl.Int32),
        }
    )
    variables = [
        ExportVariable("interview_id", "id", {"zh-TW": "訪問編號", "en": "Interview ID"}),
        ExportVariable(
            "brand",
            "single",
            {"zh-TW": "最常買的品牌", "en": "Brand bought most"},
            question="brand",
            question_text={"zh-TW": "您最常買哪一家？", "en": "Which do you buy most?"},
            value_labels={
                "zh-TW": {1: "茶語時光", 2: "50嵐", 98: "不知道"},
                "en": {1: "TeaTime", 2: "50 Lan", 98: "Don't know"},
            },
            missing={98: "dont_know", 99: "refused"},
            relevance="drinks = 1",
            version="v1",
        ),
        ExportVariable(
            "aware_1",
            "multi",
            {"zh-TW": "聽過：茶語時光", "en": "Aware: TeaTime"},
            question="aware",
            question_text={"zh-TW": "聽過哪些？", "en": "Which do you know?"},
            value_labels=yes,
            choice_code=1,
        ),
        ExportVariable(
            "aware_2",
            "multi",
            {"zh-TW": "聽過：50嵐", "en": "Aware: 50 Lan"},
            question="aware",
            question_text={"zh-TW": "聽過哪些？", "en": "Which do you know?"},
            value_labels=yes,
            choice_code=2,
        ),
        ExportVariable(
            "aware_98",
            "multi_special",
            {"zh-TW": "聽過：不知道", "en": "Aware: Don't know"},
            question="aware",
            value_labels={"zh-TW": {1: "不知道"}, "en": {1: "Don't know"}},
        ),
        ExportVariable(
            "spend",
            "numeric",
            {"zh-TW": "每杯花費", "en": "Spend per cup"},
            question="spend",
            measure="scale",
            value_labels={"zh-TW": {-8: "不知道", -9: "拒答"}, "en": {-8: "Don't know", -9: "Refused"}},
            missing={-8: "dont_know", -9: "refused"},
            decimals=2,
        ),
        ExportVariable("why", "text", {"zh-TW": "原因", "en": "Why"}, question="why"),
        ExportVariable("visit", "date", {"zh-TW": "上次購買日", "en": "Last visit"}, question="visit"),
        ExportVariable(
            LONG,
            "scale",
            {"zh-TW": "同意程度", "en": "Agreement"},
            question=LONG,
            measure="ordinal",
            value_labels={
                "zh-TW": {1: "非常不同意", 5: "非常同意"},
                "en": {1: "Strongly disagree", 5: "Strongly agree"},
            },
        ),
    ]
    return ExportData(
        frame,
        variables,
        title="茶語時光 品牌健康度調查",
        instrument_id="bubble",
        instrument_title={"zh-TW": "珍奶", "en": "Bubble"},
        versions=["v1"],
        languages=["zh-TW", "en"],
        filters=["field interviews only"],
    )
