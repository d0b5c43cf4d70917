"""The engine's own messages in the study's languages (instrument texts carry their own)."""

from __future__ import annotations

from survey_tui.i18n import N_, current_language, worded

MESSAGES: dict[str, dict[str, str]] = {
    "loop_heading": {"en": "{label} {index} of {total}", "zh-TW": "{label} {index}/{total}"},
    "loop_item": {"en": "{heading}: {item}", "zh-TW": "{heading}：{item}"},
    "required": {
        "en": "An answer is required (or use don't know / refused).",
        "zh-TW": "此題必答（或選擇不知道／拒答）。",
    },
    "not_a_code": {
        "en": "{value} is not one of the codes ({codes}).",
        "zh-TW": "{value} 不是有效的選項代碼（{codes}）。",
    },
    "not_a_number": {"en": "'{value}' is not a number.", "zh-TW": "「{value}」不是數字。"},
    "too_large": {"en": "That number is too large.", "zh-TW": "數字太大。"},
    "not_integer": {"en": "Enter a whole number.", "zh-TW": "請輸入整數。"},
    "too_many_decimals": {"en": "At most {decimals} decimal places.", "zh-TW": "最多 {decimals} 位小數。"},
    "below_min": {"en": "The smallest allowed value is {min}.", "zh-TW": "最小值為 {min}。"},
    "above_max": {"en": "The largest allowed value is {max}.", "zh-TW": "最大值為 {max}。"},
    "too_long": {
        "en": "At most {max} characters ({length} given).",
        "zh-TW": "最多 {max} 個字（目前 {length} 個）。",
    },
    "control_chars": {
        "en": "The text contains control characters; retype it.",
        "zh-TW": "文字含有控制字元，請重新輸入。",
    },
    "not_a_date": {
        "en": "'{value}' is not a date (YYYY-MM-DD).",
        "zh-TW": "「{value}」不是日期（YYYY-MM-DD）。",
    },
    "exclusive": {
        "en": "'{label}' cannot be combined with other answers.",
        "zh-TW": "「{label}」不能與其他選項同時選擇。",
    },
    "too_many_selected": {"en": "Choose at most {max}.", "zh-TW": "最多選 {max} 項。"},
    "grid_missing": {"en": "Rate every row: {items}.", "zh-TW": "每一列都需作答：{items}。"},
    "constraint": {"en": "This answer is not allowed here.", "zh-TW": "此答案不符合條件。"},
    "filtered_out": {
        "en": "{value} is ruled out by an earlier answer.",
        "zh-TW": "{value} 已被前面的答案排除。",
    },
    "no_special": {
        "en": "'{special}' is not available for this question.",
        "zh-TW": "此題不可選「{special}」。",
    },
    "note": {"en": "This screen takes no answer.", "zh-TW": "此畫面不需作答。"},
}


def localise(catalog: dict[str, dict[str, str]], key: str, language: str, **values: object) -> str:
    """A text from a {key: {language: text}} catalog in `language` (or its base language); for a language
    the tool has no words in (a French or Japanese questionnaire), the interface language, else English.

    The tool's texts of an interview follow the interview's language, which the interviewer switches as
    the respondent needs; the questions' own texts (and the author's constraint messages) carry theirs."""
    texts = catalog[key]
    text = texts.get(language) or texts.get(language.split("-")[0]) or texts.get(current_language()) or texts["en"]
    return text.format(**values)


def message(key: str, language: str, **values: object) -> str:
    return localise(MESSAGES, key, language, **values)


#: an interview's status and outcome as the store keeps them, in words of the interface (one home for the
#: screens and the core's refusals)
STATUS_WORDS = {
    "in_progress": N_("in progress"),
    "suspended": N_("suspended"),
    "completed": N_("completed"),
    "terminated": N_("terminated"),
}
OUTCOME_WORDS = {
    "complete": N_("complete"),
    "break_off": N_("break off"),
    "screened_out": N_("screened out"),
    "quota_full": N_("quota full"),
}


def status_word(status: str) -> str:
    """An interview status in the interface language; one the table does not know, as plain words."""
    return worded(STATUS_WORDS, status)


def outcome_word(outcome: str | None) -> str:
    """An interview outcome in the interface language, "—" for none."""
    if not outcome:
        return "—"
    return worded(OUTCOME_WORDS, outcome)
