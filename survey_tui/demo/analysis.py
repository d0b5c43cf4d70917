"""Demo step for T1.5: a code frame for an open end with its verbatims coded, and speeders reviewed.

The coding mimics a coder reading each verbatim of a5_why ("why do you buy that brand most?") and
picking codes by what it says; the review excludes the clearest speeders (under a third of the median
length) with a reason and keeps one flagged interview on purpose, so the screens show both decisions.
"""

from __future__ import annotations

from collections.abc import Callable

from survey_tui.analysis import quality
from survey_tui.analysis.coding import CodeFrame, FrameCode, FrameNet, record_codes, save_code_frame, verbatims
from survey_tui.analysis.dataset import load_dataset
from survey_tui.core.study import Study

A5_FRAME = CodeFrame(
    question="a5_why",
    codes=[
        FrameCode(code=1, label={"zh-TW": "地點方便", "en": "Convenient location"}),
        FrameCode(code=2, label={"zh-TW": "價格划算", "en": "Good price / value"}),
        FrameCode(code=3, label={"zh-TW": "口味好喝", "en": "Tastes good"}),
        FrameCode(code=4, label={"zh-TW": "服務快又好", "en": "Fast, friendly service"}),
        FrameCode(code=5, label={"zh-TW": "促銷集點", "en": "Promotions / loyalty points"}),
        FrameCode(code=6, label={"zh-TW": "可客製甜度冰塊", "en": "Can customise sugar and ice"}),
        FrameCode(code=7, label={"zh-TW": "習慣", "en": "Habit"}),
        FrameCode(code=96, label={"zh-TW": "其他", "en": "Other"}),
    ],
    nets=[
        FrameNet(label={"zh-TW": "產品（口味、客製）", "en": "Product (taste, customisation)"}, codes=[3, 6]),
        FrameNet(label={"zh-TW": "便利與服務", "en": "Convenience and service"}, codes=[1, 4]),
    ],
)

#: what a coder reads in a verbatim -> the codes given
KEYWORDS: list[tuple[str, int]] = [
    ("近", 1),
    ("樓下", 1),
    ("方便", 1),
    ("便宜", 2),
    ("大杯", 2),
    ("Q", 3),
    ("口感", 3),
    ("茶味", 3),
    ("好喝", 3),
    ("新鮮", 3),
    ("店員", 4),
    ("出餐", 4),
    ("集點", 5),
    ("甜度", 6),
    ("冰塊", 6),
    ("習慣", 7),
]


def codes_for(text: str) -> list[int]:
    found = sorted({code for word, code in KEYWORDS if word in text})
    return found or [96]


def demo_analysis(study: Study, say: Callable[[str], None]) -> Study:
    """Record the a5_why code frame, code every verbatim, and review the speeders."""
    save_code_frame(study, A5_FRAME)
    with study.store() as store:
        dataset = load_dataset(study, store=store, apply_exclusions=False, include_coded=False)
        texts = verbatims(dataset, store, "a5_why")
        for verbatim in texts:
            record_codes(store, A5_FRAME, verbatim.interview_id, codes_for(verbatim.text), coder="demo coder")
        report = quality.review(dataset, store, quality.QualitySettings(speed_share=0.5))
        median = report.median_duration_s or 0.0
        excluded = kept = 0
        for flagged in report.flagged:
            speeder = "speeder" in flagged.flags and flagged.duration_s is not None
            if speeder and flagged.duration_s < median / 3 and flagged.decision is None:  # type: ignore[operator]
                reason = quality.TOOL_REASONS[0].format(  # English in the store; the screen translates it
                    minutes=flagged.duration_s / 60,  # type: ignore[operator]
                    median=median / 60,
                )
                quality.exclude(store, flagged.interview_id, reason, flagged.flags, actor="demo reviewer")
                excluded += 1
            elif kept == 0 and flagged.decision is None:
                quality.keep(store, flagged.interview_id, quality.TOOL_REASONS[1], "demo reviewer")
                kept += 1
    say(f"Coded {len(texts)} verbatims of a5_why; excluded {excluded} speeders, kept {kept} after review")
    return study
