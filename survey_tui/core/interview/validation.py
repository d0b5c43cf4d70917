"""Turn what an interviewer typed into a valid answer, or say in their language what is wrong.

Both renderers (the Textual form and the plain prompts) hand raw input here, so a rule is enforced
identically wherever an answer comes from. Nothing here touches the store: a rejected answer
changes nothing.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from survey_tui.core.instrument.model import Question, label_text
from survey_tui.core.interview.answers import Answer, AnswerScope
from survey_tui.core.interview.messages import message
from survey_tui.i18n import _

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
#: digits with optional thousands separators in the right places (1,200 yes; 1,5 no) and decimals
_NUMBER = re.compile(r"[-+]?(\d{1,3}(,\d{3})+|\d+)(\.\d*)?|[-+]?\.\d+")


@dataclass(frozen=True)
class Rejection:
    """Why an answer was refused; the renderer shows `message` and keeps the cursor on `field`."""

    message: str
    field: str | None = None  # a grid item name, when one row is at fault


class Invalid(Exception):
    def __init__(self, rejection: Rejection) -> None:
        super().__init__(rejection.message)
        self.rejection = rejection


def _normalise(text: str) -> str:
    """Full-width digits and punctuation from a CJK input method become ASCII."""
    return unicodedata.normalize("NFKC", text).strip()


def _code(question: Question, raw: Any, language: str) -> int:
    codes = [c.code for c in question.choice_options]
    try:
        value = int(_normalise(raw)) if isinstance(raw, str) else int(raw)
        if isinstance(raw, float) and raw != int(raw):
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        value = None
    if value is None or value not in codes:
        raise Invalid(Rejection(message(language=language, key="not_a_code", value=raw, codes=_code_range(codes))))
    return value


def _code_range(codes: list[int]) -> str:
    if codes and codes == list(range(codes[0], codes[0] + len(codes))) and len(codes) > 2:
        return f"{codes[0]}-{codes[-1]}"
    return ", ".join(str(c) for c in codes)


def _empty(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip()) or raw in ([], {})


def parse_answer(question: Question, raw: Any, language: str) -> Any:
    """The typed value for `raw`, or None for no answer; raises Invalid with a message."""
    qtype = question.type
    if qtype == "note" or qtype == "calculate":
        return None
    if _empty(raw):
        return None
    if qtype in ("single", "scale"):
        return _code(question, raw, language)
    if qtype == "multi":
        items = raw if isinstance(raw, list | tuple | set) else re.split(r"[\s,，、]+", _normalise(str(raw)))
        codes = sorted({_code(question, item, language) for item in items if not _empty(item)})
        exclusive = [c for c in question.choice_options if c.exclusive and c.code in codes]
        if exclusive and len(codes) > 1:
            label = label_text(exclusive[0].label, language)
            raise Invalid(Rejection(message("exclusive", language, label=label)))
        if question.max_selected is not None and len(codes) > question.max_selected:
            raise Invalid(Rejection(message("too_many_selected", language, max=question.max_selected)))
        return codes or None
    if qtype == "grid":
        if not isinstance(raw, dict):
            raise Invalid(Rejection(message("not_a_code", language, value=raw, codes="")))
        result: dict[str, int] = {}
        for item in question.items or []:
            if not _empty(raw.get(item.name)):
                try:
                    result[item.name] = _code(question, raw[item.name], language)
                except Invalid as exc:
                    raise Invalid(Rejection(exc.rejection.message, field=item.name)) from None
        return result or None
    if qtype == "numeric":
        return _number(question, raw, language)
    if qtype == "text":
        text = str(raw).replace("\r\n", "\n")  # pasted from Windows
        if _CONTROL.search(text):
            raise Invalid(Rejection(message("control_chars", language)))
        text = text.strip()
        if len(text) > question.max_length:
            raise Invalid(Rejection(message("too_long", language, max=question.max_length, length=len(text))))
        return text or None
    if qtype == "date":
        return _date_in_bounds(question, _date(raw, language), language)
    raise Invalid(Rejection(_("unsupported question type {type}").format(type=qtype)))


def _number(question: Question, raw: Any, language: str) -> int | float:
    if isinstance(raw, bool):
        raise Invalid(Rejection(message("not_a_number", language, value=raw)))
    if isinstance(raw, int | float):
        if isinstance(raw, float) and not math.isfinite(raw):
            raise Invalid(Rejection(message("not_a_number", language, value=raw)))
        number: float = raw
    else:
        text = _normalise(str(raw))
        if _CONTROL.search(text) or not _NUMBER.fullmatch(text):
            raise Invalid(Rejection(message("not_a_number", language, value=str(raw)[:40])))
        text = text.replace(",", "")
        if len(text.lstrip("+-").replace(".", "").lstrip("0")) > 15:  # beyond what a double keeps exactly
            raise Invalid(Rejection(message("too_large", language)))
        number = float(text)
    if abs(number) >= 1e15:
        raise Invalid(Rejection(message("too_large", language)))
    if question.decimals == 0:
        if number != int(number):
            raise Invalid(Rejection(message("not_integer", language)))
        number = int(number)
    elif round(number, question.decimals) != number:
        raise Invalid(Rejection(message("too_many_decimals", language, decimals=question.decimals)))
    if question.min is not None and number < question.min:
        raise Invalid(Rejection(message("below_min", language, min=f"{question.min:g}")))
    if question.max is not None and number > question.max:
        raise Invalid(Rejection(message("above_max", language, max=f"{question.max:g}")))
    return number


DEFAULT_EARLIEST = date(1900, 1, 1)
DEFAULT_LATEST = date(2100, 12, 31)
#: names and labels that ask for a birth date: such a date cannot lie in the future
_BIRTH = re.compile(r"birth|dob|生日|出生", re.IGNORECASE)


def date_bounds(question: Question, today: date | None = None) -> tuple[date, date]:
    """The accepted range of a date question: its own min_date/max_date, else plausible defaults."""
    today = today or date.today()

    def resolve(bound: str | None, default: date) -> date:
        return default if bound is None else today if bound == "today" else date.fromisoformat(bound)

    texts = " ".join([question.name, *question.label.values()])
    latest_default = min(today, DEFAULT_LATEST) if _BIRTH.search(texts) else DEFAULT_LATEST
    return resolve(question.min_date, DEFAULT_EARLIEST), resolve(question.max_date, latest_default)


def _date_in_bounds(question: Question, iso: str, language: str) -> str:
    earliest, latest = date_bounds(question)
    value = date.fromisoformat(iso)
    if value < earliest:
        raise Invalid(Rejection(message("below_min", language, min=earliest.isoformat())))
    if value > latest:
        raise Invalid(Rejection(message("above_max", language, max=latest.isoformat())))
    return iso


def _date(raw: Any, language: str) -> str:
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    match = _DATE.match(_normalise(str(raw)))
    try:
        if not match:
            raise ValueError
        return date(int(match[1]), int(match[2]), int(match[3])).isoformat()
    except ValueError:
        raise Invalid(Rejection(message("not_a_date", language, value=str(raw)[:40]))) from None


def validate(
    question: Question, raw: Any, scope: AnswerScope, language: str, fallback: str | None = None
) -> Answer | None:
    """A valid Answer, None for a permitted blank, or Invalid with the message to show."""
    value = parse_answer(question, raw, language)
    if value is None:
        if question.is_required and question.answerable:
            raise Invalid(Rejection(message("required", language)))
        return None
    if question.type == "grid" and question.is_required:
        missing = [item for item in question.items or [] if item.name not in value]
        if missing:
            names = "、".join(label_text(i.label, language, fallback) for i in missing[:3])
            raise Invalid(Rejection(message("grid_missing", language, items=names), field=missing[0].name))
    allowed = question.choice_filter_expr
    if allowed is not None and question.type in ("single", "multi", "scale"):
        codes = value if isinstance(value, list) else [value]
        ruled_out = [c for c in codes if not allowed.evaluate_bool(scope, self_value=c)]
        if ruled_out:  # an earlier answer rules the choice out (choice_filter)
            raise Invalid(Rejection(message("filtered_out", language, value=ruled_out[0])))
    expr = question.constraint_expr
    if expr is not None:
        scope = AnswerScope(scope.instrument, {**scope.answers, question.name: Answer(value=value)})
    if expr is not None and not expr.evaluate_bool(scope, self_value=value):
        text = label_text(question.constraint_message, language, fallback) or message("constraint", language)
        raise Invalid(Rejection(text))
    return Answer(value=value)


def special_answer(question: Question, special: str, language: str) -> Answer:
    if special not in question.specials:
        raise Invalid(Rejection(message("no_special", language, special=special.replace("_", " "))))
    return Answer(special=special)
